package horde

import "sync/atomic"

// Stats counts what the horde has done since the process started: requests
// and jobs by how they ended, and the kudos their jobs moved. The counters
// only grow (they are not persisted), which is what a metrics scraper wants;
// for the queue as it is now, see Performance.
type Stats struct {
	Image KindStats
	Text  KindStats
}

// KindStats are the counters of one request kind.
type KindStats struct {
	RequestsSubmitted int64 // accepted and queued (not dry runs, not refused)
	RequestsDone      int64 // every item done
	RequestsFaulted   int64 // too many faulted jobs, or expired
	RequestsCancelled int64 // cancelled by the requester
	JobsPopped        int64 // handed to a worker (stored before acknowledged)
	JobsDone          int64 // result accepted
	JobsFaulted       int64 // the worker said faulted; the item went back to the queue
	JobsAborted       int64 // past its TTL or its worker deleted; the item went back to the queue
	KudosRewarded     int64 // earned by worker owners (paid or held in escrow)
	KudosCharged      int64 // paid by requesters
}

// Stats returns a snapshot of the counters. It takes no lock and is cheap
// enough to call on every metrics scrape.
func (h *Horde) Stats() Stats {
	return Stats{Image: h.stats.image.snapshot(), Text: h.stats.text.snapshot()}
}

// counters are the live Stats, updated atomically.
type counters struct {
	image, text kindCounters
}

// of returns the counters of a kind (text for anything not an image).
func (c *counters) of(kind RequestKind) *kindCounters {
	if kind == KindImage {
		return &c.image
	}
	return &c.text
}

type kindCounters struct {
	requestsSubmitted, requestsDone, requestsFaulted, requestsCancelled atomic.Int64
	jobsPopped, jobsDone, jobsFaulted, jobsAborted                      atomic.Int64
	kudosRewarded, kudosCharged                                         atomic.Int64
}

// requestEnded counts a request that reached a final state.
func (k *kindCounters) requestEnded(state RequestState) {
	switch state {
	case RequestDone:
		k.requestsDone.Add(1)
	case RequestFaulted:
		k.requestsFaulted.Add(1)
	case RequestCancelled:
		k.requestsCancelled.Add(1)
	}
}

// jobFailed counts a job that ended without a result.
func (k *kindCounters) jobFailed(state JobState) {
	switch state {
	case JobFaulted:
		k.jobsFaulted.Add(1)
	case JobAborted:
		k.jobsAborted.Add(1)
	}
}

func (k *kindCounters) snapshot() KindStats {
	return KindStats{
		RequestsSubmitted: k.requestsSubmitted.Load(),
		RequestsDone:      k.requestsDone.Load(),
		RequestsFaulted:   k.requestsFaulted.Load(),
		RequestsCancelled: k.requestsCancelled.Load(),
		JobsPopped:        k.jobsPopped.Load(),
		JobsDone:          k.jobsDone.Load(),
		JobsFaulted:       k.jobsFaulted.Load(),
		JobsAborted:       k.jobsAborted.Load(),
		KudosRewarded:     k.kudosRewarded.Load(),
		KudosCharged:      k.kudosCharged.Load(),
	}
}

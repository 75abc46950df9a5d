package horde

import (
	"iter"
	"maps"
	"math"
	"sort"
	"time"
)

// Queue position and wait time.
//
// A request's queue position is the number of waiting requests ahead of it
// that compete for the same workers: for a request naming model m, those
// ahead of it in the m bucket plus those ahead of it in the no-model bucket
// (which every worker serves); for a request naming no model, those ahead of
// it in the no-model bucket. A request naming several models takes its best
// bucket. Only requests some online worker could take count (canServe
// against every online worker, as is_possible): a request of a size, an
// nsfw flag or a model no online worker has is not ahead of anyone, and has
// no wait time of its own (the check's is_possible is false). Its wait time
// is the work queued ahead of it plus its own, over the throughput of the
// online workers offering the model.
//
// Ranks need an ordered walk of every bucket, so they are computed for all
// waiting requests at once into an etaTable, at most every etaMaxAge (and
// in every Sweep), from copy-on-write clones of the trees taken under the
// lock and walked outside it, with copies of the online workers. Positions
// are approximate by design: a request counts ahead when any online worker
// could take it, not necessarily one that could take the request behind,
// and they count requests, not items.
//
// is_possible, as the AI Horde's wp_has_valid_workers: a request is
// possible while one of its jobs is processing, and otherwise when at least
// one online worker (not paused; in maintenance only for its owner) could
// serve it, ignoring how busy they are. With no worker online it is not
// possible (the request still waits: a worker may come), and Submit warns
// that no worker is online.

// etaMaxAge is how stale the ETA table may be when a check reads it.
const etaMaxAge = 2 * time.Second

// etaMissingRefresh is the youngest a table may be refreshed at for a
// request it does not know yet (submitted after it was built).
const etaMissingRefresh = 250 * time.Millisecond

// possibleMaxAge is how long a request's is_possible answer is reused.
const possibleMaxAge = 10 * time.Second

// Throughput assumed for a worker that has not finished a job yet.
const (
	DefaultImagePerformance = 0.5  // megapixel-steps per second per thread
	DefaultTextPerformance  = 10.0 // tokens per second per thread
)

// etaTable is the queue position and wait of every waiting request.
type etaTable struct {
	at    time.Time
	byReq map[*openRequest]etaEntry
}

type etaEntry struct {
	pos  int
	wait int // seconds; -1 when no online worker offers the model
}

// throughput is a worker's expected work per second over all its threads.
func throughput(w *Worker) float64 {
	perf := w.Performance
	if perf <= 0 {
		perf = DefaultImagePerformance
		if w.Kind == KindText {
			perf = DefaultTextPerformance
		}
	}
	return perf * float64(max(w.Threads, 1))
}

// queueEstimate returns the queue position and wait time of a waiting request.
func (h *Horde) queueEstimate(r *openRequest, now time.Time) (int, int) {
	t := h.eta.Load()
	if t == nil || now.Sub(t.at) > etaMaxAge {
		h.refreshETA(now)
		t = h.eta.Load()
	}
	e, ok := t.byReq[r]
	if !ok && now.Sub(t.at) >= etaMissingRefresh {
		h.refreshETA(now)
		t = h.eta.Load()
		e, ok = t.byReq[r]
	}
	if !ok {
		return 0, 0
	}
	return e.pos, max(e.wait, 0)
}

// processingWait estimates the seconds until r's processing jobs finish
// (0 when none is processing). Caller holds h.mu.
func (h *Horde) processingWait(r *openRequest, now time.Time) int {
	longest := 0.0
	for _, oj := range r.jobs {
		ws := h.workers[oj.job.WorkerID]
		if ws == nil {
			continue
		}
		perf := throughput(&ws.w) / float64(max(ws.w.Threads, 1))
		left := r.itemWork/perf - now.Sub(oj.job.StartedAt).Seconds()
		longest = math.Max(longest, left)
	}
	return int(math.Ceil(longest))
}

// refreshETA rebuilds the ETA table as of now. One refresh runs at a time;
// a caller that finds a table at least as new as now returns at once.
func (h *Horde) refreshETA(now time.Time) {
	h.etaMu.Lock()
	defer h.etaMu.Unlock()
	if t := h.eta.Load(); t != nil && !t.at.Before(now) {
		return
	}

	h.mu.Lock()
	walks := make(map[bucketKey]etaBucket, len(h.q.buckets))
	for k, b := range h.q.buckets {
		if b.tree.Len() > 0 {
			t := b.tree.Clone()
			walks[k] = etaBucket{walk: func(yield func(qentry) bool) { t.Ascend(yield) }, n: t.Len()}
		}
	}
	h.etaRound++
	pool := newServerPool(h.etaRound)
	tp := pool.addOnline(maps.Values(h.workers), now)
	h.mu.Unlock()

	// Outside the lock: the clones and the worker copies are private, and
	// the entries' requests are read only for their immutable fields.
	h.eta.Store(&etaTable{at: now, byReq: rankETA(walks, pool, tp)})
}

// etaBucket is one bucket as an ETA refresh walks it: its entries in
// priority order, and how many there are.
type etaBucket struct {
	walk func(yield func(qentry) bool)
	n    int
}

// etaThroughput is the online throughput an ETA refresh divides by: per
// model bucket, and per kind (every worker of the kind serves the no-model
// bucket).
type etaThroughput struct {
	perModel map[bucketKey]float64
	perKind  map[RequestKind]float64
}

// of is the throughput serving bucket key.
func (t etaThroughput) of(key bucketKey) float64 {
	if key.model == "" {
		return t.perKind[key.kind]
	}
	return t.perModel[key]
}

// addOnline copies the online workers (not paused) of workers into the pool
// and sums their throughput; a worker in maintenance serves only its
// owner, so it adds none. Caller holds h.mu for workers of the Horde's own.
func (p *serverPool) addOnline(workers iter.Seq[*workerState], now time.Time) etaThroughput {
	t := etaThroughput{perModel: make(map[bucketKey]float64), perKind: make(map[RequestKind]float64)}
	for ws := range workers {
		w := &ws.w
		if !w.Online(now) || w.Paused {
			continue
		}
		p.add(ws)
		if w.Maintenance {
			continue // serves only its owner: no throughput for the queue
		}
		tp := throughput(w)
		t.perKind[w.Kind] += tp
		for _, m := range w.Models {
			t.perModel[bucketKey{kind: w.Kind, model: m}] += tp
		}
	}
	return t
}

// rankETA is the ETA arithmetic, the same in both queues: the position and
// wait of every request of the buckets walks gives (each walk in priority
// order), against the online workers of pool and their throughput tp.
// Calls to it share pool's round with no other (under etaMu).
func rankETA(walks map[bucketKey]etaBucket, pool *serverPool, tp etaThroughput) map[*openRequest]etaEntry {
	queues := make(map[bucketKey]*rankedQueue, len(walks))
	for key, b := range walks {
		queues[key] = newRankedQueue(b, pool.serves)
	}
	// A no-model request competes with the no-model queue and with the
	// queue of whichever model's workers reach it first: take the best of
	// the models with the most online throughput.
	rivals := make(map[RequestKind][]*rankedQueue)
	for k, top := range topModels(tp.perModel, etaRivalModels) {
		for _, key := range top {
			if q := queues[key]; q != nil {
				rivals[k] = append(rivals[k], q)
			}
		}
	}

	out := make(map[*openRequest]etaEntry)
	for key, q := range queues {
		anyQ := queues[bucketKey{kind: key.kind}]
		tput := tp.of(key)
		for _, e := range q.all {
			pos, work := q.ahead(e)
			if key.model != "" {
				if anyQ != nil {
					n, w := anyQ.ahead(e)
					pos, work = pos+n, work+w
				}
			} else {
				best, bestWork := -1, 0.0
				for _, rq := range rivals[key.kind] {
					if n, w := rq.ahead(e); best < 0 || n < best {
						best, bestWork = n, w
					}
				}
				if best > 0 {
					pos, work = pos+best, work+bestWork
				}
			}
			own := e.r.itemWork * float64(e.r.req.N)
			wait := -1
			if tput > 0 && pool.serves(e.r) {
				wait = int(math.Ceil((work + own) / tput))
			}
			prev, seen := out[e.r]
			if !seen {
				out[e.r] = etaEntry{pos: pos, wait: wait}
				continue
			}
			prev.pos = min(prev.pos, pos)
			if prev.wait < 0 || (wait >= 0 && wait < prev.wait) {
				prev.wait = wait
			}
			out[e.r] = prev
		}
	}
	return out
}

// serverPool is the online workers as one ETA refresh sees them: copies
// taken under the lock and read outside it, indexed by the buckets they
// serve, with the largest of each bucket's limits to turn most requests no
// worker can take away without trying every worker.
type serverPool struct {
	byModel map[bucketKey][]*workerState // workers offering the model
	byKind  map[RequestKind][]*workerState
	reach   map[bucketKey]*reach // per model bucket, and per kind at model ""
	round   uint64               // this refresh: the answers cached on the requests
}

// reach is the most any worker of a bucket can take.
type reach struct {
	maxPixels, maxLength, maxContext int
	nsfw                             bool
}

func newServerPool(round uint64) *serverPool {
	return &serverPool{
		byModel: make(map[bucketKey][]*workerState), byKind: make(map[RequestKind][]*workerState),
		reach: make(map[bucketKey]*reach), round: round,
	}
}

// add copies an online worker into the pool. Caller holds h.mu.
func (p *serverPool) add(ws *workerState) {
	c := *ws // the slices it shares are replaced, never changed in place
	w := &c.w
	p.byKind[w.Kind] = append(p.byKind[w.Kind], &c)
	p.widen(bucketKey{kind: w.Kind}, w)
	for _, m := range w.Models {
		k := bucketKey{kind: w.Kind, model: m}
		p.byModel[k] = append(p.byModel[k], &c)
		p.widen(k, w)
	}
}

func (p *serverPool) widen(k bucketKey, w *Worker) {
	r := p.reach[k]
	if r == nil {
		r = &reach{}
		p.reach[k] = r
	}
	r.maxPixels = max(r.maxPixels, w.MaxPixels)
	r.maxLength = max(r.maxLength, w.MaxLength)
	r.maxContext = max(r.maxContext, w.MaxContextLength)
	r.nsfw = r.nsfw || w.NSFW
}

// within reports whether some worker of bucket k might take req.
func (p *serverPool) within(k bucketKey, req *Request) bool {
	r := p.reach[k]
	switch {
	case r == nil, req.NSFW && !r.nsfw:
		return false
	case req.Image != nil:
		return req.Image.Pixels() <= r.maxPixels
	case req.Text != nil:
		return req.Text.MaxLength <= r.maxLength && req.Text.MaxContextLength <= r.maxContext
	}
	return true
}

// serves reports whether some worker of the pool could take r (canServe,
// and a worker in maintenance only its owner's), remembering the answer on
// r for this refresh (only refreshes, one at a time under etaMu, touch it).
func (p *serverPool) serves(r *openRequest) bool {
	if r.etaRound != uint32(p.round) {
		r.etaRound, r.etaServable = uint32(p.round), p.find(r)
	}
	return r.etaServable
}

func (p *serverPool) find(r *openRequest) bool {
	try := func(ws []*workerState) bool {
		for _, w := range ws {
			if w.w.Maintenance && w.w.OwnerID != r.req.UserID {
				continue
			}
			if canServe(w, r) == canServeOK {
				return true
			}
		}
		return false
	}
	if len(r.req.Models) == 0 {
		k := bucketKey{kind: r.req.Kind}
		return p.within(k, &r.req) && try(p.byKind[r.req.Kind])
	}
	for _, m := range r.req.Models {
		k := bucketKey{kind: r.req.Kind, model: m}
		if p.within(k, &r.req) && try(p.byModel[k]) {
			return true
		}
	}
	return false
}

// etaRivalModels is how many models' queues a no-model request's position
// is compared against (those with the most online throughput).
const etaRivalModels = 8

// rankedQueue is one bucket flattened in priority order: all its entries,
// and those some online worker could take (counted), with the work queued
// ahead of each of those.
type rankedQueue struct {
	all  []qentry
	keys []qentry  // the entries of all that counts
	work []float64 // work[i]: the work of keys[:i]
}

func newRankedQueue(b etaBucket, counts func(*openRequest) bool) *rankedQueue {
	q := &rankedQueue{all: make([]qentry, 0, b.n), work: make([]float64, 1, b.n+1)}
	b.walk(func(e qentry) bool {
		q.all = append(q.all, e)
		if counts(e.r) {
			q.keys = append(q.keys, e)
			q.work = append(q.work, q.work[len(q.work)-1]+e.r.itemWork*float64(e.r.req.N))
		}
		return true
	})
	return q
}

// ahead returns how many counted entries of q, and how much work, come before e.
func (q *rankedQueue) ahead(e qentry) (int, float64) {
	i := sort.Search(len(q.keys), func(i int) bool { return !qless(q.keys[i], e) })
	return i, q.work[i]
}

// topModels returns, per kind, the n model buckets with the most throughput.
func topModels(perModel map[bucketKey]float64, n int) map[RequestKind][]bucketKey {
	byKind := make(map[RequestKind][]bucketKey)
	for k := range perModel {
		byKind[k.kind] = append(byKind[k.kind], k)
	}
	for kind, keys := range byKind {
		sort.Slice(keys, func(i, j int) bool {
			if perModel[keys[i]] != perModel[keys[j]] {
				return perModel[keys[i]] > perModel[keys[j]]
			}
			return keys[i].model < keys[j].model
		})
		if len(keys) > n {
			byKind[kind] = keys[:n]
		}
	}
	return byKind
}

// possible reports whether some online worker could serve r, caching the
// answer for possibleMaxAge. Caller holds h.mu.
func (h *Horde) possible(r *openRequest, now time.Time) bool {
	if r.processing > 0 {
		return true
	}
	if r.possibleAt != 0 && now.Sub(time.Unix(0, r.possibleAt)) < possibleMaxAge {
		return r.possible
	}
	r.possible, _, _ = servable(maps.Values(h.workers), r, now)
	r.possibleAt = now.UnixNano()
	return r.possible
}

// servable reports whether some online worker could serve r, whether any
// worker of r's kind is online, and, when none could serve it, the most
// common reason (or "" when no worker of r's kind is online).
// The workers are the Horde's own (caller holds h.mu) or a shared queue's
// (sharedWorkers).
func servable(workers iter.Seq[*workerState], r *openRequest, now time.Time) (bool, bool, string) {
	online := false
	reasons := make(map[string]int)
	for ws := range workers {
		w := &ws.w
		if w.Kind != r.req.Kind || !w.Online(now) || w.Paused {
			continue
		}
		online = true
		if w.Maintenance && w.OwnerID != r.req.UserID {
			reasons["maintenance"]++
			continue
		}
		reason := canServe(ws, r)
		if reason == canServeOK {
			return true, true, ""
		}
		reasons[reason.String()]++
	}
	if !online {
		return false, false, ""
	}
	top, n := "", 0
	for k, c := range reasons {
		if c > n || (c == n && k < top) {
			top, n = k, c
		}
	}
	return false, true, top
}

// Submit's warnings when no online worker can serve a request now. A
// warning starting with one of them is the AI Horde's NoAvailableWorker
// (the API reports it with that code).
const (
	WarningNoWorkerOnline   = "no worker is online right now; the request waits until one comes"
	WarningNoWorkerCanServe = "no online worker can serve this request now"
)

// possibleWarning explains, for Submit, why no online worker can serve r
// ("" when one can), among workers (the Horde's own, or on a shared
// queue those of sharedWorkers). Caller holds h.mu.
func (h *Horde) possibleWarning(workers iter.Seq[*workerState], r *openRequest, now time.Time) string {
	ok, online, reason := servable(workers, r, now)
	r.possible, r.possibleAt = ok, now.UnixNano()
	switch {
	case !online:
		return WarningNoWorkerOnline
	case ok:
		return ""
	}
	return WarningNoWorkerCanServe + " (" + reason + "); it waits until one can"
}

package horde

import "time"

// QueueEstimates are a shared queue's queue positions, waits and queue
// counts as of At: computed by one process (the holder of the "sweeps"
// lease, in SweepShared) from the database with the same arithmetic as the
// in-memory queue's ETA table (eta.go), stored, and read by every process
// (each caches them for etaMaxAge).
type QueueEstimates struct {
	At time.Time
	// Requests are the waiting requests' estimates, by request id.
	Requests map[string]QueueEstimate
	// Totals are the waiting items and work of each kind (Model ""), each
	// item counted once; Buckets those of each (kind, model) bucket of a
	// named model (a request naming several models counts in each).
	Totals  []QueuedWork
	Buckets []QueuedWork
	// PastMinute is the work of each kind (Model "") finished in the
	// minute before At, Items its results.
	PastMinute []QueuedWork
	// Forms are the waiting alchemy forms (/status/performance's
	// queued_forms).
	Forms int
}

// QueueEstimate is one waiting request's place in the queue.
type QueueEstimate struct {
	Position int // requests ahead that an online worker could take
	Wait     int // seconds; -1 when no online worker offers its model
}

// QueuedWork is an amount of requested work: items, and their
// megapixel-steps (image) or tokens (text).
type QueuedWork struct {
	Kind  RequestKind
	Model string
	Items int
	Work  float64
}

// QueueEntry is one request's entry in a bucket of a shared queue, as
// SharedQueue.Waiting lists them, with the request's waiting items.
type QueueEntry struct {
	RequestID string
	Kind      RequestKind
	Model     string // "" for a request naming no model
	Waiting   int
}

// totalOf returns the work of kind (and model) in ws, zero if none.
func totalOf(ws []QueuedWork, kind RequestKind, model string) QueuedWork {
	for _, w := range ws {
		if w.Kind == kind && w.Model == model {
			return w
		}
	}
	return QueuedWork{Kind: kind, Model: model}
}

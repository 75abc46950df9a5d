package horde

import (
	"slices"
	"time"
)

// StaleAfter is how long a worker may go without popping before it counts as offline.
const StaleAfter = 300 * time.Second

// Worker is a volunteer's machine that pops jobs. Its capabilities are
// refreshed from every pop request.
type Worker struct {
	ID      string // uuid
	Name    string // unique across the horde
	OwnerID int64
	Kind    RequestKind // image or text
	Info    string

	// Capabilities, as the worker last announced them on pop.
	Models              []string
	MaxPixels           int // width*height; image workers
	NSFW                bool
	Blacklist           []string // words: a prompt containing one is skipped
	AllowImg2Img        bool
	AllowPainting       bool
	AllowPostProcessing bool
	AllowLora           bool
	MaxLength           int // text workers: the longest generation
	MaxContextLength    int // text workers: the longest context
	Threads             int
	BridgeAgent         string

	// State.
	Maintenance bool // serves only its owner's requests
	Paused      bool // set by moderators: gets no real jobs and earns nothing
	Trusted     bool // copied from its owner when loaded
	LastPop     time.Time
	CreatedAt   time.Time

	// Counters.
	Fulfilled     int64 // jobs done
	Dropped       int64 // jobs aborted by TTL or faulted by the worker
	KudosEarned   int64 // generation rewards
	UptimeSeconds int64
	Performance   float64 // recent throughput: megapixel-steps/s (image) or tokens/s (text)
}

// Online reports whether w popped within StaleAfter of now.
func (w *Worker) Online(now time.Time) bool {
	return !w.LastPop.IsZero() && now.Sub(w.LastPop) < StaleAfter
}

// HasModel reports whether w announced model m.
func (w *Worker) HasModel(m string) bool {
	return slices.Contains(w.Models, m)
}

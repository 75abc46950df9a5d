package horde

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// openRequest is the in-memory state of an unfinished request. The fields in
// the first group never change after the request is indexed, so the ETA
// refresh may read them from cloned trees without the lock; every other field
// is guarded by Horde.mu.
//
// A hundred thousand of these may wait at once, so the struct is kept within
// a 480-byte size class (the booleans together, times as unix nanoseconds,
// the score computed from the request), the jobs map is made by the first
// pop, and the strings, lists and image parameters that many requests
// repeat are shared (intern.go).
type openRequest struct {
	// Immutable once indexed.
	req      Request     // Image may be shared with other requests: see seedShared
	seq      uint64      // FIFO order among equal scores
	buckets  []bucketKey // the (kind, model) buckets the request sits in
	positive string      // the positive prompt (before "###"); lower-cased unless positiveASCII
	itemCost int64       // kudos per item
	itemWork float64     // megapixel-steps (image) or tokens (text) per item
	ttl      time.Duration
	seedBase int64
	// steps is the image request's accurate steps (accurateSteps);
	// modelSteps the lowest average steps of its models (stepLimit).
	steps      float32
	modelSteps float32

	// finishMu serialises the writes that end jobs or the request (submit,
	// fault, abort, cancel, expiry), so that "is this the last item?" and
	// "is this one fault too many?" are decided on settled counts. Lock it
	// before Horde.mu, never while holding Horde.mu.
	finishMu sync.Mutex

	// Guarded by Horde.mu.
	state      RequestState
	faults     int
	starting   int // pops of this request whose store writes are in flight
	items      []ItemState
	waiting    int
	processing int
	done       int
	restarted  int
	activity   int64 // unix nanoseconds of creation or of the last pop: the expiry clock
	jobs       map[string]*openJob
	possibleAt int64 // unix nanoseconds of when possible was last computed; 0: never

	queued   bool // in the queue trees
	ending   bool // a cancel or an expiry is being written
	possible bool
	// stylePaid says the request's style fee (Request.StyleOwnerID) is
	// paid, so that later items do not carry its entries again.
	stylePaid bool

	// positiveASCII (immutable) says positive is ASCII and kept as the
	// prompt has it, matched without regard to case instead of lower-cased
	// into a second copy of the prompt.
	positiveASCII bool
	// seedShared (immutable) says req.Image is shared with the requests of
	// the same parameters (intern.go) and holds no seed: the request's is
	// seedBase, in decimal.
	seedShared bool
	// Guarded by Horde.etaMu: whether an online worker could take the
	// request, as of ETA refresh etaRound (its low 32 bits).
	etaServable bool
	etaRound    uint32
}

// setPositive sets the positive prompt matched against worker blacklists:
// an ASCII prompt shares the request's bytes, any other is lower-cased.
func (r *openRequest) setPositive(prompt string) {
	p := aihorde.PositivePrompt(prompt)
	r.positiveASCII = isASCII(p)
	if r.positiveASCII {
		r.positive = p
	} else {
		r.positive = strings.ToLower(p)
	}
}

// mentions reports whether the positive prompt, lower-cased, contains word
// (which is lower-case): strings.Contains(strings.ToLower(positive), word).
func (r *openRequest) mentions(word string) bool {
	if !r.positiveASCII {
		return strings.Contains(r.positive, word)
	}
	return containsLowerASCII(r.positive, word)
}

// containsLowerASCII reports whether the ASCII string s, lower-cased,
// contains word. For ASCII s, lower-casing maps only A-Z, so a word with a
// byte outside ASCII never matches, as it would not in strings.ToLower(s).
func containsLowerASCII(s, word string) bool {
	n := len(word)
	if n == 0 {
		return true
	}
	first := word[0]
	for i := 0; i+n <= len(s); i++ {
		if lowerASCII(s[i]) != first {
			continue
		}
		k := 1
		for k < n && lowerASCII(s[i+k]) == word[k] {
			k++
		}
		if k == n {
			return true
		}
	}
	return false
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// addJob records a processing job of the request.
func (r *openRequest) addJob(oj *openJob) {
	if r.jobs == nil {
		r.jobs = make(map[string]*openJob, 1)
	}
	r.jobs[oj.job.ID] = oj
}

// view returns a copy of the request with its current state, sharing no
// memory with the horde's, so callers may keep or change it freely.
// Caller holds Horde.mu.
func (r *openRequest) view() Request {
	v := copyRequest(r.req, r.state, r.faults)
	if r.seedShared {
		v.Image.Seed = strconv.FormatInt(r.seedBase, 10)
	}
	return v
}

func copyRequest(req Request, state RequestState, faults int) Request {
	req.State, req.Faults = state, faults
	if req.Image != nil {
		p := *req.Image
		p.PostProcessing = slices.Clone(p.PostProcessing)
		p.Loras = slices.Clone(p.Loras)
		req.Image = &p
	}
	if req.Text != nil {
		p := *req.Text
		p.StopSequence = slices.Clone(p.StopSequence)
		req.Text = &p
	}
	req.Models = slices.Clone(req.Models)
	req.Workers = slices.Clone(req.Workers)
	return req
}

// score is the request's static priority key: higher is served first.
func (r *openRequest) score() int64 { return priorityScore(r.req.Priority, r.req.CreatedAt) }

// entry is the request's key in the queue trees.
func (r *openRequest) entry() qentry { return qentry{score: r.score(), r: r} }

// openJob is a processing job held in memory until it is submitted, failed,
// aborted or cancelled.
type openJob struct {
	job Job
	r   *openRequest
	// busy is set while a submit or an abort of this job is being written, so
	// that a concurrent second submit is refused instead of racing.
	busy bool
	// pending is the worker's submit of generation "R2" made before its
	// upload: the job is settled with it when the bytes are in, or faulted
	// at its deadline (r2.go).
	pending *PendingSubmit
	// polled is when the bucket was last asked for this job's direct
	// upload (direct_uploads.go).
	polled time.Time
}

// workerState is a worker and the scheduler's bookkeeping about it.
type workerState struct {
	w          Worker
	blacklist  []string // lower-cased Worker.Blacklist
	dropStreak int      // jobs dropped in a row
	dirty      bool     // changed in memory since last saved
	// announced: a pop changed the capabilities (models, limits, flags)
	// since they were last saved; on a shared queue the pop saves them at
	// once, for the other processes to match against. Counters and speed
	// (dirty alone) wait for the sweep.
	announced bool
	// savedSpeed is the Performance last saved (speedClassChanged).
	savedSpeed float64
	// Announced on every pop and not stored (a worker pops before it gets
	// a job): limit_max_steps with the lowest average steps of the
	// worker's models, and extra_slow_worker.
	limitMaxSteps bool
	stepLimit     float64
	extraSlow     bool
	// maxTiles is an alchemist's max_tiles, announced on every pop.
	maxTiles int
	// validatedBackend caches IsValidatedBackend(w.BridgeAgent).
	validatedBackend bool
	savedAt          time.Time
	// touched is the last pop recorded in the store (TouchWorkers), on a
	// shared queue.
	touched    time.Time
	uptimePaid int64 // 10-minute uptime slots already paid
	uptimeRem  int64 // online nanoseconds not yet counted in Worker.UptimeSeconds
	// lastFinished is when the worker last finished a job with an ok result
	// (since this process started): uptime pays only a worker that did
	// within the last reward window.
	lastFinished time.Time
}

// uptimeSlot is the online time, in seconds, that earns one uptime bonus.
const uptimeSlot = 600

// setBlacklist sets the worker's blacklist and its lower-cased form. The
// lower-cased list is a new slice, never changed after: the ETA refresh
// reads copies of workerState outside the lock.
func (ws *workerState) setBlacklist(words []string) {
	ws.w.Blacklist = words
	ws.blacklist = make([]string, 0, len(words))
	for _, b := range words {
		if b = strings.ToLower(strings.TrimSpace(b)); b != "" {
			ws.blacklist = append(ws.blacklist, b)
		}
	}
}

// snapshot returns a copy of the worker that shares no slices with ws.
func (ws *workerState) snapshot() Worker {
	w := ws.w
	w.Models = append([]string(nil), ws.w.Models...)
	w.Blacklist = append([]string(nil), ws.w.Blacklist...)
	return w
}

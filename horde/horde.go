// Package horde is the scheduler: requests, jobs, workers, the priority
// queue, matching, job lifecycle, ETA and queue position. It is pure domain:
// it imports the standard library, kudos and horde/filter, and states what
// it needs from storage as interfaces (store.go) that store/ satisfies.
//
// The prompt filter is package horde/filter, which knows nothing of the
// scheduler: horde states the one method it calls (PromptFilter,
// promptfilter.go) and uses the filter's Context and Verdict types.
//
// Moderation and trust (strikes, workers' reports, flags, suspicion of
// too-fast workers, owners' progress to trust, escrow release) are one type,
// moderator (moderation.go, trust.go), with its own config (Config.Moderation,
// Config.Trust) and store (ModerationStore). That is the seam: Horde's
// moderation methods hand over to it, Submit and a stored result tell it what
// happened, and it reaches back into the scheduler only through
// workerRegistry (workers, a pause, trust and released kudos in memory).
package horde

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hordebot/hordebot/horde/filter"
	"github.com/hordebot/hordebot/kudos"
)

// Defaults for Config's zero values.
const (
	DefaultConcurrency          = 30 // the AI Horde's default for a user
	DefaultAnonymousConcurrency = 10
	DefaultDropsForMaintenance  = 5
	DefaultSweepInterval        = 5 * time.Second
	DefaultPopScanLimit         = 2000
)

// Config tunes the horde. Zero values take the defaults.
type Config struct {
	Clock  Clock
	Logger *slog.Logger
	// Payments are the kudos rules of the scheduler: floors, escrow, uptime
	// bonus, what a finished job charges and pays (kudos.PaymentRules).
	Payments kudos.PaymentRules
	// Concurrency is how many items a member's open requests may have at
	// once (default 30, as on the AI Horde); AnonymousConcurrency the same
	// for the shared anonymous user (default 10).
	Concurrency          int
	AnonymousConcurrency int
	// DropsForMaintenance: a worker that drops this many jobs in a row
	// (TTL aborts or faulted results, with no success between) goes into
	// maintenance.
	DropsForMaintenance int
	// SweepInterval is how often Run sweeps (default 5 s).
	SweepInterval time.Duration
	// PopScanLimit bounds the waiting requests one pop examines (default
	// 2000): a worker that can serve none of the first PopScanLimit
	// candidates gets no job this time, and Skipped says why.
	PopScanLimit int
	// StepLimits, if set, gives a model's min_steps and max_steps from the
	// model reference (ok false for a model it does not know); a worker
	// that pops with limit_max_steps takes no request with more (accurate)
	// steps than their average. Nil, or a model it does not know, uses the
	// AI Horde's defaults for such a model: 20 and 40 (so 30 steps).
	StepLimits func(model string) (minSteps, maxSteps int, ok bool)
	// Models is the model reference, if any: an image request naming one
	// model is priced by that model's baseline (SDXL, Flux... cost more).
	Models *ModelReference
	// Filter checks every prompt before it is queued (see Submit); nil
	// queues prompts unfiltered.
	Filter PromptFilter
	// CheckImage, if set, tells whether an image result is a real image of
	// the size its job asked for (upscaled: a whole multiple of it is fine);
	// a result it refuses is not stored and not paid. cmd wires
	// horde/imagecheck; nil trusts every image (tests of the scheduler).
	CheckImage func(data []byte, width, height int, upscaled bool) error
	// OnRefused, if set, is called by Submit with every prompt the filter
	// refuses and the verdict (its Rule says why; Matched is for moderators),
	// so that the refusal can be counted against the user and logged for
	// moderators. It runs on the request's goroutine and should be quick.
	OnRefused func(ctx context.Context, u User, prompt string, v filter.Verdict)
	// Moderation sets when strikes (csam and censored results, refused
	// prompts) flag a user; Trust sets escrow, automatic trust and the
	// suspicion of too-fast workers (moderation.go, trust.go: the horde's
	// moderator, which the scheduler reaches only through its methods).
	Moderation ModerationConfig
	Trust      TrustConfig
	// OnModeration, if set, hears what the moderators must know: users
	// flagged automatically, CSAM reports, refused prompts, workers paused
	// for suspicion, owners trusted. It is called on the request or submit
	// path and must not block (the bot posts to its audit channel in the
	// background).
	OnModeration func(ctx context.Context, ev ModerationEvent)
	// OnGeneration, if set, hears each finished generation of a request
	// that has a Webhook, with the kudos its worker earned. It is called on
	// the submit path and must not block (horde/api's Webhooks queues it).
	OnGeneration func(ctx context.Context, req Request, g Generation, kudos int64)
	// Uploads, if set, is a bucket that workers PUT their results to
	// through presigned URLs (the pops' r2_upload), as on the AI Horde; nil:
	// they PUT them to this process (direct_uploads.go).
	// DirectUploadLimit bounds such an upload (default
	// DefaultDirectUploadLimit); a larger one is refused and pays nothing.
	Uploads           UploadBucket
	DirectUploadLimit int64
	// ResultLinks, if set, gives clients that ask for links (r2: true)
	// links served by the place the images live, not by this process.
	ResultLinks ResultLinks
	// Queue, if set, is the waiting queue several processes share
	// (PostgreSQL: store.Store.SharedQueue); nil keeps it in this process's
	// memory (SQLite, one process). See SharedQueue.
	Queue SharedQueue
	// Events, if set, hears when requests finish (events.go): on the
	// in-memory queue the Horde publishes what it did, once it is stored;
	// on a shared queue the store announces every change in its own
	// transaction, to every process (LISTEN/NOTIFY), and the Horde
	// publishes nothing itself.
	Events Events
}

func (c Config) withDefaults() Config {
	if c.Clock == nil {
		c.Clock = SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Payments = c.Payments.WithDefaults()
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.AnonymousConcurrency <= 0 {
		c.AnonymousConcurrency = DefaultAnonymousConcurrency
	}
	if c.DropsForMaintenance <= 0 {
		c.DropsForMaintenance = DefaultDropsForMaintenance
	}
	if c.SweepInterval <= 0 {
		c.SweepInterval = DefaultSweepInterval
	}
	if c.DirectUploadLimit <= 0 || c.DirectUploadLimit > MaxUploadBytes {
		c.DirectUploadLimit = DefaultDirectUploadLimit
	}
	if c.PopScanLimit <= 0 {
		c.PopScanLimit = DefaultPopScanLimit
	}
	c.Moderation = c.Moderation.withDefaults()
	c.Trust = c.Trust.withDefaults()
	return c
}

// Horde is the scheduler service. It is safe for concurrent use.
//
// The waiting queue, the processing jobs and the workers live in memory
// under one mutex (mu); every change of state is written to the store before
// it is acknowledged, and New rebuilds the memory from the store. Store
// writes happen outside mu: a pop marks its items taken in memory, writes,
// and rolls the marks back if the write fails.
type Horde struct {
	store Store
	cfg   Config
	pay   kudos.PaymentRules // cfg.Payments
	clock Clock
	log   *slog.Logger

	wmu sync.Mutex // serialises worker saves and deletions, so a save never resurrects a deleted worker

	mu          sync.Mutex
	cond        *sync.Cond // on mu: signalled when a pop's store writes are over
	q           *queueIndex
	reqs        map[string]*openRequest // unfinished requests
	jobs        map[string]*openJob     // processing jobs
	workers     map[string]*workerState // by id
	workerNames map[string]*workerState // by name
	balances    map[int64]int64         // requesters' balances, for require_upfront_kudos
	holds       map[int64]*userHold     // what requesters' open items hold (holds.go)
	limits      map[int64]int           // moderators' concurrency overrides by user (useradmin.go)
	balancesAt  time.Time
	upfrontAt   time.Time // last pop that required upfront kudos
	seq         uint64
	recent      []completion // finished jobs of the past minute
	pendingEnds map[*openRequest]pendingEnd

	etaMu    sync.Mutex // one ETA refresh at a time
	etaRound uint64     // refreshes so far; guarded by etaMu
	eta      atomic.Pointer[etaTable]

	mod *moderator // moderation and trust (moderation.go, trust.go)

	// parsed are the requests a shared-queue pop has matched, by id: their
	// parameters never change (Config.Queue only); guarded by mu.
	parsed map[string]*openRequest

	alch    *alchemyQueue // open interrogations (alchemy_queue.go); guarded by mu
	popMsgs popMessages   // the messages pops carry (worker_messages_cache.go)

	stats counters // what Stats reports (stats.go)

	// On a shared queue (Config.Queue): the stored workers as last read
	// (shared_workers.go), the estimates as last read (shared_eta.go), and
	// the requests of the last ETA refresh this process ran, by id
	// (guarded by etaMu).
	sharedWMu sync.Mutex
	sharedW   atomic.Pointer[sharedWorkerView]
	sharedEMu sync.Mutex
	sharedE   atomic.Pointer[sharedEstimates]
	etaQueued map[string]*openRequest
}

// New loads the open requests and the workers from st and returns a ready horde.
func New(ctx context.Context, st Store, cfg Config) (*Horde, error) {
	if st == nil {
		return nil, errors.New("horde: nil store")
	}
	cfg = cfg.withDefaults()
	h := &Horde{
		store:       st,
		cfg:         cfg,
		pay:         cfg.Payments,
		clock:       cfg.Clock,
		log:         cfg.Logger,
		q:           newQueueIndex(),
		reqs:        make(map[string]*openRequest),
		jobs:        make(map[string]*openJob),
		workers:     make(map[string]*workerState),
		workerNames: make(map[string]*workerState),
		balances:    make(map[int64]int64),
		holds:       make(map[int64]*userHold),
		pendingEnds: make(map[*openRequest]pendingEnd),
		alch:        newAlchemyQueue(),
		parsed:      make(map[string]*openRequest),
		etaQueued:   make(map[string]*openRequest),
	}
	h.cond = sync.NewCond(&h.mu)
	h.mod = newModerator(st, h, cfg)
	h.cfg.OnRefused = h.mod.onRefused(cfg.OnRefused) // refusals are strikes (moderation.go)
	if err := h.loadWorkers(ctx); err != nil {
		return nil, err
	}
	if err := h.loadLimits(ctx); err != nil {
		return nil, err
	}
	if !h.shared() { // a shared queue is read where it lives
		if err := h.loadQueue(ctx); err != nil {
			return nil, err
		}
	}
	if err := h.loadAlchemy(ctx); err != nil {
		return nil, err
	}
	return h, nil
}

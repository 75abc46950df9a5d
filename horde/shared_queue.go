package horde

import (
	"context"
	"time"
)

// SharedQueue is the waiting queue kept in a database that several
// schedulers (hordebot processes) share: store/ implements it on
// PostgreSQL. With Config.Queue set, a Horde keeps no queue of its own:
// pops claim from the shared queue, and what another process accepted or
// popped (a request's progress, a job to submit, a request to cancel) is read
// from the store. Memory is then a cache of what never changes (a request's
// parameters, for matching), never the truth. Without it (SQLite, one
// process) the queue is the in-memory index of queue.go.
//
// The order is the same in both: PriorityScore, then submit time. The
// matching rules are the same functions (match.go): the database only
// narrows the candidates by kind and model (or requester), the Horde
// decides.
type SharedQueue interface {
	// Claim walks, tier by tier in one transaction, the requests with
	// waiting items that each tier's query selects, in priority order, and
	// calls the tier's Choose with each and the numbers of its waiting
	// items, in order; each is locked while Choose looks at it, and one
	// another scheduler is claiming is passed over (never waited for). It
	// stops at the first request for which Choose returns jobs; a tier
	// looks at up to the Budget it returns when it starts. The jobs Choose
	// returns (items of that request, among those it was given) are started
	// in the same transaction: the job rows processing, their items
	// processing, the request processing, its queue entries gone when no
	// item waits any more. So no item is handed to two workers, whichever
	// process pops. It returns the started jobs, none when no tier took
	// anything. Budget and Choose are called without any lock of the
	// Horde's held and must not call the store.
	Claim(ctx context.Context, tiers ...ClaimTier) ([]Job, error)
	// Overdue returns up to limit processing jobs whose deadline is at or
	// before now, oldest deadline first, whichever process popped them.
	Overdue(ctx context.Context, now time.Time, limit int) ([]Job, error)
	// Position is a waiting request's place in the queue as
	// Progress.QueuePosition gives it (0 first): the requests ahead of it in
	// any of its buckets (counted up to limit), whoever can serve them; 0
	// for a request not waiting.
	Position(ctx context.Context, requestID string, limit int) (int, error)
	// OtherModels counts the waiting entries of kind in the buckets of
	// models not in models (requests naming no model excluded), up to
	// limit: what a pop that found nothing reports as skipped for models.
	OtherModels(ctx context.Context, kind RequestKind, models []string, limit int) (int, error)
	// Expire ends as faulted ("expired") up to limit requests with waiting
	// items that nobody popped since cutoff and that have no job
	// processing, and returns their ids. Each is checked again under its
	// lock, so that of several processes expiring at once one ends it, and a
	// request popped meanwhile is not ended.
	Expire(ctx context.Context, cutoff, at time.Time, limit int) ([]string, error)
	// WorkerJobs returns the processing jobs of a worker, whichever process
	// popped them.
	WorkerJobs(ctx context.Context, workerID string) ([]Job, error)
	// Pending returns the R2 submit of a processing job that waits for its
	// upload (SetPendingSubmit), whichever process took it; ok false if none.
	Pending(ctx context.Context, jobID string) (p PendingSubmit, ok bool, err error)
	// Held returns what a user's open work holds: their balance, the
	// waiting or processing items of their open requests, their waiting or
	// processing alchemy forms, and the kudos those hold (their cost).
	Held(ctx context.Context, userID int64) (Holding, error)

	// AdmitRequest stores a new request as Store.CreateRequest does, in a
	// transaction that first locks its requester (every admission of one
	// member is serialised, whichever process takes it), then reads what
	// they hold (Held, in that transaction) and calls admit with it. An
	// error from admit writes nothing and is returned as it is. admit may
	// be called more than once (a write run again); it must not call the
	// store nor take a lock of the Horde's.
	AdmitRequest(ctx context.Context, r Request, admit func(Holding) error) error
	// AdmitInterrogation is AdmitRequest of a new interrogation
	// (Store.CreateInterrogation).
	AdmitInterrogation(ctx context.Context, in Interrogation, admit func(Holding) error) error

	// ClaimForms walks the waiting alchemy forms q selects, in priority
	// order (PriorityScore of their interrogation, then submit time), and
	// calls choose with each and its interrogation (without its forms),
	// which is locked while choose looks; an interrogation another scheduler
	// is claiming from or writing is passed over, never waited for. The
	// forms choose takes are started in the same transaction (processing
	// by q.WorkerID from q.Started to q.Deadline, their interrogation's
	// expiry clock restarted), so that no form is handed to two alchemists.
	// It stops once q.Want forms are taken or q.Limit forms were offered,
	// and returns the started forms. choose is called without any lock of
	// the Horde's held and must not call the store.
	ClaimForms(ctx context.Context, q FormClaimQuery, choose func(in Interrogation, f AlchemyForm) bool) ([]AlchemyAssignment, error)
	// OverdueForms returns up to limit processing forms whose deadline is at
	// or before now, oldest deadline first, whichever process popped them.
	OverdueForms(ctx context.Context, now time.Time, limit int) ([]AlchemyForm, error)
	// ExpireInterrogations ends as faulted the waiting forms of up to limit
	// open interrogations that have no form processing and no activity
	// (creation, a pop, a form waiting again) since cutoff, and returns
	// their ids. Each is checked again under its lock, so that of several
	// processes expiring at once one ends it, and one popped meanwhile is not.
	ExpireInterrogations(ctx context.Context, cutoff, at time.Time, limit int) ([]string, error)
	// QueuedForms counts the waiting alchemy forms.
	QueuedForms(ctx context.Context) (int, error)

	// DueUploads takes up to limit processing jobs whose R2 submit waits
	// for its upload (SetPendingSubmit), whose deadline is after now and
	// whose bucket was last asked before polledBefore, the longest unasked
	// first; it records them as asked at now and returns their ids. A job
	// is handed to one caller however many processes ask at once.
	DueUploads(ctx context.Context, now, polledBefore time.Time, limit int) ([]string, error)

	// Waiting lists up to limit entries of the queue, one per request and
	// bucket, in priority order (PriorityScore, then submit time, then
	// request id), with the waiting items of each one's request.
	Waiting(ctx context.Context, limit int) ([]QueueEntry, error)
	// QueuedRequests returns the requests of ids that exist, in no order.
	QueuedRequests(ctx context.Context, ids []string) ([]Request, error)
	// SaveEstimates stores e, unless estimates computed at or after e.At
	// are stored already.
	SaveEstimates(ctx context.Context, e QueueEstimates) error
	// Estimates returns the stored estimates if they were computed after
	// since; ok false when there are none that new.
	Estimates(ctx context.Context, since time.Time) (e QueueEstimates, ok bool, err error)
	// TouchWorkers records the latest pop of each worker of pops (by
	// id), as seen by one process, and returns the uptime of each it
	// knows: a worker's last pop only moves forward, and its uptime grows
	// by the time from the stored last pop to the new one when that is
	// under StaleAfter (it was online in between), so that several
	// processes seeing one worker's pops count its online time once.
	TouchWorkers(ctx context.Context, pops map[string]time.Time) (map[string]int64, error)
}

// Holding is what a member's open work holds when a new request or
// interrogation is admitted (SharedQueue.Held, AdmitRequest).
type Holding struct {
	Balance int64 // the member's kudos
	Items   int   // waiting or processing items of their open requests
	Forms   int   // their waiting or processing alchemy forms
	Kudos   int64 // what those items and forms hold: their cost
}

// FormClaimQuery selects the forms an alchemist's pop may look at, and
// says how the ones it takes start.
type FormClaimQuery struct {
	// Users, if not empty, selects the forms of these users' interrogations
	// (an alchemist serves its owner first); Forms the form names the
	// alchemist offers (only these are selected, in either case).
	Users []int64
	Forms []string
	// Want is how many forms to take at most; Limit bounds the forms
	// offered to choose (Config.PopScanLimit).
	Want, Limit int
	// WorkerID, Started and Deadline are the taken forms' alchemist and
	// attempt.
	WorkerID          string
	Started, Deadline time.Time
}

// ClaimQuery selects the requests a pop may look at.
type ClaimQuery struct {
	Kind RequestKind
	// Users, if not empty, selects the requests of these users, whatever
	// their models (a worker serves its owner's requests first); otherwise
	// Models selects the requests naming one of them, "" standing for the
	// requests that name no model.
	Users  []int64
	Models []string
}

// A ClaimTier is one walk of a Claim: the requests Query selects, offered
// to Choose, up to Budget() of them (asked when the tier starts: what the
// pop's scan limit, Config.PopScanLimit, leaves after the tiers before).
type ClaimTier struct {
	Query  ClaimQuery
	Budget func() int
	Choose func(r Request, waiting []int) []Job
}

// PriorityScore is the static queue key of a request of the given priority
// (the requester's kudos when it was submitted) submitted at submitted:
// higher is served first, equal keys in submit order. Both queues order by
// it (the PostgreSQL one stores it with each entry).
func PriorityScore(kudos int64, submitted time.Time) int64 { return priorityScore(kudos, submitted) }

// sharedOverdueBatch bounds the overdue jobs one sweep aborts.
const sharedOverdueBatch = 500

// sharedPositionMax bounds the requests counted ahead of a waiting one.
const sharedPositionMax = 10000

// sharedOtherModelsMax bounds the count of requests for other models an
// empty pop reports (skipped "models") on a shared queue.
const sharedOtherModelsMax = 10000

// sharedCacheMax bounds the requests a shared-queue Horde keeps parsed for
// matching; past it the cache starts again empty.
const sharedCacheMax = 20000

// shared reports whether the queue is a SharedQueue's (Config.Queue).
func (h *Horde) shared() bool { return h.cfg.Queue != nil }

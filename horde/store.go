package horde

import (
	"context"
	"io"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// UserStore keeps users and their API keys (as hashes only).
type UserStore interface {
	// CreateUser creates a user with the given key hash (may be empty) and
	// returns it with its id. A DiscordID already taken is KindConflict.
	CreateUser(ctx context.Context, u User, keyHash string) (User, error)
	// User returns a user by id; ErrNotFound if none.
	User(ctx context.Context, id int64) (User, error)
	// UserByDiscordID returns the user linked to a Discord account; ErrNotFound if none.
	UserByDiscordID(ctx context.Context, discordID string) (User, error)
	// Credential resolves an API key hash; ErrNotFound if no key has it.
	Credential(ctx context.Context, keyHash string) (Credential, error)
	// SetUserKey replaces a user's own key hash.
	SetUserKey(ctx context.Context, userID int64, keyHash string) error
	// SetWorkerKey replaces the key hash bound to one worker.
	SetWorkerKey(ctx context.Context, workerID string, keyHash string) error
	// UpdateUser saves Name, Trusted, Flagged and Moderator.
	UpdateUser(ctx context.Context, u User) error
	// RequestedItems returns how many items a user ever requested (the sum
	// of N over their requests, also those purged since); 0 for a user with
	// none or unknown.
	RequestedItems(ctx context.Context, userID int64) (int64, error)
}

// WorkerStore keeps workers.
type WorkerStore interface {
	// SaveWorker inserts or updates a worker (by ID). A name taken by another
	// worker is KindConflict.
	SaveWorker(ctx context.Context, w Worker) error
	// Workers returns every worker.
	Workers(ctx context.Context) ([]Worker, error)
	// DeleteWorker removes a worker and its key; ErrNotFound if none.
	DeleteWorker(ctx context.Context, id string) error
}

// Snapshot is everything unfinished, loaded at start so that a restart
// loses nothing: open requests, their processing jobs, and how many of each
// request's items are done.
type Snapshot struct {
	Requests []Request
	Jobs     []Job          // state processing
	Done     map[string]int // request id -> items done
	// Pending are the submits of processing jobs waiting for their upload,
	// by job id.
	Pending map[string]PendingSubmit
}

// PendingSubmit is a worker's submit of generation "R2" that came before
// the bytes were uploaded: the job is settled with it once they are in.
type PendingSubmit struct {
	State    string
	Seed     int64
	Metadata []GenMetadata
	At       time.Time
}

// JobFinish is everything a successful submit changes, written in one
// transaction: the job, its generation, the request's new state and the
// ledger entries (worker reward, requester cost).
type JobFinish struct {
	Job          Job // with State, FinishedAt, Kudos set
	Generation   Generation
	RequestState RequestState // the request's state after this job
	Entries      []kudos.Entry
	// Holds are the shares of the worker's reward held in escrow (its owner
	// is not trusted yet), recorded with the entries.
	Holds []kudos.Hold
	// Kind and Units are what the result counts for in the /stats routes:
	// its request's kind and GenerationUnits of that request. With Kind ""
	// the store reads the request to count them itself.
	Kind  RequestKind
	Units int64
}

// RequestStore keeps requests, jobs and results durably. Every method
// returns only after its change is committed.
type RequestStore interface {
	// CreateRequest stores a new request in state waiting with N waiting items.
	CreateRequest(ctx context.Context, r Request) error
	// Request returns one request; ErrNotFound if none.
	Request(ctx context.Context, id string) (Request, error)
	// Open returns every unfinished request with its processing jobs.
	Open(ctx context.Context) (Snapshot, error)
	// StartJob records a popped item: the job row in state processing, the
	// item processing, the request processing.
	StartJob(ctx context.Context, j Job) error
	// FinishJob records a successful submit. A job that is not processing
	// (submitted twice, aborted, cancelled) is ErrDuplicate and changes nothing.
	FinishJob(ctx context.Context, f JobFinish) error
	// FailJob ends a processing job with state JobFaulted or JobAborted and
	// puts its item back to waiting; it increments the request's faults when
	// state is JobFaulted. A job that is not processing is ErrDuplicate.
	FailJob(ctx context.Context, jobID string, state JobState, at time.Time) error
	// EndRequest sets a request's final state (faulted, cancelled, done) with a
	// reason; its waiting items and processing jobs are cancelled.
	EndRequest(ctx context.Context, id string, state RequestState, reason string, at time.Time) error
	// SetUpload records the blob uploaded (r2 PUT) for a processing job, to be
	// used when the worker submits generation "R2". ErrNotFound for an
	// unknown job; ErrDuplicate if the job is no longer processing.
	SetUpload(ctx context.Context, jobID, blobRef string) error
	// SetPendingSubmit records a submit of generation "R2" that came before
	// its upload. ErrNotFound for an unknown job; ErrDuplicate if the job is
	// no longer processing or was submitted already.
	SetPendingSubmit(ctx context.Context, jobID string, p PendingSubmit) error
	// Upload returns the blob ref uploaded for a job; ErrNotFound if none.
	Upload(ctx context.Context, jobID string) (string, error)
	// Jobs returns all jobs of a request (any state), ordered by item.
	Jobs(ctx context.Context, requestID string) ([]Job, error)
	// Job returns one job; ErrNotFound if none.
	Job(ctx context.Context, id string) (Job, error)
	// Generations returns the results of a request, ordered by item.
	Generations(ctx context.Context, requestID string) ([]Generation, error)
}

// BlobStore keeps result images, content-addressed.
type BlobStore interface {
	// PutBlob stores data durably and returns its content address.
	PutBlob(ctx context.Context, data []byte) (ref string, err error)
	// PutBlobFrom streams r (at most max bytes) into the store without
	// holding it in memory and returns its content address and size. More
	// than max bytes is KindInvalid; an error reading r is returned wrapped
	// and stores nothing; a full or read-only disk is KindUnavailable.
	PutBlobFrom(ctx context.Context, r io.Reader, max int64) (ref string, n int64, err error)
	// Blob returns the data at ref; ErrNotFound if none.
	Blob(ctx context.Context, ref string) ([]byte, error)
}

// Store is everything the horde persists. store.Store satisfies it.
type Store interface {
	UserStore
	UserAdminStore
	WorkerMessageStore
	GenerationStatsStore
	WorkerStore
	RequestStore
	BlobStore
	ModerationStore
	AlchemyStore
	kudos.Ledger
}

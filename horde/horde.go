// Package horde is the scheduler: requests, jobs, workers, the priority
// queue, matching, job lifecycle, ETA and queue position. It is pure domain:
// it imports the standard library and kudos, and states what it needs from
// storage as interfaces (store.go) that store/ satisfies.
package horde

import (
	"context"
	"errors"
	"log/slog"
)

// TODO(scheduler helper): replace every body below; the signatures are the
// contract that horde/api, commands and cmd/ are written against.
var errUnimplemented = errors.New("unimplemented")

// Config tunes the horde. Zero values take the defaults.
type Config struct {
	Clock  Clock
	Logger *slog.Logger
	// MemberFloor is the lowest balance a member's requests may take them to
	// (e.g. -100); AnonymousFloor the same for the anonymous user (lower still,
	// e.g. -1e9 effectively unbounded for anonymous on a private horde).
	MemberFloor    int64
	AnonymousFloor int64
	// UptimeBonus is paid to a worker's owner per 10 online minutes.
	UptimeBonus int64
	// DropsForMaintenance: a worker that drops this many jobs in a row goes into maintenance.
	DropsForMaintenance int
}

// Horde is the scheduler service. It is safe for concurrent use.
type Horde struct {
	store Store
	cfg   Config
}

// New loads the open requests and the workers from st and returns a ready horde.
func New(ctx context.Context, st Store, cfg Config) (*Horde, error) {
	return nil, errUnimplemented
}

// Run sweeps periodically (TTL aborts, expiry, stale workers, uptime) until ctx ends.
func (h *Horde) Run(ctx context.Context) error { return errUnimplemented }

// Sweep does one round of the periodic work at the clock's now.
func (h *Horde) Sweep(ctx context.Context) error { return errUnimplemented }

// Authenticate resolves an API key. The anonymous key resolves to the
// anonymous user. Unknown keys are KindUnauthorized.
func (h *Horde) Authenticate(ctx context.Context, apiKey string) (Credential, error) {
	return Credential{}, errUnimplemented
}

// CreateUser creates an API user and returns its new key (shown once).
func (h *Horde) CreateUser(ctx context.Context, name string) (User, string, error) {
	return User{}, "", errUnimplemented
}

// DiscordUser returns the user linked to a Discord account, creating it on first use.
func (h *Horde) DiscordUser(ctx context.Context, discordID, name string) (User, error) {
	return User{}, errUnimplemented
}

// UserInfo returns the find_user view of a user; KindNotFound if none.
func (h *Horde) UserInfo(ctx context.Context, userID int64) (UserInfo, error) {
	return UserInfo{}, errUnimplemented
}

// Submit validates and queues a request (or only prices it when DryRun).
// Validation failures are KindInvalid naming the field; flagged users are
// KindForbidden. Warnings list things accepted but ignored.
func (h *Horde) Submit(ctx context.Context, u User, nr NewRequest) (Request, []string, error) {
	return Request{}, nil, errUnimplemented
}

// Check returns the progress of a request; KindNotFound if unknown.
func (h *Horde) Check(ctx context.Context, id string) (Progress, error) {
	return Progress{}, errUnimplemented
}

// Status returns the progress and the generations of a request.
func (h *Horde) Status(ctx context.Context, id string) (Progress, []Generation, error) {
	return Progress{}, nil, errUnimplemented
}

// Cancel cancels a request (what is done stays done) and returns its final status.
func (h *Horde) Cancel(ctx context.Context, id string) (Progress, []Generation, error) {
	return Progress{}, nil, errUnimplemented
}

// Pop hands up to p.Amount matching jobs to the worker named p.Name of the
// credential's user (created on first pop, as on the AI Horde). Anonymous:
// KindForbidden. A worker key for another worker: KindForbidden. No job is
// not an error: the assignments are empty and skipped says why.
func (h *Horde) Pop(ctx context.Context, c Credential, p PopRequest) ([]Assignment, Skipped, error) {
	return nil, nil, errUnimplemented
}

// Upload stores the image a worker PUT for a processing job.
func (h *Horde) Upload(ctx context.Context, jobID string, data []byte) error {
	return errUnimplemented
}

// SubmitResult records a job's result and returns the worker's reward.
// Faulted results re-queue the item. A second submit is KindConflict; an
// unknown job KindNotFound; a job of another worker KindForbidden.
func (h *Horde) SubmitResult(ctx context.Context, c Credential, s Submission) (int64, error) {
	return 0, errUnimplemented
}

// Blob returns a stored result image.
func (h *Horde) Blob(ctx context.Context, ref string) ([]byte, error) {
	return nil, errUnimplemented
}

// Workers returns every worker (online or not) of a kind ("" for all).
func (h *Horde) Workers(ctx context.Context, kind RequestKind) ([]Worker, error) {
	return nil, errUnimplemented
}

// Worker returns one worker by id; KindNotFound if none.
func (h *Horde) Worker(ctx context.Context, id string) (Worker, error) {
	return Worker{}, errUnimplemented
}

// WorkerByName returns one worker by name; KindNotFound if none.
func (h *Horde) WorkerByName(ctx context.Context, name string) (Worker, error) {
	return Worker{}, errUnimplemented
}

// RegisterWorker creates a worker for owner and returns its own API key,
// which may act only as this worker (shown once, stored hashed).
func (h *Horde) RegisterWorker(ctx context.Context, owner User, name string, kind RequestKind) (Worker, string, error) {
	return Worker{}, "", errUnimplemented
}

// RotateWorkerKey replaces a worker's key; only its owner may.
func (h *Horde) RotateWorkerKey(ctx context.Context, by User, workerID string) (string, error) {
	return "", errUnimplemented
}

// UpdateWorker changes a worker; its owner may set Maintenance, Name, Info;
// moderators may also set Paused. Others: KindForbidden.
func (h *Horde) UpdateWorker(ctx context.Context, by User, workerID string, u WorkerUpdate) (Worker, error) {
	return Worker{}, errUnimplemented
}

// DeleteWorker deletes a worker; its owner or a moderator may.
func (h *Horde) DeleteWorker(ctx context.Context, by User, workerID string) error {
	return errUnimplemented
}

// Models lists the models offered by online workers of a kind, with their queues.
func (h *Horde) Models(ctx context.Context, kind RequestKind) ([]ModelStatus, error) {
	return nil, errUnimplemented
}

// Performance summarises the queue and the workers.
func (h *Horde) Performance(ctx context.Context) (Performance, error) {
	return Performance{}, errUnimplemented
}

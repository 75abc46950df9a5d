package commands

import (
	"context"
	"time"

	"github.com/hordebot/hordebot/bot/sharedpost"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// Horde is what the commands need from the scheduler. *horde.Horde
// satisfies it. Errors are *horde.Error values whose kinds the bot maps to
// replies (KindInvalid, KindForbidden, KindNotFound, KindKudosUpfront, ...).
type Horde interface {
	// DiscordUser returns the horde user of a Discord member, creating it on first use.
	DiscordUser(ctx context.Context, discordID, name string) (horde.User, error)
	// UserInfo returns a user's kudos, workers and counters.
	UserInfo(ctx context.Context, userID int64) (horde.UserInfo, error)
	// Submit validates and queues a request.
	Submit(ctx context.Context, u horde.User, nr horde.NewRequest) (horde.Request, []string, error)
	// Check returns a request's progress; KindNotFound if unknown.
	Check(ctx context.Context, id string) (horde.Progress, error)
	// Status returns a request's progress and results.
	Status(ctx context.Context, id string) (horde.Progress, []horde.Generation, error)
	// Blob returns a stored result image.
	Blob(ctx context.Context, ref string) ([]byte, error)
	// Models lists the models of online workers with their queues.
	Models(ctx context.Context, kind horde.RequestKind) ([]horde.ModelStatus, error)
	// Performance summarises the queue and the workers.
	Performance(ctx context.Context) (horde.Performance, error)
	// Workers lists every worker of a kind ("" for all).
	Workers(ctx context.Context, kind horde.RequestKind) ([]horde.Worker, error)
	// WorkerByName returns a worker by name; KindNotFound if none.
	WorkerByName(ctx context.Context, name string) (horde.Worker, error)
	// RegisterWorker creates a worker and returns its key (shown once).
	RegisterWorker(ctx context.Context, owner horde.User, name string, kind horde.RequestKind) (horde.Worker, string, error)
	// RotateWorkerKey replaces a worker's key; owner only.
	RotateWorkerKey(ctx context.Context, by horde.User, workerID string) (string, error)
	// UpdateWorker changes a worker; owner (or moderator) only.
	UpdateWorker(ctx context.Context, by horde.User, workerID string, u horde.WorkerUpdate) (horde.Worker, error)
	// DeleteWorker deletes a worker; owner or moderator only.
	DeleteWorker(ctx context.Context, by horde.User, workerID string) error
}

var _ Horde = (*horde.Horde)(nil)

// Alchemy is what the commands need of the horde's alchemy: interrogating
// an image (caption, interrogation) and post-processing it (upscalers), on
// alchemist workers, as the AI Horde's /interrogate API does. *horde.Horde
// satisfies it. Errors are *horde.Error values (KindInvalid for a source
// too large, KindKudosUpfront, KindRateLimited for too many open forms).
type Alchemy interface {
	// Interrogate validates and queues an alchemy request, holding its cost.
	Interrogate(ctx context.Context, u horde.User, ni horde.NewInterrogation) (horde.Interrogation, error)
	// InterrogationStatus returns an interrogation with its forms and
	// results; KindNotFound if unknown.
	InterrogationStatus(ctx context.Context, id string) (horde.Interrogation, error)
}

var _ Alchemy = (*horde.Horde)(nil)

// Previews gives the latest live preview of a request (hordebot's
// extension: a worker's partial render of a job in progress).
// *horde.Previews satisfies it.
type Previews interface {
	// Latest returns the preview a request has now; KindNotFound when it
	// has none (none was sent, or the job that sent it ended).
	Latest(ctx context.Context, requestID string) (horde.Preview, error)
}

var _ Previews = (*horde.Previews)(nil)

// DeliveryStore persists the results still to be delivered to Discord so
// that a restart resumes watching them. *store.Store satisfies it. Payloads
// are opaque to the store (JSON written by this package).
type DeliveryStore interface {
	// SaveDiscordDelivery inserts or replaces the pending delivery of a request.
	SaveDiscordDelivery(ctx context.Context, requestID string, payload []byte) error
	// DeleteDiscordDelivery forgets a delivered request; deleting a missing one is not an error.
	DeleteDiscordDelivery(ctx context.Context, requestID string) error
	// DiscordDeliveries returns every pending delivery's payload, oldest first.
	DiscordDeliveries(ctx context.Context) ([][]byte, error)
}

// Kudos is what the commands need from the kudos engine. *kudos.Engine
// satisfies it. Rule violations are refusals (kudos.Refuse: *horde.Error
// values with a kind; their Message is shown to the member); other errors
// are internal.
type Kudos interface {
	// Balance returns a user's kudos.
	Balance(ctx context.Context, userID int64) (int64, error)
	// History returns a user's newest ledger entries first, at most limit.
	History(ctx context.Context, userID int64, limit int) ([]kudos.Entry, error)
	// Transfer moves kudos between members, idempotent by key.
	Transfer(ctx context.Context, from, to, amount int64, key string) error
	// Award is a moderator's award, idempotent by its Key.
	Award(ctx context.Context, a kudos.ModeratorAward) error
	// Leaderboard returns the top earners of the week containing week.
	Leaderboard(ctx context.Context, week time.Time) (kudos.Leaderboard, error)
}

var _ Kudos = (*kudos.Engine)(nil)

// SharedPostStore remembers the posts "share" makes in the art channel, so
// that reactions on them credit the member who shared, not the bot.
// *store.Store satisfies it.
type SharedPostStore interface {
	// RecordSharedPost records a shared post; recording a message id again
	// keeps the first record and is not an error.
	RecordSharedPost(ctx context.Context, p sharedpost.Post) error
}

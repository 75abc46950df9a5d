package commands

import (
	"context"
	"time"

	"github.com/hordebot/hordebot/bot/membersettings"
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
	// KnownDiscordUser returns the horde user of a Discord account without
	// creating one; KindNotFound if the account has none.
	KnownDiscordUser(ctx context.Context, discordID string) (horde.User, error)
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

// RequestEvents wakes whoever waits for a request (horde.Events: the
// scheduler's, fed on PostgreSQL by every process's NOTIFYs).
// *horde.EventHub satisfies it.
type RequestEvents interface {
	// Subscribe returns a channel that receives the events of request id
	// (and horde.EventResync, when events may have been missed) and a
	// function that ends the subscription. Events are hints: the request
	// is read again after each.
	Subscribe(id string) (<-chan horde.Event, func())
}

var _ RequestEvents = (*horde.EventHub)(nil)

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

// Parties is what /party and the delivery of results need of generation
// parties (kudos/party.go). *kudos.Engine satisfies it. Refusals are
// kudos.Refuse errors (RefuseNoParty, RefuseNotHost, RefusePartyRunning,
// RefuseInsufficient, RefuseAmount, ...) whose Message is shown.
type Parties interface {
	// PartyConfig is the limits of parties (and whether they are on).
	PartyConfig() kudos.PartyConfig
	// StartParty holds the host's budget and opens the channel's party; idempotent by Key.
	StartParty(ctx context.Context, ps kudos.PartyStart) (kudos.Party, error)
	// OpenParty returns a channel's open party; RefuseNoParty if none.
	OpenParty(ctx context.Context, channelID string) (kudos.Party, error)
	// EndParty ends the channel's party (host or moderator) and refunds the rest.
	EndParty(ctx context.Context, pe kudos.PartyEnd) (kudos.Party, bool, error)
	// CreditPartyGeneration counts a delivered generation and pays its award, once.
	CreditPartyGeneration(ctx context.Context, g kudos.PartyGeneration) (kudos.PartyCredit, error)
	// EndDueParties ends the parties whose end time passed, of the guilds own accepts.
	EndDueParties(ctx context.Context, own func(guildID string) bool) ([]kudos.Party, error)
	// UnannouncedParties returns ended parties whose summary was not posted.
	UnannouncedParties(ctx context.Context, limit int) ([]kudos.Party, error)
	// ClaimPartyAnnouncement reports whether the caller posts a summary (one caller does).
	ClaimPartyAnnouncement(ctx context.Context, id int64) (bool, error)
	// ReleasePartyAnnouncement gives back a claim whose post failed.
	ReleasePartyAnnouncement(ctx context.Context, id int64) error
	// PartyReport returns a party's members and up to images of its images.
	PartyReport(ctx context.Context, id int64, images int) (kudos.PartyReport, error)
}

var _ Parties = (*kudos.Engine)(nil)

// SharedPostStore remembers the posts "share" makes in the art channel, so
// that reactions on them credit the member who shared, not the bot.
// *store.Store satisfies it.
type SharedPostStore interface {
	// RecordSharedPost records a shared post; recording a message id again
	// keeps the first record and is not an error.
	RecordSharedPost(ctx context.Context, p sharedpost.Post) error
}

// Styles are the horde's styles as the commands use them: kept by the
// store (horde.StyleStore's promises and error kinds), found, applied and
// validated by the API's rules (*api.StyleRules satisfies it), so that a
// style does in Discord what it does in an API request.
type Styles interface {
	// Style returns a style by id; KindNotFound if none.
	Style(ctx context.Context, id string) (horde.Style, error)
	// StyleByName returns a style of kind by name, of userID (0: any
	// owner's, the oldest); KindNotFound if none.
	StyleByName(ctx context.Context, kind horde.RequestKind, userID int64, name string) (horde.Style, error)
	// SearchStyles lists the styles a member may pick (public and their
	// own), names starting with the text first.
	SearchStyles(ctx context.Context, q horde.StyleSearch) ([]horde.Style, error)
	// CreateStyle stores a new style; a second of one name for one owner is KindConflict.
	CreateStyle(ctx context.Context, s horde.Style) error
	// UpdateStyle replaces a style; KindNotFound if gone, KindConflict for a taken name.
	UpdateStyle(ctx context.Context, s horde.Style) error
	// DeleteStyle deletes a style; KindNotFound if gone.
	DeleteStyle(ctx context.Context, id string) error

	// Find resolves a style reference as an API request's "style" field
	// does (id, collection, name forms); KindNotFound if none,
	// KindInvalid StyleMismatch if of the other kind.
	Find(ctx context.Context, kind horde.RequestKind, ref string) (horde.Style, *horde.StyleUse, error)
	// Apply makes a request with a style as the API's "style" field does
	// (template, params, models, nsfw); KindInvalid if the result is not a
	// valid request.
	Apply(nr horde.NewRequest, sty horde.Style) (horde.NewRequest, error)
	// Validate checks a new or changed style as POST /styles does (KindInvalid, naming the field).
	Validate(sty horde.Style) error
}

// MemberSettingsStore keeps the members' /settings. *store.Store satisfies it.
type MemberSettingsStore interface {
	// MemberSettings returns a horde user's settings; the zero Settings if none.
	MemberSettings(ctx context.Context, userID int64) (membersettings.Settings, error)
	// MemberSettingsOfDiscordUser returns the settings of a Discord
	// account's horde user, the zero Settings if it has none (or no user yet).
	MemberSettingsOfDiscordUser(ctx context.Context, discordID string) (membersettings.Settings, error)
	// SetMemberSettings replaces a user's settings; the zero Settings deletes them.
	SetMemberSettings(ctx context.Context, userID int64, s membersettings.Settings) error
}

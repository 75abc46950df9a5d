package kudos

import (
	"context"
	"time"
)

// Store is everything the kudos engine persists. store.Store satisfies it.
// Methods that check a rule and write do both in one write transaction, so
// two concurrent calls cannot both slip under a cap.
type Store interface {
	Ledger
	StandingStore
	AwardStore
	TransferStore
	TallyStore
	PartyStore
}

// Standing is what the rules need to know about a user.
type Standing struct {
	UserID    int64
	Flagged   bool // flagged users neither give nor receive kudos
	Moderator bool // the user is a moderator whatever their Discord roles
}

// StandingStore reads users' standing.
type StandingStore interface {
	// Standings returns the standing of each known user among ids; an
	// unknown id is absent from the map (not an error).
	Standings(ctx context.Context, ids []int64) (map[int64]Standing, error)
}

// AwardState is where an award is in its life.
type AwardState string

// Award states: pending awards become settled (a ledger entry) after the
// settle delay, or revoked if the reaction is removed before that.
const (
	AwardPending AwardState = "pending"
	AwardSettled AwardState = "settled"
	AwardRevoked AwardState = "revoked"
)

// NewAward is a pending award to record.
type NewAward struct {
	GiverID    int64
	ReceiverID int64
	MessageID  string // the receiver's message that was reacted to or thanked for
	ChannelID  string
	GuildID    string
	Category   Category
	Emoji      string // normalized; "thanks" for a thanks reply
	Amount     int64
	At         time.Time
	SettleAt   time.Time
}

// Award is a recorded award.
type Award struct {
	NewAward
	ID    int64
	State AwardState
}

// AwardCaps are the limits an award must fit under, counted over the awards
// not revoked (pending and settled). A zero cap is no cap.
type AwardCaps struct {
	DayStart      time.Time // start of the award's day: giver and receiver caps count from here
	WeekStart     time.Time // start of the award's week: the pair cap counts from here
	GiverDaily    int64
	ReceiverDaily int64
	PairWeekly    int64
}

// Settlement pays one pending award with its ledger entry.
type Settlement struct {
	AwardID int64
	Entry   Entry
}

// AwardStore keeps reaction and thanks awards.
type AwardStore interface {
	// AddAwards records pending awards in one transaction, each checked in
	// turn (so earlier ones count toward later ones' caps). refusals[i] is
	// nil when awards[i] was recorded, or a refusal (Refuse): RefuseDuplicate when
	// (giver, message, category) is already pending or settled (a revoked
	// one is revived as pending), RefuseGiverCap, RefuseReceiverCap or
	// RefusePairCap when the award would exceed that cap. err is a failure
	// of the whole call, which then recorded nothing.
	AddAwards(ctx context.Context, awards []NewAward, caps []AwardCaps) (refusals []error, err error)
	// RevokeAwards revokes the giver's pending awards on a message made with
	// emoji, at time at, and returns how many it revoked. Settled awards stay.
	RevokeAwards(ctx context.Context, giverID int64, messageID, emoji string, at time.Time) (int, error)
	// DueAwards returns up to limit pending awards with SettleAt <= now,
	// earliest first.
	DueAwards(ctx context.Context, now time.Time, limit int) ([]Award, error)
	// SettleAwards, in one transaction, marks each award settled and applies
	// its entry; an award no longer pending is skipped and its entry not
	// applied. It returns how many it settled.
	SettleAwards(ctx context.Context, s []Settlement, at time.Time) (int, error)
	// Awards returns the awards of a message, any state, oldest first.
	Awards(ctx context.Context, messageID string) ([]Award, error)
}

// TransferRecord is one member-to-member transfer.
type TransferRecord struct {
	FromID int64
	ToID   int64
	Amount int64
	Key    string // the caller's idempotency key
	At     time.Time
}

// TransferStore keeps transfers.
type TransferStore interface {
	// RecordTransfer, in one transaction: does nothing and returns false if
	// t.Key was already recorded for the same FromID, ToID and Amount (a
	// replay); refuses with KeyReused(the recorded transfer) if t.Key was
	// recorded for another transfer; refuses with Refuse(RefusePingPong) if
	// t.ToID sent to t.FromID at or after pingPongSince; otherwise records
	// the transfer and applies entries (an entry breaking its floor fails
	// the call with an error wrapping ErrInsufficient and nothing is written).
	RecordTransfer(ctx context.Context, t TransferRecord, pingPongSince time.Time, entries []Entry) (bool, error)
}

// ArtReaction is one reaction added to or removed from a post in an art channel.
type ArtReaction struct {
	MessageID string
	ChannelID string
	AuthorID  int64 // the post's author
	ReactorID int64
	Emoji     string
	Added     bool // false: removed
	At        time.Time
}

// ArtPost is a post in an art channel with the distinct human reactors whose
// first reaction to it fell in a period and is still there.
type ArtPost struct {
	MessageID string
	ChannelID string
	AuthorID  int64
	Reactors  int
}

// Earner is a user and the kudos they earned in a period.
type Earner struct {
	UserID int64
	Kudos  int64
}

// TallyStore keeps what the scheduled tallies read and which have run.
type TallyStore interface {
	// RecordArtReaction records a reaction added to or removed from an art post.
	// Replays are harmless.
	RecordArtReaction(ctx context.Context, r ArtReaction) error
	// ArtPosts returns the art posts with at least one reactor whose first
	// reaction fell in [from, to) and was not removed.
	ArtPosts(ctx context.Context, from, to time.Time) ([]ArtPost, error)
	// CompleteTally records that tally name ran for period and applies its
	// entries, in one transaction. If (name, period) was already recorded it
	// changes nothing and returns false.
	CompleteTally(ctx context.Context, name, period string, entries []Entry, at time.Time) (bool, error)
	// TallyRan reports whether tally name has run for period.
	TallyRan(ctx context.Context, name, period string) (bool, error)
	// LastTally returns the latest period (by name: period names sort in
	// time order) tally name has run for, or "" if it never ran.
	LastTally(ctx context.Context, name string) (string, error)
	// Earnings returns the users with the most kudos earned (positive
	// entries of the given kinds) in [from, to), most first, at most limit.
	Earnings(ctx context.Context, kinds []EntryKind, from, to time.Time, limit int) ([]Earner, error)
	// CleanupKudos deletes revoked and never-settled awards and art reaction
	// rows older than before, and returns how many rows it deleted.
	CleanupKudos(ctx context.Context, before time.Time) (int64, error)
}

// MemberDirectory answers which members hold roles. The bot implements it
// from the guild's member list.
type MemberDirectory interface {
	// MembersWithRoles returns, per role id asked, the user ids (hordebot
	// users, created on demand) of the members holding it.
	MembersWithRoles(ctx context.Context, roles []string) (map[string][]int64, error)
}

// Package kudos is the community economy: an append-only ledger, prices of
// requests, worker rewards, transfers, reaction awards and scheduled tallies.
// It is pure domain: it imports only the standard library and the shared
// error model (horde/errs: a refusal is an *errs.Error with a kind, a code
// and a member-readable message), and states what it needs from storage as
// interfaces that store/ satisfies.
package kudos

import (
	"context"
	"fmt"
	"time"
)

// EntryKind says why a ledger row exists.
type EntryKind string

// Ledger entry kinds.
const (
	KindGeneration      EntryKind = "generation"       // a worker's reward for a finished job
	KindUptime          EntryKind = "uptime"           // a worker's bonus per 10 online minutes
	KindRequestCost     EntryKind = "request_cost"     // the requester pays for a finished request
	KindTransfer        EntryKind = "transfer"         // member to member
	KindAwardHelpful    EntryKind = "award_helpful"    // reaction or thanks
	KindAwardModeration EntryKind = "award_moderation" // moderator reaction or /kudos award
	KindAwardArt        EntryKind = "award_art"        // art reactions and the daily art tally
	KindAdmin           EntryKind = "admin"            // a moderator's adjustment
	KindRecurring       EntryKind = "recurring"        // monthly kudos for configured roles
	KindEscrow          EntryKind = "escrow_release"   // held worker earnings released on trust
	KindRating          EntryKind = "rating"           // aesthetic ratings of shared images (RatingReward)
	KindStyleReward     EntryKind = "style_reward"     // a style's creator, per request using it (StyleReward)
)

// NoFloor disables the balance floor check of an Entry.
const NoFloor int64 = -1 << 62

// Entry is one ledger row. Balances are the sum of a user's entries and are
// kept in step in the same transaction that appends the row.
type Entry struct {
	ID      int64
	UserID  int64
	Delta   int64 // whole kudos; negative for costs
	Kind    EntryKind
	Reason  string
	ActorID int64  // who caused it; 0 for the system
	Ref     string // what it is about: a job id, a Discord message id, a tally period
	// Key makes the entry idempotent: a second entry with the same key is not
	// applied (a gateway replay, a retried submit). Required.
	Key string
	// Floor, unless NoFloor, is the lowest balance this entry may leave; an
	// entry that would go below it is refused with ErrInsufficient.
	Floor int64
	At    time.Time
}

// Validate checks the invariants every entry must hold.
func (e Entry) Validate() error {
	if e.Key == "" {
		return fmt.Errorf("ledger entry for user %d (%s): empty idempotency key", e.UserID, e.Kind)
	}
	if e.Kind == "" {
		return fmt.Errorf("ledger entry %q: empty kind", e.Key)
	}
	return nil
}

// Balance is a user's current kudos.
type Balance struct {
	UserID int64
	Kudos  int64
}

// Refusal codes: the stable Code of a refusal (see Refuse); tests, the
// bot and API clients match on them.
const (
	RefuseInsufficient = "insufficient" // the balance would go below its floor
	RefuseSelf         = "self"         // giving to oneself
	RefuseBot          = "bot"          // bots neither give nor receive
	RefuseFlagged      = "flagged"      // a flagged user is involved
	RefuseAnonymous    = "anonymous"    // the anonymous user cannot give
	RefuseAmount       = "amount"       // not a positive amount
	RefusePingPong     = "ping_pong"    // B->A right after A->B
	RefuseGiverCap     = "giver_cap"    // the giver's daily cap is reached
	RefuseReceiverCap  = "receiver_cap" // the receiver's daily cap is reached
	RefusePairCap      = "pair_cap"     // the pair's weekly cap is reached (award rings)
	RefuseDuplicate    = "duplicate"    // already awarded (giver, message, category)
	RefuseTooNew       = "too_new"      // account or membership younger than the minimum
	RefuseRole         = "role"         // a role is required or barred
	RefuseNotModerator = "not_moderator"
)

// ErrInsufficient is the refusal of an entry that would break its floor.
var ErrInsufficient = Refuse(RefuseInsufficient, "not enough kudos")

// Ledger appends entries and reads balances. store.Store satisfies it.
type Ledger interface {
	// Apply appends entries atomically: all of them or none. An entry whose
	// Key was already applied is skipped (applied[i] is false) and is not an
	// error. An entry that would break its Floor fails the whole call with
	// an error wrapping ErrInsufficient.
	Apply(ctx context.Context, entries ...Entry) (applied []bool, err error)
	// Balance returns a user's kudos (0 for a user with no entries).
	Balance(ctx context.Context, userID int64) (int64, error)
	// History returns a user's newest entries first, at most limit.
	History(ctx context.Context, userID int64, limit int) ([]Entry, error)
	// Verify recomputes every balance from the ledger and returns the users
	// whose stored balance differs from the sum of their entries.
	Verify(ctx context.Context) ([]Mismatch, error)
}

// Mismatch is a user whose stored balance is not the sum of the ledger.
type Mismatch struct {
	UserID  int64
	Balance int64
	Sum     int64
}

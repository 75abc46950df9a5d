package kudos

import (
	"context"
	"fmt"
	"time"
)

// Escrow: part of an untrusted worker owner's generation rewards is held back
// (as the AI Horde does with half of them) until the owner is trusted. Held
// kudos are not spendable and are not in the ledger: a Hold is a row of its
// own, keyed for idempotency like a ledger entry. Releasing a user's holds
// appends one ledger entry of KindEscrow for their sum, in the same
// transaction that marks them released. So the ledger stays the one source
// of spendable kudos (balance == sum of entries), and
// held + released == every hold ever recorded.

// DefaultEscrowPercent is the share of an untrusted owner's generation
// reward the AI Horde holds in escrow.
const DefaultEscrowPercent = 50

// Hold is a share of a generation reward held in escrow for a user.
type Hold struct {
	UserID int64
	Amount int64 // kudos held; positive
	Ref    string
	// Key makes the hold idempotent: a second hold with the same key is not
	// recorded (a retried submit). Required.
	Key string
	At  time.Time
}

// Validate checks the invariants every hold must hold.
func (h Hold) Validate() error {
	if h.Key == "" {
		return fmt.Errorf("escrow hold for user %d: empty idempotency key", h.UserID)
	}
	if h.Amount <= 0 {
		return fmt.Errorf("escrow hold %q: amount %d is not positive", h.Key, h.Amount)
	}
	return nil
}

// SplitReward splits a generation reward into what is paid at once and what
// is held in escrow, holding percent of it (rounded down, so that the owner
// is never held more than the share). percent is clamped to [0, 100].
func SplitReward(reward int64, percent int) (paid, held int64) {
	if reward <= 0 || percent <= 0 {
		return reward, 0
	}
	if percent > 100 {
		percent = 100
	}
	held = reward * int64(percent) / 100
	return reward - held, held
}

// Release is the outcome of releasing a user's escrow.
type Release struct {
	UserID int64
	Amount int64 // kudos released into the ledger; 0 when nothing was held
	Holds  int   // how many holds were released
	Key    string
}

// EscrowStore keeps escrow holds. store.Store satisfies it.
type EscrowStore interface {
	// Hold records holds in one transaction; a hold whose key was already
	// recorded is skipped (applied[i] false) and is not an error.
	Hold(ctx context.Context, holds ...Hold) (applied []bool, err error)
	// Escrowed returns the kudos held for a user and not yet released.
	Escrowed(ctx context.Context, userID int64) (int64, error)
	// ReleaseEscrow, in one transaction, marks every unreleased hold of a
	// user released and appends one ledger entry of KindEscrow for their
	// sum (key "escrow:<user>:<last hold id>", actor, reason, at). With
	// nothing held it changes nothing and returns a zero Amount.
	ReleaseEscrow(ctx context.Context, userID, actorID int64, reason string, at time.Time) (Release, error)
	// VerifyEscrow returns the users whose released holds do not sum to
	// their KindEscrow ledger entries.
	VerifyEscrow(ctx context.Context) ([]Mismatch, error)
}

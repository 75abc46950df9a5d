package kudos

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hordebot/hordebot/horde/errs"
)

// RefuseKeyReused refuses a transfer whose idempotency key was already used
// for a transfer with another sender, receiver or amount.
const RefuseKeyReused = "key_reused"

// KeyReused is the refusal of a transfer whose key was recorded for was, a
// different transfer. Its message names no other member.
func KeyReused(was TransferRecord) *errs.Error {
	return refuse(RefuseKeyReused, "this idempotency key was already used for a different transfer (%d kudos); use a new key for a new transfer", was.Amount)
}

// Transfer moves amount kudos from one member to another. key makes it
// idempotent: a second call with the same key and the same sender, receiver
// and amount (a retried command) does nothing and is not an error, so the
// caller answers as the first call did; the same key with another sender,
// receiver or amount is refused (RefuseKeyReused) and moves nothing. The
// rules, each a refusal (Refuse) with its code:
// a positive amount (RefuseAmount), not to oneself (RefuseSelf), the
// anonymous user neither gives nor receives (RefuseAnonymous), flagged users
// neither give nor receive (RefuseFlagged), the sender must cover it: their
// balance may not go below 0, nor below what their queued requests hold
// (WithHeld) (RefuseInsufficient), and no B->A within the
// ping-pong window after A->B (RefusePingPong).
func (e *Engine) Transfer(ctx context.Context, from, to, amount int64, key string) error {
	if key == "" {
		return errors.New("transfer: empty idempotency key")
	}
	switch {
	case amount <= 0:
		return refuse(RefuseAmount, "the amount must be a positive number of kudos").InCase("positive")
	case from == anonymousID:
		return refuse(RefuseAnonymous, "the anonymous user cannot give kudos").InCase("give")
	case to == anonymousID:
		return refuse(RefuseAnonymous, "kudos cannot be given to the anonymous user").InCase("receive")
	case from == to:
		return refuse(RefuseSelf, "you cannot give kudos to yourself").InCase("transfer")
	}
	st, err := e.standings(ctx, from, to)
	if err != nil {
		return err
	}
	if err := checkFlagged(st[from], st[to]); err != nil {
		return err
	}
	// What the sender's queued requests hold is not theirs to give: the
	// out entry may not take the balance below it (and never below 0).
	var held int64
	if e.held != nil {
		_, held = e.held(ctx, from)
	}
	now := e.clock.Now()
	ref := "transfer:" + key
	entries := []Entry{
		{UserID: from, Delta: -amount, Kind: KindTransfer, Reason: fmt.Sprintf("gave %d kudos to user %d", amount, to),
			ActorID: from, Ref: ref, Key: ref + ":out", Floor: max(held, 0), At: now},
		{UserID: to, Delta: amount, Kind: KindTransfer, Reason: fmt.Sprintf("received %d kudos from user %d", amount, from),
			ActorID: from, Ref: ref, Key: ref + ":in", Floor: NoFloor, At: now},
	}
	rec := TransferRecord{FromID: from, ToID: to, Amount: amount, Key: key, At: now}
	since := now.Add(-e.cfg.PingPongWindow.Std())
	if e.cfg.PingPongWindow <= 0 {
		since = now.Add(time.Nanosecond) // no window: no earlier transfer is within it
	}
	done, err := e.store.RecordTransfer(ctx, rec, since, entries)
	if err != nil {
		if errors.Is(err, ErrInsufficient) {
			if held > 0 {
				return refuse(RefuseInsufficient, "you do not have %d kudos to give: %d of your kudos are held for your queued requests", amount, held).
					InCase("held").With("Amount", amount).With("Held", held)
			}
			return refuse(RefuseInsufficient, "you do not have %d kudos to give", amount).InCase("transfer").With("Amount", amount)
		}
		if RefusalCode(err) != "" {
			return err
		}
		return fmt.Errorf("transfer %d kudos from user %d to %d: %w", amount, from, to, err)
	}
	if done {
		e.stats.transfers.Add(1)
		e.stats.kudosTransferred.Add(amount)
	}
	return nil
}

package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/errs"
	"github.com/hordebot/hordebot/kudos"
)

// maxIdempotencyKey bounds the Idempotency-Key header.
const maxIdempotencyKey = 200

// transfer moves kudos from the key's user to username ("name#id"). An
// Idempotency-Key header makes a retried transfer happen once: the same key
// with the same username and amount answers 200 as the first call did and
// moves nothing more; the same key with another username or amount is 400
// IdempotencyKeyConflict, as on the AI Horde, and moves nothing.
func (s *server) transfer(w http.ResponseWriter, r *http.Request) {
	if s.opt.Transfers == nil {
		s.writeError(w, r, horde.Errorf(horde.KindDisabled, "TransfersDisabled", "kudos transfers are not enabled on this horde"))
		return
	}
	var b aihorde.KudosTransfer
	if _, err := s.decodeBody(w, r, s.bodyLimit(limitSmall), &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := readKudosMove(r, b.Amount, 0, b.Username)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	amount, toID, toName, key := in.amount, in.toID, in.toName, in.key
	from, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	to, err := s.h.UserInfo(r.Context(), toID)
	if err == nil && !strings.EqualFold(to.User.Name, toName) {
		err = horde.NotFoundf("UserNotFound", "no user %s", horde.QuoteInput(fmt.Sprintf("%s#%d", toName, toID)))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if key == "" {
		key = uuid.NewString()
	}
	// Scope the client's key to the giver so that two members reusing a key never collide.
	key = "api-transfer:" + strconv.FormatInt(from.ID, 10) + ":" + key
	if err := s.opt.Transfers.Transfer(r.Context(), from, toID, amount, key); err != nil {
		s.writeError(w, r, transferError(err, from))
		return
	}
	s.ok(w, aihorde.KudosTransferResponse{Transferred: amount})
}

// kudosMove is what a transfer and an award share: a positive amount, the
// receiver's "name#id" and the client's Idempotency-Key (may be empty).
type kudosMove struct {
	amount      int64
	toID        int64
	toName, key string
}

// readKudosMove checks a transfer's or an award's amount (def when absent),
// username and Idempotency-Key header, naming the field at fault.
func readKudosMove(r *http.Request, amount *int64, def int64, username *string) (kudosMove, error) {
	var c check
	m := kudosMove{amount: valueOr(amount, def)}
	if m.amount < 1 {
		c.fail("amount", "amount must be a positive whole number of kudos")
	}
	var err error
	if m.toID, m.toName, err = parseUsername("username", strings.TrimSpace(valueOr(username, ""))); err != nil {
		c.fail("username", "%s", horde.MessageOf(err))
	}
	if m.key = strings.TrimSpace(r.Header.Get("Idempotency-Key")); len(m.key) > maxIdempotencyKey {
		c.fail("Idempotency-Key", "the Idempotency-Key header must be at most %d characters", maxIdempotencyKey)
	}
	return m, c.err
}

// transferError gives a refused transfer the AI Horde's rc for the side at
// fault: a flagged or anonymous receiver is TargetAccountFlagged or
// KudosTransferToAnon, where the refusal's code (RC) names the giver.
func transferError(err error, from horde.User) error {
	he := errs.As(err)
	if he == nil {
		return err
	}
	var rc string
	switch {
	case he.Code == kudos.RefuseFlagged && !from.Flagged:
		rc = "TargetAccountFlagged"
	case he.Code == kudos.RefuseAnonymous && !from.Anonymous():
		rc = "KudosTransferToAnon"
	default:
		return err
	}
	named := *he
	named.Code = rc
	return &named
}

package api

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/errs"
	"github.com/hordebot/hordebot/kudos"
)

// Awarder gives moderators' kudos awards. The kudos engine implements it.
type Awarder interface {
	// Award pays a moderation award at once; a refusal is a kudos.Refuse
	// error (not_moderator, anonymous, self, flagged, amount,
	// unknown_user); a replayed Key pays nothing more.
	Award(ctx context.Context, a kudos.ModeratorAward) error
}

// kudosAward is POST /kudos/award: a moderator awards kudos (default 100,
// as on the AI Horde) to username ("name#id"), as a moderation award. An
// Idempotency-Key header makes a retried award pay once.
func (s *server) kudosAward(w http.ResponseWriter, r *http.Request) {
	if s.opt.Awards == nil {
		s.writeError(w, r, horde.Errorf(horde.KindDisabled, "AwardsDisabled", "kudos awards are not enabled on this horde"))
		return
	}
	var b aihorde.KudosAward
	if _, err := s.decodeBody(w, r, s.bodyLimit(limitSmall), &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	in, err := readKudosMove(r, b.Amount, aihorde.DefaultAwardAmount, b.Username)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	amount, toID, toName, key := in.amount, in.toID, in.toName, in.key
	by, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !by.Moderator {
		s.writeError(w, r, horde.Errorf(horde.KindForbidden, "NotAllowedAwards", "only moderators may award kudos"))
		return
	}
	to, err := s.h.UserInfo(r.Context(), toID)
	if err == nil && !strings.EqualFold(to.User.Name, toName) {
		err = horde.NotFoundf("UserNotFound", "no user %s", horde.QuoteInput(fmt.Sprintf("%s#%d", toName, toID)))
	}
	if horde.IsKind(err, horde.KindNotFound) {
		err = &horde.Error{Kind: horde.KindInvalid, Code: "InvalidAwardUsername", Field: "username",
			Message: "no user " + horde.QuoteInput(fmt.Sprintf("%s#%d", toName, toID))}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if key == "" {
		key = uuid.NewString()
	}
	key = "api-award:" + strconv.FormatInt(by.ID, 10) + ":" + key
	err = s.opt.Awards.Award(r.Context(), kudos.ModeratorAward{ModeratorID: by.ID, ReceiverID: toID, Amount: amount, Reason: "API award", Key: key})
	switch errs.CodeOf(err) {
	case kudos.RefuseAnonymous:
		err = &horde.Error{Kind: horde.KindInvalid, Code: "KudosAwardToAnon", Field: "username", Message: "the anonymous user cannot be awarded kudos", Err: err}
	case kudos.RefuseNotModerator:
		err = &horde.Error{Kind: horde.KindForbidden, Code: "NotAllowedAwards", Message: "only moderators may award kudos", Err: err}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, aihorde.KudosAwardResponse{Awarded: amount})
}

// ipTimeouts reports the feature off when the API has no IP timeouts.
func (s *server) ipTimeouts(w http.ResponseWriter, r *http.Request) (*horde.IPTimeouts, bool) {
	if s.opt.IPTimeouts == nil {
		s.writeError(w, r, horde.Errorf(horde.KindDisabled, "FeatureDisabled", "IP timeouts are not enabled on this horde"))
		return nil, false
	}
	return s.opt.IPTimeouts, true
}

// listIPTimeouts is GET /operations/ipaddr: every running timeout (moderators).
func (s *server) listIPTimeouts(w http.ResponseWriter, r *http.Request) {
	s.answerIPTimeouts(w, r, "")
}

// ipTimeout is GET /operations/ipaddr/{ipaddr}: the timeouts covering one
// address, as a list like the AI Horde's (empty when it is in none).
func (s *server) ipTimeout(w http.ResponseWriter, r *http.Request) {
	s.answerIPTimeouts(w, r, r.PathValue("ipaddr"))
}

func (s *server) answerIPTimeouts(w http.ResponseWriter, r *http.Request, addr string) {
	t, ok := s.ipTimeouts(w, r)
	if !ok {
		return
	}
	by, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	list, err := t.List(r.Context(), by)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	now := s.clock.Now()
	out := []aihorde.IPTimeout{}
	for _, it := range list {
		if addr != "" && it.Addr != addr {
			continue
		}
		out = append(out, aihorde.IPTimeout{IPAddr: it.Addr, Seconds: int64(math.Ceil(it.Until.Sub(now).Seconds()))})
	}
	s.ok(w, out)
}

// addIPTimeout is POST /operations/ipaddr {ipaddr, hours}: a moderator puts
// an address or CIDR block in timeout; until then every route but these
// answers it 403 TimeoutIP.
func (s *server) addIPTimeout(w http.ResponseWriter, r *http.Request) {
	t, ok := s.ipTimeouts(w, r)
	if !ok {
		return
	}
	var b aihorde.IPTimeoutAdd
	if _, err := s.decodeBody(w, r, s.bodyLimit(limitSmall), &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	var c check
	if b.IPAddr == nil {
		c.fail("ipaddr", "ipaddr is required")
	}
	if b.Hours == nil {
		c.fail("hours", "hours is required")
	}
	if c.err != nil {
		s.writeError(w, r, c.err)
		return
	}
	by, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := t.Add(r.Context(), by, *b.IPAddr, time.Duration(*b.Hours)*time.Hour); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, aihorde.SimpleResponse{Message: "OK"})
}

// deleteIPTimeout is DELETE /operations/ipaddr {ipaddr}: a moderator lifts a timeout.
func (s *server) deleteIPTimeout(w http.ResponseWriter, r *http.Request) {
	t, ok := s.ipTimeouts(w, r)
	if !ok {
		return
	}
	var b aihorde.IPTimeoutDelete
	if _, err := s.decodeBody(w, r, s.bodyLimit(limitSmall), &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	if b.IPAddr == nil {
		s.writeError(w, r, horde.Invalidf("ipaddr", "ipaddr is required"))
		return
	}
	by, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := t.Remove(r.Context(), by, *b.IPAddr); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, aihorde.SimpleResponse{Message: "OK"})
}

// allowIP refuses a client address in timeout with 403 TimeoutIP, except on
// the routes that manage timeouts (so a moderator can lift their own).
func (s *server) allowIP(w http.ResponseWriter, r *http.Request) bool {
	if s.opt.IPTimeouts == nil || strings.HasPrefix(r.URL.Path, Prefix+"/operations/ipaddr") {
		return true
	}
	left, blocked := s.opt.IPTimeouts.Blocked(s.clientIP(r))
	if !blocked {
		return true
	}
	secs := retryAfterSeconds(left)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.writeError(w, r, horde.Errorf(horde.KindForbidden, "TimeoutIP",
		"your address is in timeout for %d more seconds", secs))
	return false
}

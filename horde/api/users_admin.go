package api

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// maxUsersPage is the last page GET /users answers with users; past it the
// AI Horde answers an empty list without a query.
const maxUsersPage = 10000

// users lists the users, 25 a page (?page= from 1), by kudos (the default)
// or by account age (?sort=age), as the AI Horde's GET /users. It needs no
// key: it shows what GET /users/{id} shows anyone.
func (s *server) users(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			s.writeError(w, r, horde.Invalidf("page", "page must be a whole number, not %s", horde.QuoteInput(v)))
			return
		}
		page = max(n, 1) // as the AI Horde: a page below 1 is the first
	}
	order := horde.SortByKudos
	switch v := q.Get("sort"); v {
	case "", string(horde.SortByKudos):
	case string(horde.SortByAge):
		order = horde.SortByAge
	default:
		s.writeError(w, r, horde.Invalidf("sort", "sort must be kudos or age, not %s", horde.QuoteInput(v)))
		return
	}
	out := []aihorde.User{}
	if page <= maxUsersPage {
		infos, err := s.h.ListUsers(r.Context(), order, page)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		for _, info := range infos {
			out = append(out, s.userOf(info))
		}
	}
	s.ok(w, out)
}

// unsupportedUserFields are the AI Horde's user fields hordebot has no
// meaning for. A PUT naming one is refused before anything changes, so
// that a client never believes a setting took effect.
var unsupportedUserFields = []struct {
	field string
	set   func(b *aihorde.UserModify) bool
	why   string
}{
	{"usage_multiplier", func(b *aihorde.UserModify) bool { return b.UsageMultiplier != nil }, "kudos costs are the horde's payment rules, the same for every member"},
	{"worker_invited", func(b *aihorde.UserModify) bool { return b.WorkerInvited != nil }, "this horde has no worker invite-only mode"},
	{"monthly_kudos", func(b *aihorde.UserModify) bool { return b.MonthlyKudos != nil }, "recurring kudos are given by Discord role (kudos.recurring in the config)"},
	{"public_workers", func(b *aihorde.UserModify) bool { return b.PublicWorkers != nil }, "workers never show their owner here"},
	{"customizer", func(b *aihorde.UserModify) bool { return b.Customizer != nil }, "any worker may serve any model here"},
	{"vpn", func(b *aihorde.UserModify) bool { return b.VPN != nil }, "this horde does not refuse workers behind a VPN"},
	{"service", func(b *aihorde.UserModify) bool { return b.Service != nil }, "this horde has no service accounts"},
	{"education", func(b *aihorde.UserModify) bool { return b.Education != nil }, "this horde has no education accounts; set concurrency instead"},
	{"special", func(b *aihorde.UserModify) bool { return b.Special != nil }, "this horde has no special payloads"},
	{"undelete", func(b *aihorde.UserModify) bool { return b.Undelete != nil }, "users are not deleted here"},
	{"filtered", func(b *aihorde.UserModify) bool { return b.Filtered != nil }, "the prompt filter applies to every member"},
	{"generate_proxy_passkey", func(b *aihorde.UserModify) bool { return b.GenerateProxy != nil }, "this horde has no service accounts"},
	{"contact", func(b *aihorde.UserModify) bool { return b.Contact != nil }, "this horde keeps no contact details"},
	{"admin_comment", func(b *aihorde.UserModify) bool { return b.AdminComment != nil }, "moderators' notes go to the audit channel"},
}

// updateUser changes a user, as the AI Horde's PUT /users/{id}: moderators
// may set kudos (added as a ledger entry of kind admin, the moderator as
// actor; an Idempotency-Key header makes a retry add nothing more),
// concurrency, moderator, trusted (which releases escrow), flagged and
// reset_suspicion; a user may change their own username. The answer names
// what changed, with its new value.
func (s *server) updateUser(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 0 {
		s.writeError(w, r, horde.NotFoundf("UserNotFound", "no user with id %s; use the number after the # of name#id", horde.QuoteInput(raw)))
		return
	}
	var b aihorde.UserModify
	if _, err := s.decodeBody(w, r, s.bodyLimit(limitSmall), &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	for _, u := range unsupportedUserFields {
		if u.set(&b) {
			s.writeError(w, r, &horde.Error{Kind: horde.KindInvalid, Code: "BadRequest", Field: u.field,
				Message: fmt.Sprintf("%s is not supported by this horde (%s); nothing was changed", u.field, u.why)})
			return
		}
	}
	change := horde.UserChange{
		Concurrency: b.Concurrency, Moderator: b.Moderator, Trusted: b.Trusted, Flagged: b.Flagged,
		Username: b.Username, ResetSuspicion: b.ResetSuspicion,
	}
	if b.Kudos != nil {
		k := *b.Kudos
		if k != math.Trunc(k) || math.IsInf(k, 0) || math.Abs(k) > float64(horde.MaxAdjustment) {
			s.writeError(w, r, horde.Invalidf("kudos", "kudos must be a whole number within ±%d, not %g", horde.MaxAdjustment, k))
			return
		}
		n := int64(k)
		change.Kudos = &n
	}
	key := strings.TrimSpace(r.Header.Get("Idempotency-Key"))
	if len(key) > maxIdempotencyKey {
		s.writeError(w, r, horde.Invalidf("Idempotency-Key", "the Idempotency-Key header must be at most %d characters", maxIdempotencyKey))
		return
	}
	by, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if key != "" {
		key = fmt.Sprintf("api:%d:%d:%s", by.ID, id, key)
	}
	res, err := s.h.ModifyUser(r.Context(), by, id, change, key)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := aihorde.UserModified{
		Concurrency: res.Concurrency, Moderator: res.Moderator, Username: res.Username,
		Trusted: res.Trusted, Flagged: res.Flagged, NewSuspicion: res.NewSuspicion,
	}
	if res.NewKudos != nil {
		k := float64(*res.NewKudos)
		out.NewKudos = &k
	}
	s.ok(w, out)
}

package horde

import (
	"context"
	"fmt"
	"strings"
)

// UserAdminStore keeps what moderators set on users beyond trust and flags.
type UserAdminStore interface {
	// Users returns one page of users (the anonymous user included), in
	// the order sort names, skipping offset and returning at most limit.
	Users(ctx context.Context, sort UserSort, offset, limit int) ([]User, error)
	// SetConcurrency sets a user's concurrency override; nil removes it
	// (the horde's default applies). ErrNotFound for an unknown user.
	SetConcurrency(ctx context.Context, userID int64, limit *int) error
	// ConcurrencyOverrides returns every user's override, by user id.
	ConcurrencyOverrides(ctx context.Context) (map[int64]int, error)
	// SetModerator sets a user's moderator status. ErrNotFound for an
	// unknown user.
	SetModerator(ctx context.Context, userID int64, moderator bool) error
	// RenameUser changes a user's name. ErrNotFound for an unknown user.
	RenameUser(ctx context.Context, userID int64, name string) error
}

// UserSort is the order of a users list, as the AI Horde's GET /users
// ?sort= names it.
type UserSort string

// The orders of a users list.
const (
	SortByKudos UserSort = "kudos" // most kudos first (the default)
	SortByAge   UserSort = "age"   // oldest account first
)

// UsersPerPage is how many users one page of GET /users holds, as on the
// AI Horde.
const UsersPerPage = 25

// MaxUserConcurrency bounds a concurrency override, as the AI Horde's
// ModifyUserInput does (0..500).
const MaxUserConcurrency = 500

// Operator is the moderator the command line acts as (`hordebot user set`):
// the horde's operator, who needs no key.
var Operator = User{ID: -1, Name: "command line", Moderator: true}

// UserChange is what PUT /users/{id} may change; nil fields stay as they
// are. Every field but Username needs a moderator; Username may also be
// changed by the user themself.
type UserChange struct {
	Kudos          *int64 // added to the balance (negative takes), a ledger entry of kind admin
	Concurrency    *int   // the user's cap of open items, 0..MaxUserConcurrency
	Moderator      *bool
	Trusted        *bool // trusting releases the user's escrow
	Flagged        *bool
	Username       *string
	ResetSuspicion *bool // sets the suspicion of every worker of the user back to zero
}

// empty reports whether c changes nothing.
func (c UserChange) empty() bool {
	return c.Kudos == nil && c.Concurrency == nil && c.Moderator == nil && c.Trusted == nil &&
		c.Flagged == nil && c.Username == nil && c.ResetSuspicion == nil
}

// UserChanged is the outcome of ModifyUser: the user as saved, and the
// fields the change set (nil: not asked), as the AI Horde answers them.
type UserChanged struct {
	User          User
	NewKudos      *int64 // the balance after the adjustment
	Concurrency   *int
	Moderator     *bool
	Trusted       *bool
	Flagged       *bool
	Username      *string // "name#id"
	NewSuspicion  *int64
	KudosReleased int64 // escrow released by trusting
}

// ListUsers returns page (from 1) of the users in the given order, with
// their find_user details. A page past the end is empty.
func (h *Horde) ListUsers(ctx context.Context, order UserSort, page int) ([]UserInfo, error) {
	if order != SortByAge {
		order = SortByKudos
	}
	page = max(page, 1)
	us, err := h.store.Users(ctx, order, (page-1)*UsersPerPage, UsersPerPage)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]UserInfo, 0, len(us))
	for _, u := range us {
		info, err := h.UserInfo(ctx, u.ID)
		if IsKind(err, KindNotFound) {
			continue // deleted since the page was read
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

// ModifyUser applies c to the user userID on behalf of by (PUT /users/{id}).
// Every permission and value is checked before anything changes, so that a
// refused change changes nothing: a non-moderator asking for a moderator's
// field is KindForbidden (NotModerator), the anonymous user may change
// nothing (AnonForbiddenUserMod), an empty change is KindInvalid
// (NoUserModSelected), an unknown user KindNotFound. key makes the kudos
// adjustment idempotent (a retry with the same key adds nothing more).
func (h *Horde) ModifyUser(ctx context.Context, by User, userID int64, c UserChange, key string) (UserChanged, error) {
	if c.empty() {
		return UserChanged{}, Errorf(KindInvalid, "NoUserModSelected", "no user modification selected: send kudos, concurrency, moderator, trusted, flagged, username or reset_suspicion")
	}
	u, err := h.user(ctx, userID)
	if err != nil {
		return UserChanged{}, err
	}
	if by.Anonymous() {
		return UserChanged{}, Errorf(KindForbidden, "AnonForbiddenUserMod", "the anonymous user cannot modify users")
	}
	if !by.Moderator {
		if f := c.moderatorField(); f != "" {
			return UserChanged{}, &Error{Kind: KindForbidden, Code: "NotModerator", Field: f,
				Message: fmt.Sprintf("only moderators may change %s", f)}
		}
		if by.ID != userID {
			return UserChanged{}, &Error{Kind: KindForbidden, Code: "NotModerator", Field: "username",
				Message: "only moderators may rename another user"}
		}
	}
	if c.Kudos != nil && (*c.Kudos == 0 || *c.Kudos > MaxAdjustment || *c.Kudos < -MaxAdjustment) {
		if *c.Kudos == 0 {
			return UserChanged{}, Invalidf("kudos", "kudos must not be zero")
		}
		return UserChanged{}, Invalidf("kudos", "kudos must be within ±%d", MaxAdjustment)
	}
	if c.Concurrency != nil && (*c.Concurrency < 0 || *c.Concurrency > MaxUserConcurrency) {
		return UserChanged{}, Invalidf("concurrency", "concurrency must be between 0 and %d, not %d", MaxUserConcurrency, *c.Concurrency)
	}
	if c.Username != nil {
		name, err := validName("username", *c.Username, MaxUserNameLength)
		if err != nil {
			return UserChanged{}, err
		}
		c.Username = &name
	}
	if userID == AnonymousUserID && (c.Moderator != nil && *c.Moderator || c.Trusted != nil && *c.Trusted) {
		return UserChanged{}, Errorf(KindForbidden, "AnonForbiddenUserMod", "the anonymous user cannot be a moderator or trusted")
	}

	out := UserChanged{User: u}
	reason := "set by " + by.Name + " over the API"
	if by.ID == Operator.ID {
		reason = "set from the command line"
	}
	if c.Username != nil {
		if err := h.store.RenameUser(ctx, userID, *c.Username); err != nil {
			return UserChanged{}, fmt.Errorf("rename user %d: %w", userID, err)
		}
		out.User.Name = *c.Username
		out.Username = ptr(out.User.Username())
	}
	if c.Moderator != nil {
		if err := h.store.SetModerator(ctx, userID, *c.Moderator); err != nil {
			return UserChanged{}, fmt.Errorf("set moderator of user %d: %w", userID, err)
		}
		out.User.Moderator = *c.Moderator
		out.Moderator = c.Moderator
		h.log.Info("user moderator set", "user", userID, "moderator", *c.Moderator, "by", by.ID)
	}
	if c.Concurrency != nil {
		if err := h.store.SetConcurrency(ctx, userID, c.Concurrency); err != nil {
			return UserChanged{}, fmt.Errorf("set concurrency of user %d: %w", userID, err)
		}
		h.mu.Lock()
		h.limits[userID] = *c.Concurrency
		h.mu.Unlock()
		out.Concurrency = ptr(h.Concurrency(userID))
	}
	if c.Flagged != nil {
		fu, err := h.SetFlagged(ctx, by, userID, *c.Flagged, reason)
		if err != nil {
			return UserChanged{}, err
		}
		out.User.Flagged = fu.Flagged
		out.Flagged = ptr(fu.Flagged)
	}
	if c.Trusted != nil {
		rel, err := h.SetTrusted(ctx, by, userID, *c.Trusted, reason)
		if err != nil {
			return UserChanged{}, err
		}
		out.User.Trusted = *c.Trusted
		out.Trusted = c.Trusted
		out.KudosReleased = rel.Amount
	}
	if c.ResetSuspicion != nil && *c.ResetSuspicion {
		ws, err := h.Workers(ctx, "")
		if err != nil {
			return UserChanged{}, err
		}
		for _, w := range ws {
			if w.OwnerID != userID {
				continue
			}
			if err := h.mod.store.ResetSuspicion(ctx, w.ID); err != nil {
				return UserChanged{}, fmt.Errorf("reset suspicion of worker %s: %w", w.ID, err)
			}
		}
		out.NewSuspicion = ptr(int64(0))
	}
	if c.Kudos != nil {
		if strings.TrimSpace(key) == "" {
			key = "user-mod:" + newID()
		}
		applied, err := h.AdjustKudos(ctx, by, userID, *c.Kudos, reason, key)
		if err != nil {
			return UserChanged{}, err
		}
		if applied {
			h.credit(userID, *c.Kudos)
		}
		bal, err := h.store.Balance(ctx, userID)
		if err != nil {
			return UserChanged{}, fmt.Errorf("read balance of user %d: %w", userID, err)
		}
		out.NewKudos = &bal
	}
	return out, nil
}

// moderatorField names the first field of c only a moderator may change,
// or "" if none.
func (c UserChange) moderatorField() string {
	switch {
	case c.Kudos != nil:
		return "kudos"
	case c.Concurrency != nil:
		return "concurrency"
	case c.Moderator != nil:
		return "moderator"
	case c.Trusted != nil:
		return "trusted"
	case c.Flagged != nil:
		return "flagged"
	case c.ResetSuspicion != nil:
		return "reset_suspicion"
	}
	return ""
}

// loadLimits reads the users' concurrency overrides into memory.
func (h *Horde) loadLimits(ctx context.Context) error {
	limits, err := h.store.ConcurrencyOverrides(ctx)
	if err != nil {
		return fmt.Errorf("load concurrency overrides: %w", err)
	}
	h.limits = limits
	if h.limits == nil {
		h.limits = make(map[int64]int)
	}
	return nil
}

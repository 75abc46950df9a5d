package horde

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// MaxUserNameLength bounds a user's name.
const MaxUserNameLength = 100

// Authenticate resolves an API key. The anonymous key resolves to the
// anonymous user. Unknown keys are KindUnauthorized.
func (h *Horde) Authenticate(ctx context.Context, apiKey string) (Credential, error) {
	apiKey = strings.TrimSpace(apiKey)
	if apiKey == AnonymousKey {
		u, err := h.store.User(ctx, AnonymousUserID)
		if notFound(err) {
			return Credential{User: User{ID: AnonymousUserID, Name: "Anonymous"}}, nil
		}
		if err != nil {
			return Credential{}, fmt.Errorf("read the anonymous user: %w", err)
		}
		return Credential{User: u}, nil
	}
	if apiKey == "" {
		return Credential{}, Errorf(KindUnauthorized, "InvalidAPIKey", "an API key is required")
	}
	c, err := h.store.Credential(ctx, HashKey(apiKey))
	if notFound(err) {
		return Credential{}, Errorf(KindUnauthorized, "InvalidAPIKey", "no user has this API key")
	}
	if err != nil {
		return Credential{}, fmt.Errorf("resolve api key: %w", err)
	}
	return c, nil
}

// CreateUser creates an API user and returns its new key (shown once).
func (h *Horde) CreateUser(ctx context.Context, name string) (User, string, error) {
	name, err := validName("username", name, MaxUserNameLength)
	if err != nil {
		return User{}, "", err
	}
	key, err := NewAPIKey()
	if err != nil {
		return User{}, "", err
	}
	u, err := h.store.CreateUser(ctx, User{Name: name, CreatedAt: h.clock.Now()}, HashKey(key))
	if err != nil {
		return User{}, "", fmt.Errorf("create user %q: %w", name, err)
	}
	return u, key, nil
}

// DiscordUser returns the user linked to a Discord account, creating it on
// first use. A changed display name is saved.
func (h *Horde) DiscordUser(ctx context.Context, discordID, name string) (User, error) {
	discordID = strings.TrimSpace(discordID)
	if discordID == "" {
		return User{}, Invalidf("discord_id", "a Discord id is required")
	}
	name = strings.TrimSpace(name)
	if len(name) > MaxUserNameLength {
		name = name[:MaxUserNameLength]
	}
	for attempt := 0; ; attempt++ {
		u, err := h.store.UserByDiscordID(ctx, discordID)
		if err == nil {
			if name != "" && name != u.Name {
				u.Name = name
				if err := h.store.UpdateUser(ctx, u); err != nil {
					return User{}, fmt.Errorf("rename user %d: %w", u.ID, err)
				}
			}
			return u, nil
		}
		if !errors.Is(err, ErrNotFound) && !IsKind(err, KindNotFound) {
			return User{}, fmt.Errorf("find user of discord %s: %w", discordID, err)
		}
		if name == "" {
			name = "discord-" + discordID
		}
		u, err = h.store.CreateUser(ctx, User{Name: name, DiscordID: discordID, CreatedAt: h.clock.Now()}, "")
		if IsKind(err, KindConflict) && attempt == 0 {
			continue // created concurrently: read it
		}
		if err != nil {
			return User{}, fmt.Errorf("create user of discord %s: %w", discordID, err)
		}
		return u, nil
	}
}

// KnownDiscordUser returns the user linked to a Discord account without
// creating one: KindNotFound (code UserNotFound) if the account has none.
// It is for ids a caller cannot vouch for (a form's custom ID), where
// DiscordUser would make a user of any id.
func (h *Horde) KnownDiscordUser(ctx context.Context, discordID string) (User, error) {
	discordID = strings.TrimSpace(discordID)
	if discordID == "" {
		return User{}, Invalidf("discord_id", "a Discord id is required")
	}
	u, err := h.store.UserByDiscordID(ctx, discordID)
	if notFound(err) {
		return User{}, NotFoundf("UserNotFound", "no user is linked to Discord account %s", discordID)
	}
	if err != nil {
		return User{}, fmt.Errorf("find user of discord %s: %w", discordID, err)
	}
	return u, nil
}

// user reads a user, turning "not found" into a KindNotFound *Error.
func (h *Horde) user(ctx context.Context, id int64) (User, error) {
	return readUser(ctx, h.store, id)
}

// readUser reads a user from st, turning "not found" into a KindNotFound
// *Error.
func readUser(ctx context.Context, st interface {
	User(ctx context.Context, id int64) (User, error)
}, id int64) (User, error) {
	u, err := st.User(ctx, id)
	if notFound(err) {
		return User{}, NotFoundf("UserNotFound", "no user has id %d", id)
	}
	if err != nil {
		return User{}, fmt.Errorf("read user %d: %w", id, err)
	}
	return u, nil
}

// UserInfo returns the find_user view of a user; KindNotFound if none.
func (h *Horde) UserInfo(ctx context.Context, userID int64) (UserInfo, error) {
	u, err := h.user(ctx, userID)
	if err != nil {
		return UserInfo{}, err
	}
	info := UserInfo{User: u, Concurrency: h.Concurrency(userID)}
	_, info.Held = h.Held(ctx, userID)
	if info.Kudos, err = h.store.Balance(ctx, userID); err != nil {
		return UserInfo{}, fmt.Errorf("read balance of user %d: %w", userID, err)
	}
	if info.Requested, err = h.store.RequestedItems(ctx, userID); err != nil {
		return UserInfo{}, fmt.Errorf("count requests of user %d: %w", userID, err)
	}
	h.mu.Lock()
	for _, ws := range h.workers {
		if ws.w.OwnerID == userID {
			info.WorkerIDs = append(info.WorkerIDs, ws.w.ID)
			info.Generated += ws.w.Fulfilled
		}
	}
	h.mu.Unlock()
	sort.Strings(info.WorkerIDs)
	return info, nil
}

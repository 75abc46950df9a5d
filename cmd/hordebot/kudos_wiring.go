package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// kudosConfig decodes the config file's kudos section over kudos.DefaultConfig.
// The horde section's floors are the one source of the floors.
func kudosConfig(cfg Config) (kudos.Config, error) {
	kc := kudos.DefaultConfig()
	if len(cfg.Kudos) > 0 && !bytes.Equal(bytes.TrimSpace(cfg.Kudos), []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(cfg.Kudos))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&kc); err != nil {
			return kc, fmt.Errorf("config kudos: %w", err)
		}
	}
	kc.MemberFloor = cfg.Horde.MemberFloor
	if cfg.Horde.AnonymousFloor != 0 {
		kc.AnonymousFloor = cfg.Horde.AnonymousFloor
	}
	if err := kc.Validate(); err != nil {
		return kc, fmt.Errorf("config kudos: %w", err)
	}
	return kc, nil
}

// transferer adapts the kudos engine to the API's /kudos/transfer.
type transferer struct{ k *kudos.Engine }

func (t transferer) Transfer(ctx context.Context, from horde.User, to int64, amount int64, key string) error {
	return t.k.Transfer(ctx, from.ID, to, amount, key)
}

// kudosHooks forwards the engine's (and the horde's moderation) callbacks to the bot once it exists; until
// then (and with no bot, as in `hordebot api`) they do nothing.
type kudosHooks struct {
	mu            sync.RWMutex
	members       kudos.MemberDirectory
	onLeaderboard func(context.Context, kudos.Leaderboard) error
	onArtTally    func(context.Context, kudos.ArtTallyResult) error
	onModeration  func(context.Context, horde.ModerationEvent)
}

func (h *kudosHooks) set(m kudos.MemberDirectory, lb func(context.Context, kudos.Leaderboard) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.members, h.onLeaderboard = m, lb
}

func (h *kudosHooks) setArtTally(fn func(context.Context, kudos.ArtTallyResult) error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onArtTally = fn
}

func (h *kudosHooks) setModeration(fn func(context.Context, horde.ModerationEvent)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.onModeration = fn
}

// moderation forwards the horde's moderation events (flags, CSAM reports,
// refused prompts, suspicious workers) to the bot's audit channel; with no
// bot they are only logged by the horde.
func (h *kudosHooks) moderation(ctx context.Context, ev horde.ModerationEvent) {
	h.mu.RLock()
	fn := h.onModeration
	h.mu.RUnlock()
	if fn != nil {
		fn(ctx, ev)
	}
}

func (h *kudosHooks) MembersWithRoles(ctx context.Context, roles []string) (map[string][]int64, error) {
	h.mu.RLock()
	m := h.members
	h.mu.RUnlock()
	if m == nil {
		return nil, fmt.Errorf("no Discord connection to list role members")
	}
	return m.MembersWithRoles(ctx, roles)
}

func (h *kudosHooks) leaderboard(ctx context.Context, lb kudos.Leaderboard) error {
	h.mu.RLock()
	fn := h.onLeaderboard
	h.mu.RUnlock()
	if fn == nil {
		return nil
	}
	return fn(ctx, lb)
}

// artTally forwards the daily art tally's payouts to the bot, which
// announces them in the art channel.
func (h *kudosHooks) artTally(ctx context.Context, r kudos.ArtTallyResult) error {
	h.mu.RLock()
	fn := h.onArtTally
	h.mu.RUnlock()
	if fn == nil {
		return nil
	}
	return fn(ctx, r)
}

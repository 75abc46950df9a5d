package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/kudos/schedule"
)

// kudosConfig decodes the config file's kudos section over kudos.DefaultConfig.
// Its moderators are discord.moderator_role_ids, the one place moderators
// are defined, merged with kudos.moderator_roles, the deprecated alias
// (DeprecatedKeys reports its use).
func kudosConfig(cfg Config) (kudos.Config, error) {
	kc := kudos.DefaultConfig()
	if len(cfg.Kudos) > 0 && !bytes.Equal(bytes.TrimSpace(cfg.Kudos), []byte("null")) {
		dec := json.NewDecoder(bytes.NewReader(cfg.Kudos))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&kc); err != nil {
			return kc, fmt.Errorf("config kudos: %w", err)
		}
	}
	kc.ModeratorRoles = union(cfg.Discord.ModeratorRoleIDs, kc.ModeratorRoles)
	if err := kc.Validate(); err != nil {
		return kc, fmt.Errorf("config kudos: %w", err)
	}
	if err := schedule.Validate(kc.Schedules); err != nil {
		return kc, fmt.Errorf("config kudos: %w", err)
	}
	return kc, nil
}

// union is a then the elements of b not in a, without repeats.
func union(a, b []string) []string {
	seen := make(map[string]bool, len(a)+len(b))
	var out []string
	for _, s := range append(append([]string(nil), a...), b...) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// transferer adapts the kudos engine to the API's /kudos/transfer.
type transferer struct{ k *kudos.Engine }

func (t transferer) Transfer(ctx context.Context, from horde.User, to int64, amount int64, key string) error {
	return t.k.Transfer(ctx, from.ID, to, amount, key)
}

// kudosHooks forwards the engine's (and the horde's moderation) callbacks to the bot once it exists; until
// then (and with no bot, as in `hordebot api`) they do nothing.
type kudosHooks struct{ bot atomic.Pointer[bot.Bot] }

func (h *kudosHooks) set(b *bot.Bot) { h.bot.Store(b) }

// moderation forwards the horde's moderation events (flags, CSAM reports,
// refused prompts, suspicious workers) to the bot's audit channel; with no
// bot they are only logged by the horde.
func (h *kudosHooks) moderation(ctx context.Context, ev horde.ModerationEvent) {
	if b := h.bot.Load(); b != nil {
		b.OnModeration(ctx, ev)
	}
}

func (h *kudosHooks) MembersWithRoles(ctx context.Context, roles []string) (map[string][]int64, error) {
	b := h.bot.Load()
	if b == nil {
		return nil, fmt.Errorf("no Discord connection to list role members")
	}
	return b.MembersWithRoles(ctx, roles)
}

func (h *kudosHooks) leaderboard(ctx context.Context, lb kudos.Leaderboard) error {
	if b := h.bot.Load(); b != nil {
		return b.PostLeaderboard(ctx, lb)
	}
	return nil
}

// artTally forwards the daily art tally's payouts to the bot, which
// announces them in the art channel.
func (h *kudosHooks) artTally(ctx context.Context, r kudos.ArtTallyResult) error {
	if b := h.bot.Load(); b != nil {
		return b.PostArtTally(ctx, r)
	}
	return nil
}

package bot

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/horde"
)

// registerCommands bulk-overwrites the slash commands in each configured
// guild (or globally), skipping a target whose stored hash of the
// definitions matches: Discord rate-limits command updates, and a restart
// should not spend them.
func (b *Bot) registerCommands(ctx context.Context, s *discordgo.Session) error {
	appID := applicationID(s)
	if appID == "" {
		return fmt.Errorf("register commands: no application id after READY")
	}
	defs := b.set.Definitions()
	hash, err := definitionsHash(defs)
	if err != nil {
		return err
	}
	targets := b.cfg.GuildIDs
	if len(targets) == 0 {
		targets = []string{""}
	}
	for _, g := range targets {
		key := "commands_hash:global"
		if g != "" {
			key = "commands_hash:guild:" + g
		}
		if b.deps.Store != nil {
			old, err := b.deps.Store.DiscordSetting(ctx, key)
			if err != nil && !horde.IsKind(err, horde.KindNotFound) {
				return fmt.Errorf("read %s: %w", key, err)
			}
			if old == hash {
				b.log.Debug("slash commands unchanged", "guild", g)
				continue
			}
		}
		if err := b.cfg.Retry.Do(ctx, "register slash commands", func(opts ...discordgo.RequestOption) error {
			_, err := s.ApplicationCommandBulkOverwrite(appID, g, defs, opts...)
			return err
		}); err != nil {
			return fmt.Errorf("register commands in %q: %w", g, err)
		}
		b.log.Info("slash commands registered", "guild", g, "count", len(defs))
		if b.deps.Store != nil {
			if err := b.deps.Store.SetDiscordSetting(ctx, key, hash); err != nil {
				return fmt.Errorf("save %s: %w", key, err)
			}
		}
	}
	return nil
}

// definitionsHash is the SHA-256 of the definitions' JSON (sorted by name).
func definitionsHash(defs []*discordgo.ApplicationCommand) (string, error) {
	b, err := json.Marshal(defs)
	if err != nil {
		return "", fmt.Errorf("encode command definitions: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// applicationID is the bot's application id from READY (the bot user's id
// as a fallback: they are equal for bots created since 2016).
func applicationID(s *discordgo.Session) string {
	if s.State == nil {
		return ""
	}
	s.State.RLock()
	defer s.State.RUnlock()
	if s.State.Application != nil && s.State.Application.ID != "" {
		return s.State.Application.ID
	}
	if s.State.User != nil {
		return s.State.User.ID
	}
	return ""
}

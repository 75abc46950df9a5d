package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/commands"
	"github.com/hordebot/hordebot/kudos"
)

// errNotStarted is returned by posting callbacks called before Start.
var errNotStarted = errors.New("bot not started")

// PostLeaderboard posts a weekly leaderboard to the leaderboard channel. It
// is the kudos engine's OnLeaderboard callback (kudos.WithOnLeaderboard).
// Without a configured channel it does nothing.
func (b *Bot) PostLeaderboard(ctx context.Context, lb kudos.Leaderboard) error {
	if b.cfg.LeaderboardChannelID == "" {
		b.log.Info("weekly leaderboard not posted: no leaderboard channel configured", "period", lb.Period.Name)
		return nil
	}
	p := b.channelPrinter(b.cfg.LeaderboardChannelID)
	text, err := commands.FormatLeaderboard(ctx, p, b.deps.Horde, lb, p.T("kudos.leaderboard.weekly_title", nil))
	if err != nil {
		return err
	}
	return b.Post(ctx, b.cfg.LeaderboardChannelID, text)
}

// PostArtTally announces a daily art tally's payouts in the art channel:
// who earned how much, for which posts. It is the kudos engine's OnArtTally
// callback (kudos.WithOnArtTally). Members are mentioned but not pinged.
// Without a configured art channel it does nothing.
func (b *Bot) PostArtTally(ctx context.Context, r kudos.ArtTallyResult) error {
	if b.cfg.ArtChannelID == "" {
		b.log.Info("art tally not announced: no art channel configured", "period", r.Period.Name)
		return nil
	}
	if len(r.Payouts) == 0 {
		return nil
	}
	text, err := b.formatArtTally(ctx, b.channelPrinter(b.cfg.ArtChannelID), r)
	if err != nil {
		return fmt.Errorf("art tally %s: %w", r.Period.Name, err)
	}
	return b.Post(ctx, b.cfg.ArtChannelID, text)
}

// guildPrinter is the language of the bot's posts in a guild and its DMs
// about that guild: the configured locale, else the guild's preferred
// locale (from the session's state), else English.
func (b *Bot) guildPrinter(guildID string) *locale.Printer {
	var preferred discordgo.Locale
	if s := b.sess(); s != nil && s.State != nil && guildID != "" {
		if g, err := s.State.Guild(guildID); err == nil {
			preferred = discordgo.Locale(g.PreferredLocale)
		}
	}
	return locale.Default().For(discordgo.Locale(b.cfg.Locale), preferred)
}

// channelPrinter is guildPrinter of a channel's guild.
func (b *Bot) channelPrinter(channelID string) *locale.Printer {
	return b.guildPrinter(b.guildOfChannel(channelID))
}

// Post sends a message to a channel with retries. Mentions in it are shown
// but ping nobody.
func (b *Bot) Post(ctx context.Context, channelID, text string) error {
	s := b.sess()
	if s == nil {
		return errNotStarted
	}
	msg := &discordgo.MessageSend{Content: text, AllowedMentions: &discordgo.MessageAllowedMentions{}}
	err := b.cfg.Retry.Do(ctx, "post to channel", func(opts ...discordgo.RequestOption) error {
		_, err := s.ChannelMessageSendComplex(channelID, msg, opts...)
		return err
	})
	if err != nil {
		return fmt.Errorf("post to channel %s: %w", channelID, err)
	}
	return nil
}

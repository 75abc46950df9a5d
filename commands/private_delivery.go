package commands

import (
	"context"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
)

// deliverPrivately sends a private result (/settings private) where only
// its requester sees it: an ephemeral follow-up on the interaction's token
// while it lasts (Discord allows files on ephemeral follow-ups), after
// which the ephemeral progress message is removed; else a DM. Never a
// channel message. A private result has no delete button: an ephemeral
// message is dismissed by its reader, and the bot cannot delete it.
func (s *Set) deliverPrivately(ctx context.Context, d delivery, r interact.Reply) {
	r.Components = withoutButton(r.Components, btnDelete)
	if s.tokenFresh(d) {
		params := &discordgo.WebhookParams{
			Content: r.Content, Embeds: r.Embeds, Components: r.Components, Files: r.Files,
			Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: interact.MentionUsersOnly(),
		}
		i := d.interaction()
		err := s.retry().Do(ctx, "send private result", func(opts ...discordgo.RequestOption) error {
			interact.RewindFiles(params.Files)
			_, err := s.sess().FollowupMessageCreate(i, true, params, opts...)
			return err
		})
		if err == nil {
			if err := s.retry().Do(ctx, "remove private progress message", func(opts ...discordgo.RequestOption) error {
				return s.sess().InteractionResponseDelete(i, opts...)
			}); err != nil && !interact.IsNotFound(err) {
				s.log.Warn("remove the progress message of a private result", "request", d.RequestID, "err", err)
			}
			s.forget(ctx, d)
			return
		}
		s.log.Warn("private result follow-up failed; sending a DM", "request", d.RequestID, "err", err)
	}
	if ctx.Err() != nil {
		return
	}
	msg := &discordgo.MessageSend{
		Content: r.Content, Embeds: r.Embeds, Components: r.Components, Files: r.Files,
		AllowedMentions: interact.MentionUsersOnly(),
	}
	if err := s.sendDM(ctx, d.UserID, msg); err != nil {
		if ctx.Err() == nil {
			s.log.Error("private result could not be delivered", "request", d.RequestID, "err", err)
		}
		return
	}
	s.forget(ctx, d)
}

// withoutButton is components without the buttons whose custom ID starts
// with prefix (rows left empty are dropped).
func withoutButton(components []discordgo.MessageComponent, prefix string) []discordgo.MessageComponent {
	if components == nil {
		return nil
	}
	out := []discordgo.MessageComponent{}
	for _, c := range components {
		row, ok := c.(discordgo.ActionsRow)
		if !ok {
			out = append(out, c)
			continue
		}
		var kept []discordgo.MessageComponent
		for _, b := range row.Components {
			if btn, ok := b.(discordgo.Button); ok && strings.HasPrefix(btn.CustomID, prefix+"/") {
				continue
			}
			kept = append(kept, b)
		}
		if len(kept) > 0 {
			out = append(out, discordgo.ActionsRow{Components: kept})
		}
	}
	return out
}

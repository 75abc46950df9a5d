package bot

import (
	"context"
	"fmt"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// onReactionAdd turns a member's reaction into the kudos engine's
// ReactionAdded. Replays after a gateway RESUME are harmless: the engine
// keeps one award per (giver, message, category) and refuses the rest as
// duplicates, which are never DMed about.
func (b *Bot) onReactionAdd(s *discordgo.Session, r *discordgo.MessageReactionAdd) {
	if !b.enter() {
		return
	}
	defer b.inflight.Done()
	var err error
	defer func() { b.eventDone("reaction_add", err) }()
	k := b.kudos()
	if k == nil {
		return
	}
	ev, ok := parseReaction(r.MessageReaction, r.Member, k.Config())
	if !ok {
		return
	}
	if self := b.selfID(s); self != "" && ev.UserID == self {
		return
	}
	ctx, cancel := b.handlerContext()
	defer cancel()
	if err = b.reactionAdded(ctx, s, ev); err != nil {
		b.log.Error("reaction award", "message", ev.MessageID, "giver", ev.UserID, "emoji", ev.Emoji, "err", err)
	}
}

func (b *Bot) reactionAdded(ctx context.Context, s *discordgo.Session, r reactionEvent) error {
	k := b.kudos()
	at := b.cfg.Clock.Now()
	msg, err := b.message(ctx, s, r.ChannelID, r.MessageID)
	if err != nil {
		if interact.IsNotFound(err) {
			return nil // deleted meanwhile
		}
		return err
	}
	giverMember := r.Member
	if giverMember == nil || giverMember.User == nil {
		if giverMember, err = b.cfg.Retry.Member(ctx, s, r.GuildID, r.UserID); err != nil {
			return fmt.Errorf("giver member: %w", err)
		}
	}
	if giverMember == nil || giverMember.User == nil {
		return nil // left the guild
	}
	if giverMember.User.Bot {
		return nil // bots neither give nor receive; no account is made for them
	}
	recvID, recvName, ok, err := b.receiverOf(ctx, s, msg)
	if err != nil || !ok {
		return err
	}
	recvMember, err := b.cfg.Retry.Member(ctx, s, r.GuildID, recvID)
	if err != nil {
		return fmt.Errorf("receiver member: %w", err)
	}
	if recvName == "" && recvMember != nil && recvMember.User != nil {
		recvName = interact.DisplayName(recvMember.User)
	}
	giver, err := b.deps.Horde.DiscordUser(ctx, r.UserID, interact.DisplayName(giverMember.User))
	if err != nil {
		return fmt.Errorf("horde user of giver %s: %w", r.UserID, err)
	}
	recv, err := b.deps.Horde.DiscordUser(ctx, recvID, recvName)
	if err != nil {
		return fmt.Errorf("horde user of receiver %s: %w", recvID, err)
	}
	ev := kudos.ReactionAdded{
		GiverID: giver.ID, ReceiverID: recv.ID, MessageID: r.MessageID, ChannelID: r.ChannelID, GuildID: r.GuildID,
		Emoji: r.Emoji, GiverRoles: giverMember.Roles, ReceiverRoles: rolesOf(recvMember),
		GiverAccountCreated: snowflakeTime(r.UserID), GiverJoinedAt: giverMember.JoinedAt, At: at,
	}
	out, err := k.OnReactionAdded(ctx, ev)
	switch {
	case kudos.IsRefusal(err):
		b.log.Debug("reaction award refused", "message", r.MessageID, "giver", r.UserID, "code", kudos.RefusalCode(err))
		b.dmRefusal(ctx, s, r.UserID, r.GuildID, err, msg)
		return nil
	case err != nil:
		return err
	case out.Awarded:
		b.log.Info("reaction award pending", "message", r.MessageID, "giver", r.UserID, "receiver", recvID,
			"category", out.Category, "amount", out.Amount)
	}
	return nil
}

// onReactionRemove revokes a pending award made with that reaction.
func (b *Bot) onReactionRemove(s *discordgo.Session, r *discordgo.MessageReactionRemove) {
	if !b.enter() {
		return
	}
	defer b.inflight.Done()
	var err error
	defer func() { b.eventDone("reaction_remove", err) }()
	k := b.kudos()
	if k == nil {
		return
	}
	ev, ok := parseReaction(r.MessageReaction, nil, k.Config())
	if !ok {
		return
	}
	ctx, cancel := b.handlerContext()
	defer cancel()
	if err = b.reactionRemoved(ctx, s, ev); err != nil {
		b.log.Error("reaction removal", "message", ev.MessageID, "giver", ev.UserID, "err", err)
	}
}

func (b *Bot) reactionRemoved(ctx context.Context, s *discordgo.Session, r reactionEvent) error {
	at := b.cfg.Clock.Now()
	var receiverID int64
	msg, err := b.message(ctx, s, r.ChannelID, r.MessageID)
	switch {
	case err == nil:
		recvID, recvName, ok, err := b.receiverOf(ctx, s, msg)
		if err != nil {
			return err
		}
		if ok {
			recv, err := b.deps.Horde.DiscordUser(ctx, recvID, recvName)
			if err != nil {
				return fmt.Errorf("horde user of receiver %s: %w", recvID, err)
			}
			receiverID = recv.ID
		}
	case !interact.IsNotFound(err):
		return err
	}
	giver, err := b.deps.Horde.DiscordUser(ctx, r.UserID, "") // "" keeps the name it has
	if err != nil {
		return fmt.Errorf("horde user of giver %s: %w", r.UserID, err)
	}
	n, err := b.kudos().OnReactionRemoved(ctx, kudos.ReactionRemoved{
		GiverID: giver.ID, ReceiverID: receiverID, MessageID: r.MessageID, ChannelID: r.ChannelID,
		GuildID: r.GuildID, Emoji: r.Emoji, At: at,
	})
	if err != nil {
		return err
	}
	if n > 0 {
		b.log.Info("reaction award revoked", "message", r.MessageID, "giver", r.UserID, "awards", n)
	}
	return nil
}

// onMessageCreate turns a reply that thanks its parent's author into a
// helpful award (the engine decides whether the text thanks).
func (b *Bot) onMessageCreate(s *discordgo.Session, m *discordgo.MessageCreate) {
	if !b.enter() {
		return
	}
	defer b.inflight.Done()
	var err error
	defer func() { b.eventDone("message_create", err) }()
	if m.Message == nil || m.GuildID == "" || m.Author == nil || m.Author.Bot || m.MessageReference == nil {
		return
	}
	k := b.kudos()
	if k == nil || !k.Config().Thanks || !kudos.IsThanks(m.Content) {
		return
	}
	ctx, cancel := b.handlerContext()
	defer cancel()
	if err = b.thanks(ctx, s, m); err != nil {
		b.log.Error("thanks award", "message", m.ID, "author", m.Author.ID, "err", err)
	}
}

func (b *Bot) thanks(ctx context.Context, s *discordgo.Session, m *discordgo.MessageCreate) error {
	parent := m.ReferencedMessage
	if parent == nil || parent.Author == nil {
		var err error
		if parent, err = b.message(ctx, s, m.MessageReference.ChannelID, m.MessageReference.MessageID); err != nil {
			if interact.IsNotFound(err) {
				return nil
			}
			return err
		}
	}
	if parent.Author == nil || parent.Author.Bot || parent.Author.ID == m.Author.ID {
		return nil
	}
	authorMember := m.Member
	if authorMember == nil {
		var err error
		if authorMember, err = b.cfg.Retry.Member(ctx, s, m.GuildID, m.Author.ID); err != nil {
			return fmt.Errorf("author member: %w", err)
		}
	}
	parentMember, err := b.cfg.Retry.Member(ctx, s, m.GuildID, parent.Author.ID)
	if err != nil {
		return fmt.Errorf("thanked member: %w", err)
	}
	giver, err := b.deps.Horde.DiscordUser(ctx, m.Author.ID, interact.DisplayName(m.Author))
	if err != nil {
		return fmt.Errorf("horde user of %s: %w", m.Author.ID, err)
	}
	recv, err := b.deps.Horde.DiscordUser(ctx, parent.Author.ID, interact.DisplayName(parent.Author))
	if err != nil {
		return fmt.Errorf("horde user of %s: %w", parent.Author.ID, err)
	}
	var joined time.Time
	if authorMember != nil {
		joined = authorMember.JoinedAt
	}
	out, err := b.kudos().OnThanks(ctx, kudos.ThanksReply{
		AuthorID: giver.ID, RepliedToID: recv.ID, MessageID: m.ID, RepliedToMessageID: parent.ID,
		ChannelID: m.ChannelID, GuildID: m.GuildID, Text: m.Content,
		AuthorRoles: rolesOf(authorMember), RepliedToRoles: rolesOf(parentMember),
		AuthorAccountCreated: snowflakeTime(m.Author.ID), AuthorJoinedAt: joined, At: b.cfg.Clock.Now(),
	})
	switch {
	case kudos.IsRefusal(err):
		b.dmRefusal(ctx, s, m.Author.ID, m.GuildID, err, parent)
		return nil
	case err != nil:
		return err
	case out.Awarded:
		b.log.Info("thanks award pending", "message", parent.ID, "giver", m.Author.ID, "receiver", parent.Author.ID, "amount", out.Amount)
	}
	return nil
}

// receiverOf returns who reactions on msg credit, as a Discord user id and
// a display name ("" keeps the name the horde user has): the message's
// author or, for a post the bot made when a member shared an /imagine
// result, that member. ok is false when nobody is credited: a message by
// another bot, or one of the bot's own that is not a shared post.
func (b *Bot) receiverOf(ctx context.Context, s *discordgo.Session, msg *discordgo.Message) (id, name string, ok bool, err error) {
	if msg == nil || msg.Author == nil {
		return "", "", false, nil
	}
	if self := b.selfID(s); self != "" && msg.Author.ID == self {
		if b.deps.Store == nil {
			return "", "", false, nil
		}
		post, err := b.deps.Store.SharedPost(ctx, msg.ID)
		switch {
		case horde.IsKind(err, horde.KindNotFound):
			return "", "", false, nil // a result, a leaderboard: the bot's own words
		case err != nil:
			return "", "", false, fmt.Errorf("shared post %s: %w", msg.ID, err)
		}
		return post.DiscordUserID, "", true, nil
	}
	if msg.Author.Bot {
		return "", "", false, nil
	}
	return msg.Author.ID, interact.DisplayName(msg.Author), true, nil
}

// dmRefusal tells a giver why their award did not count (the refusal as
// Reply words it, in the guild's language: a reaction carries no locale
// of its member), if configured, at most once per RefusalDMEvery, and never
// for a duplicate (a replay or a second emoji of the same category says
// nothing new).
func (b *Bot) dmRefusal(ctx context.Context, s *discordgo.Session, userID, guildID string, refusal error, on *discordgo.Message) {
	if !b.cfg.RefusalDM || kudos.RefusalCode(refusal) == kudos.RefuseDuplicate || !b.refusals.take(userID) {
		return
	}
	link := ""
	if on != nil {
		link = fmt.Sprintf(" (https://discord.com/channels/%s/%s/%s)", on.GuildID, on.ChannelID, on.ID)
	}
	p := b.guildPrinter(guildID)
	_, why, _ := wording(p, refusal)
	text := p.T("reactions.refused", locale.Args{"Link": link, "Reason": why, "Every": p.Duration(b.cfg.RefusalDMEvery)})
	err := b.cfg.Retry.Do(ctx, "DM refusal", func(opts ...discordgo.RequestOption) error {
		ch, err := s.UserChannelCreate(userID, opts...)
		if err != nil {
			return err
		}
		_, err = s.ChannelMessageSendComplex(ch.ID, &discordgo.MessageSend{Content: text, AllowedMentions: &discordgo.MessageAllowedMentions{}}, opts...)
		return err
	})
	if err != nil {
		b.log.Warn("could not DM a refusal", "user", userID, "err", err)
	}
}

// message returns a message from the state cache or REST.
func (b *Bot) message(ctx context.Context, s *discordgo.Session, channelID, messageID string) (*discordgo.Message, error) {
	if s.State != nil {
		if m, err := s.State.Message(channelID, messageID); err == nil && m.Author != nil {
			return m, nil
		}
	}
	var m *discordgo.Message
	err := b.cfg.Retry.Do(ctx, "get message", func(opts ...discordgo.RequestOption) error {
		var err error
		m, err = s.ChannelMessage(channelID, messageID, opts...)
		return err
	})
	return m, err
}

func rolesOf(m *discordgo.Member) []string {
	if m == nil {
		return nil
	}
	return m.Roles
}

// snowflakeTime is when a Discord id was made (an account's creation time).
func snowflakeTime(id string) time.Time {
	t, err := discordgo.SnowflakeTimestamp(id)
	if err != nil {
		return time.Time{}
	}
	return t
}

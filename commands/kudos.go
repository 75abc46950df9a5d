package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

const defaultHistory = 10

func (s *Set) kudosCommand() *Command {
	one, maxHist := 1.0, 25.0
	member := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionUser, Name: "member", Description: "Who", Required: true}
	amount := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "amount", Description: "How many kudos", Required: true, MinValue: &one}
	reason := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "reason", Description: "Why", MaxLength: 200}
	sub := func(n, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: n, Description: desc, Options: opts}
	}
	return &Command{
		Def: &discordgo.ApplicationCommand{
			Name:        "kudos",
			Description: "The community's kudos: balance, gifts, leaderboard",
			Options: []*discordgo.ApplicationCommandOption{
				sub("balance", "Your kudos"),
				sub("give", "Give some of your kudos to a member", member, amount, reason),
				sub("leaderboard", "This week's top earners"),
				sub("history", "Your latest kudos changes",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "count", Description: "How many", MinValue: &one, MaxValue: maxHist}),
				sub("award", "Moderators: award kudos for helping the community", member, amount, reason),
			},
		},
		Defer: func(ix *Interaction) DeferMode {
			switch ParseOptions(ix.I).Sub {
			case "give", "award", "leaderboard":
				return DeferPublic
			default:
				return DeferEphemeral
			}
		},
		Handle: s.handleKudos,
	}
}

func (s *Set) handleKudos(ctx context.Context, ix *Interaction) error {
	if s.kudos == nil {
		return horde.Errorf(horde.KindUnavailable, "KudosDisabled", "Kudos are not enabled on this bot.")
	}
	o := ParseOptions(ix.I)
	switch o.Sub {
	case "balance":
		b, err := s.kudos.Balance(ctx, ix.User.ID)
		if err != nil {
			return err
		}
		return ix.Reply(ctx, Reply{Content: fmt.Sprintf("You have **%d** kudos.", b)})
	case "history":
		entries, err := s.kudos.History(ctx, ix.User.ID, int(o.Int("count", defaultHistory)))
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return ix.Reply(ctx, Reply{Content: "No kudos changes yet."})
		}
		var b strings.Builder
		b.WriteString("**Your latest kudos changes**\n")
		for _, e := range entries {
			reason := e.Reason
			if reason == "" {
				reason = string(e.Kind)
			}
			fmt.Fprintf(&b, "`%+d` %s — <t:%d:R>\n", e.Delta, clip(reason, 120), e.At.Unix())
		}
		return ix.Reply(ctx, Reply{Content: clip(b.String(), 1990)})
	case "give":
		to, err := s.memberOption(ctx, ix, o)
		if err != nil {
			return err
		}
		amount := o.Int("amount", 0)
		if err := s.kudos.Transfer(ctx, ix.User.ID, to.ID, amount, "transfer:"+ix.I.ID); err != nil {
			return err
		}
		msg := fmt.Sprintf("<@%s> gave **%d** kudos to <@%s>", ix.Caller.ID, amount, to.DiscordID)
		if r := o.String("reason", ""); r != "" {
			msg += ": " + clip(r, 200)
		}
		return ix.Reply(ctx, Reply{Content: msg})
	case "award":
		if !s.IsModerator(ix.Member) {
			return &kudos.Refusal{Code: kudos.RefuseNotModerator, Message: "Only moderators can use /kudos award."}
		}
		to, err := s.memberOption(ctx, ix, o)
		if err != nil {
			return err
		}
		amount := o.Int("amount", 0)
		err = s.kudos.Award(ctx, kudos.ModeratorAward{
			ModeratorID: ix.User.ID, ModeratorRoles: ix.Member.Roles, ReceiverID: to.ID,
			Amount: amount, Reason: o.String("reason", ""), Key: ix.I.ID,
		})
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("🛡️ <@%s> awarded **%d** kudos to <@%s>", ix.Caller.ID, amount, to.DiscordID)
		if r := o.String("reason", ""); r != "" {
			msg += ": " + clip(r, 200)
		}
		s.audit(ctx, ix.S, msg+fmt.Sprintf(" (in <#%s>)", ix.I.ChannelID))
		return ix.Reply(ctx, Reply{Content: msg})
	case "leaderboard":
		lb, err := s.kudos.Leaderboard(ctx, s.cfg.Clock.Now())
		if err != nil {
			return err
		}
		text, err := FormatLeaderboard(ctx, s.horde, lb, "This week's top earners")
		if err != nil {
			return err
		}
		return ix.Reply(ctx, Reply{Content: text})
	default:
		return horde.Invalidf("subcommand", "unknown subcommand %q", o.Sub)
	}
}

// memberOption resolves the "member" option to a horde user. Bots are refused.
func (s *Set) memberOption(ctx context.Context, ix *Interaction, o Options) (horde.User, error) {
	id := o.UserID("member")
	if id == "" {
		return horde.User{}, horde.Invalidf("member", "name a member")
	}
	name := "" // unknown: an existing user keeps their name
	if u := ResolvedUser(ix.I, id); u != nil {
		if u.Bot {
			return horde.User{}, &kudos.Refusal{Code: kudos.RefuseBot, Message: "Bots neither give nor receive kudos."}
		}
		name = DisplayName(u)
	}
	u, err := s.horde.DiscordUser(ctx, id, name)
	if err != nil {
		return horde.User{}, fmt.Errorf("horde user of %s: %w", id, err)
	}
	return u, nil
}

// UserLookup finds a horde user's Discord account; *horde.Horde satisfies it.
type UserLookup interface {
	UserInfo(ctx context.Context, userID int64) (horde.UserInfo, error)
}

// FormatLeaderboard renders a leaderboard as a message, naming members by
// mention when they have a Discord account.
func FormatLeaderboard(ctx context.Context, users UserLookup, lb kudos.Leaderboard, title string) (string, error) {
	names := map[int64]string{}
	name := func(id int64) (string, error) {
		if n, ok := names[id]; ok {
			return n, nil
		}
		info, err := users.UserInfo(ctx, id)
		switch {
		case horde.IsKind(err, horde.KindNotFound):
			names[id] = fmt.Sprintf("user #%d", id)
		case err != nil:
			return "", fmt.Errorf("leaderboard user %d: %w", id, err)
		case info.User.DiscordID != "":
			names[id] = "<@" + info.User.DiscordID + ">"
		default:
			names[id] = info.User.Username()
		}
		return names[id], nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "🏆 **%s** (%s)\n", title, lb.Period.Name)
	if len(lb.Overall) == 0 {
		b.WriteString("Nobody has earned award kudos yet this week.\n")
		return b.String(), nil
	}
	for i, e := range lb.Overall {
		n, err := name(e.UserID)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%d. %s — %d\n", i+1, n, e.Kudos)
	}
	for _, c := range kudos.Categories {
		top := lb.Categories[c]
		if len(top) == 0 {
			continue
		}
		n, err := name(top[0].UserID)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "Most %s: %s (%d)\n", c, n, top[0].Kudos)
	}
	return clip(b.String(), 1990), nil
}

// audit posts a moderator action to the audit channel, if one is
// configured; a failure is logged, not shown (the action itself succeeded).
func (s *Set) audit(ctx context.Context, sess *discordgo.Session, text string) {
	if s.cfg.AuditChannelID == "" {
		return
	}
	msg := &discordgo.MessageSend{Content: text, AllowedMentions: &discordgo.MessageAllowedMentions{}}
	if err := s.retry().Do(ctx, "post to audit channel", func(opts ...discordgo.RequestOption) error {
		_, err := sess.ChannelMessageSendComplex(s.cfg.AuditChannelID, msg, opts...)
		return err
	}); err != nil {
		s.log.Warn("audit post failed", "err", err)
	}
}

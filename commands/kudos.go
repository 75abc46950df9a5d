package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

const defaultHistory = 10

func (s *Set) kudosCommand() *Command {
	one, maxHist := 1.0, 25.0
	member := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionUser, Name: "member", Description: "Who", Required: true}
	amount := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "amount", Description: "How many kudos", Required: true, MinValue: &one}
	reason := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "reason", Description: "Why", MaxLength: 200}
	return &Command{
		Def: &discordgo.ApplicationCommand{
			Name:        "kudos",
			Description: "The community's kudos: balance, gifts, leaderboard",
			Options: []*discordgo.ApplicationCommandOption{
				subCommand("balance", "Your kudos"),
				subCommand("give", "Give some of your kudos to a member", member, amount, reason),
				subCommand("leaderboard", "This week's top earners"),
				subCommand("history", "Your latest kudos changes",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "count", Description: "How many", MinValue: &one, MaxValue: maxHist}),
				subCommand("award", "Moderators: award kudos for helping the community", member, amount, reason),
			},
		},
		Defer: func(ix *interact.Interaction) interact.DeferMode {
			switch interact.ParseOptions(ix.I).Sub {
			case "give", "award", "leaderboard":
				return interact.DeferPublic
			default:
				return interact.DeferEphemeral
			}
		},
		Handle: s.handleKudos,
	}
}

func (s *Set) handleKudos(ctx context.Context, ix *interact.Interaction) error {
	if err := s.requireKudos(); err != nil {
		return err
	}
	o := interact.ParseOptions(ix.I)
	switch o.Sub {
	case "balance":
		return s.replyBalance(ctx, ix, ix.User.ID, "kudos.balance.text", nil)
	case "history":
		entries, err := s.kudos.History(ctx, ix.User.ID, int(o.Int("count", defaultHistory)))
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return ix.Reply(ctx, interact.Reply{Content: ix.T("kudos.history.none", nil)})
		}
		var b strings.Builder
		b.WriteString(ix.T("kudos.history.title", nil) + "\n")
		for _, e := range entries {
			reason, err := LedgerReason(ctx, ix.Printer(), s.horde, e)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "`%+d` %s — <t:%d:R>\n", e.Delta, clip(reason, 120), e.At.Unix())
		}
		return ix.Reply(ctx, interact.Reply{Content: clip(b.String(), 1990)})
	case "give":
		to, err := s.memberOption(ctx, ix, o, true)
		if err != nil {
			return err
		}
		return s.giveKudos(ctx, ix, to, o.Int("amount", 0), o.String("reason", ""))
	case "award":
		if !s.mayAwardKudos(ix) {
			return kudos.Refuse(kudos.RefuseNotModerator, "Only moderators can use /kudos award.").InCase("kudos_award")
		}
		to, err := s.memberOption(ctx, ix, o, true)
		if err != nil {
			return err
		}
		return s.awardKudos(ctx, ix, to, o.Int("amount", 0), o.String("reason", ""))
	case "leaderboard":
		lb, err := s.kudos.Leaderboard(ctx, s.cfg.Clock.Now())
		if err != nil {
			return err
		}
		text, err := FormatLeaderboard(ctx, ix.Printer(), s.horde, lb, ix.T("kudos.leaderboard.title", nil))
		if err != nil {
			return err
		}
		return ix.Reply(ctx, interact.Reply{Content: text})
	default:
		return unknownSubcommand(ix, o.Sub)
	}
}

// replyBalance answers with what the API's /find_user shows of a user
// (their kudos, trust, workers and counters), in the message key's words;
// args are the key's further placeholders.
func (s *Set) replyBalance(ctx context.Context, ix *interact.Interaction, userID int64, key string, args locale.Args) error {
	info, err := s.horde.UserInfo(ctx, userID)
	if err != nil {
		return err
	}
	trust := ix.T("kudos.balance.untrusted", nil)
	if info.User.Trusted {
		trust = ix.T("kudos.balance.trusted", nil)
	}
	all := locale.Args{
		"Kudos": info.Kudos, "User": info.User.Username(), "Trust": trust,
		"Workers":   ix.T("kudos.balance.workers", locale.Args{locale.CountArg: len(info.WorkerIDs)}),
		"Requested": ix.T("kudos.balance.requested", locale.Args{locale.CountArg: info.Requested}),
		"Generated": ix.T("kudos.balance.generated", locale.Args{locale.CountArg: info.Generated}),
	}
	for k, v := range args {
		all[k] = v
	}
	return ix.Reply(ctx, interact.Reply{Content: ix.T(key, all)})
}

// mayAwardKudos reports whether the caller gives moderation awards: a
// moderator role, or `hordebot user set --moderator`.
func (s *Set) mayAwardKudos(ix *interact.Interaction) bool {
	return s.IsModerator(ix.Member) || ix.User.Moderator
}

// giveKudos transfers amount of the caller's kudos to a member (/kudos
// give), with the kudos rules' refusals, and says so in the channel.
func (s *Set) giveKudos(ctx context.Context, ix *interact.Interaction, to horde.User, amount int64, reason string) error {
	if err := s.kudos.Transfer(ctx, ix.User.ID, to.ID, amount, "transfer:"+ix.I.ID); err != nil {
		return err
	}
	msg := ix.T("kudos.give.done", locale.Args{"Giver": ix.Caller.ID, "Amount": amount, "Receiver": to.DiscordID})
	if reason != "" {
		msg += ": " + clip(reason, 200)
	}
	return ix.Reply(ctx, interact.Reply{Content: msg})
}

// awardKudos gives a member a moderation award from the caller, a
// moderator (/kudos award), with the kudos rules' refusals, says so in the
// channel and posts it to the audit channel.
func (s *Set) awardKudos(ctx context.Context, ix *interact.Interaction, to horde.User, amount int64, reason string) error {
	var roles []string
	if ix.Member != nil {
		roles = ix.Member.Roles
	}
	err := s.kudos.Award(ctx, kudos.ModeratorAward{
		ModeratorID: ix.User.ID, ModeratorRoles: roles, ReceiverID: to.ID,
		Amount: amount, Reason: reason, Key: ix.I.ID,
	})
	if err != nil {
		return err
	}
	awarded := func(p *locale.Printer) string {
		msg := "🛡️ " + p.T("kudos.award.done", locale.Args{"Moderator": ix.Caller.ID, "Amount": amount, "Receiver": to.DiscordID})
		if reason != "" {
			msg += ": " + clip(reason, 200)
		}
		return msg
	}
	ap := s.postPrinter(ix.I.GuildLocale)
	s.audit(ctx, ix.S, awarded(ap)+" "+ap.T("audit.in_channel", locale.Args{"Channel": ix.I.ChannelID}))
	return ix.Reply(ctx, interact.Reply{Content: awarded(ix.Printer())})
}

// memberOption resolves the "member" option to a horde user, making one
// for a member who has none yet. Discord resolves every user option; one
// it did not resolve names nobody and is refused, as are bots. onServer
// asks for a member of the interaction's guild (kudos move only between
// members); moderation takes any user Discord resolved (one who left the
// server can still be flagged).
func (s *Set) memberOption(ctx context.Context, ix *interact.Interaction, o interact.Options, onServer bool) (horde.User, error) {
	id := o.UserID("member")
	if id == "" {
		return horde.User{}, horde.Invalidf("member", "name a member").InCase("member")
	}
	du := interact.ResolvedUser(ix.I, id)
	if du == nil || (onServer && ix.I.GuildID != "" && interact.ResolvedMember(ix.I, id) == nil) {
		return horde.User{}, horde.NotFoundf("NotMember", "That member is not on this server.")
	}
	if du.Bot {
		return horde.User{}, kudos.Refuse(kudos.RefuseBot, "Bots neither give nor receive kudos.").InCase("member")
	}
	u, err := s.horde.DiscordUser(ctx, id, interact.DisplayName(du))
	if err != nil {
		return horde.User{}, fmt.Errorf("horde user of %s: %w", id, err)
	}
	return u, nil
}

// FormatLeaderboard renders a leaderboard as a message in p's language,
// naming members by mention when they have a Discord account.
func FormatLeaderboard(ctx context.Context, p *locale.Printer, users interact.UserLookup, lb kudos.Leaderboard, title string) (string, error) {
	names := map[int64]string{}
	name := func(id int64) (string, error) {
		if n, ok := names[id]; ok {
			return n, nil
		}
		n, err := interact.MemberName(ctx, p, users, id)
		if err != nil {
			return "", fmt.Errorf("leaderboard user %d: %w", id, err)
		}
		names[id] = n
		return n, nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "🏆 **%s** (%s)\n", title, lb.Period.Name)
	if len(lb.Overall) == 0 {
		b.WriteString(p.T("kudos.leaderboard.empty", nil) + "\n")
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
		b.WriteString(p.T("kudos.leaderboard.most."+string(c), locale.Args{"Member": n, "Kudos": top[0].Kudos}) + "\n")
	}
	return clip(b.String(), 1990), nil
}

// EntryKindName is a ledger entry's kind as members read it in p's
// language ("transfer" reads "Kudos-Übertragung" in German); a kind the
// catalogs do not name shows as it is.
func EntryKindName(p *locale.Printer, k kudos.EntryKind) string {
	if s, ok := p.Lookup("kudos.entry."+string(k), nil); ok {
		return s
	}
	return string(k)
}

// postPrinter is the language of what the commands post outside the
// caller's interaction (the audit channel): the configured locale, else
// the guild's, else English.
func (s *Set) postPrinter(guildLocale *discordgo.Locale) *locale.Printer {
	var g discordgo.Locale
	if guildLocale != nil {
		g = *guildLocale
	}
	return locale.Default().For(discordgo.Locale(s.cfg.Locale), g)
}

// guildPrinter is the language of what the commands post in a guild
// outside an interaction (a party's summary): the configured locale, else
// the guild's preferred locale (from the session's state), else English.
func (s *Set) guildPrinter(guildID string) *locale.Printer {
	var preferred discordgo.Locale
	if sess := s.sess(); sess != nil && sess.State != nil && guildID != "" {
		if g, err := sess.State.Guild(guildID); err == nil {
			preferred = discordgo.Locale(g.PreferredLocale)
		}
	}
	return locale.Default().For(discordgo.Locale(s.cfg.Locale), preferred)
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

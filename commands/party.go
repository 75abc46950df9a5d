package commands

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/filter"
	"github.com/hordebot/hordebot/kudos"
)

// /party: a generation party (kudos/party.go has the payment rules). Any
// member with the kudos may host one in a server channel: the budget is
// held from their balance at the start, every member's /imagine delivered
// in that channel during the party earns the award (one per member per
// interval; the host's own earn nothing), and at the end (/party end by the
// host or a moderator, or the end time: the bot's periodic pass, EndParties)
// the summary is posted and the rest returns to the host.

// partyImages is how many of a party's images its summary shows (a 2x2 grid).
const partyImages = 4

// partyAnnounceBatch bounds the summaries one pass posts.
const partyAnnounceBatch = 20

// partyMembersShown bounds the participants a summary lists.
const partyMembersShown = 15

func (s *Set) partyCommand() *Command {
	c := s.parties.PartyConfig()
	maxMinutes := float64(max(c.MaxDuration.Std()/time.Minute, 1))
	minInterval := float64(max(c.MinInterval.Std()/time.Minute, 1))
	one, maxBudget := 1.0, float64(c.MaxBudget)
	themeMin := 1
	return &Command{
		Def: &discordgo.ApplicationCommand{
			Name:        "party",
			Description: "Generation parties: kudos from a host for every image made in this channel",
			Options: []*discordgo.ApplicationCommandOption{
				subCommand("start", "Host a party here: your kudos pay every member's images for a while",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "duration",
						Description: "How long it lasts, in minutes", Required: true, MinValue: &one, MaxValue: maxMinutes},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "theme",
						Description: "What to draw", Required: true, MinLength: &themeMin, MaxLength: kudos.MaxPartyTheme},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "award",
						Description: "Kudos per image a member makes here", Required: true, MinValue: &one, MaxValue: maxBudget},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "budget",
						Description: "Kudos you put in (held now; the rest comes back at the end)", Required: true, MinValue: &one, MaxValue: maxBudget},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "interval_minutes",
						Description: fmt.Sprintf("A member earns at most once per this many minutes (default %d)", max(c.DefaultInterval.Std()/time.Minute, 1)),
						MinValue:    &minInterval, MaxValue: maxMinutes},
				),
				subCommand("end", "End this channel's party (its host or a moderator): summary and refund"),
				subCommand("status", "This channel's party: theme, time left, budget left"),
			},
		},
		Defer: func(ix *interact.Interaction) interact.DeferMode {
			if interact.ParseOptions(ix.I).Sub == "status" {
				return interact.DeferEphemeral
			}
			return interact.DeferPublic
		},
		Handle: s.handleParty,
	}
}

func (s *Set) handleParty(ctx context.Context, ix *interact.Interaction) error {
	if !ix.InGuild() {
		return kudos.Refuse(kudos.RefusePartyPlace, "Parties run in a server channel, not in direct messages.")
	}
	o := interact.ParseOptions(ix.I)
	switch o.Sub {
	case "start":
		if err := s.checkPartyTheme(ctx, ix, o.String("theme", "")); err != nil {
			return err
		}
		p, err := s.parties.StartParty(ctx, kudos.PartyStart{
			HostID: ix.User.ID, GuildID: ix.I.GuildID, ChannelID: ix.I.ChannelID, Theme: o.String("theme", ""),
			Duration: time.Duration(o.Int("duration", 0)) * time.Minute, Award: o.Int("award", 0), Budget: o.Int("budget", 0),
			Interval: time.Duration(o.Int("interval_minutes", 0)) * time.Minute, Key: ix.I.ID,
		})
		if err != nil {
			return err
		}
		return ix.Reply(ctx, interact.Reply{Content: partyStartedText(ix.Printer(), p, "<@"+ix.Caller.ID+">")})
	case "end":
		p, _, err := s.parties.EndParty(ctx, kudos.PartyEnd{ChannelID: ix.I.ChannelID, ByID: ix.User.ID,
			ByModerator: s.IsModerator(ix.Member) || ix.User.Moderator})
		if err != nil {
			return err
		}
		// The summary is this reply, unless the periodic pass posted it first.
		claimed, err := s.parties.ClaimPartyAnnouncement(ctx, p.ID)
		if err != nil {
			return err
		}
		if !claimed {
			return ix.Reply(ctx, interact.Reply{Content: "🎉 " + ix.T("party.ended_elsewhere", locale.Args{"Theme": shownTheme(p.Theme, 200)})})
		}
		r, err := s.partySummary(ctx, ix.Printer(), p)
		if err == nil {
			err = ix.Reply(ctx, r)
		}
		if err != nil {
			s.releaseSummary(ctx, p)
			return err
		}
		return nil
	case "status":
		p, err := s.parties.OpenParty(ctx, ix.I.ChannelID)
		if err != nil {
			return err
		}
		pr := ix.Printer()
		host, err := interact.MemberName(ctx, pr, s.horde, p.HostID)
		if err != nil {
			return err
		}
		return ix.Reply(ctx, interact.Reply{Content: "🎉 " + pr.T("party.status", locale.Args{
			"Theme": shownTheme(p.Theme, 200), "Host": host, "Ends": p.EndsAt.Unix(), "Award": p.Award,
			"Interval":    partyInterval(pr, p.Interval),
			"Generations": pr.T("party.generations_so_far", locale.Args{locale.CountArg: p.Generations}),
			"Budget":      p.Budget, "Spent": p.Spent, "Left": p.Remaining(),
		})})
	default:
		return unknownSubcommand(ix, o.Sub)
	}
}

// checkPartyTheme runs a party's theme through the prompt filter, as the
// prompt of an image request in the party's channel would be: a theme the
// filter would refuse, or rewrite (NSFW terms outside an age-restricted
// channel), is refused, since the bot announces it to the channel and
// members draw it. With no filter configured every theme passes.
func (s *Set) checkPartyTheme(ctx context.Context, ix *interact.Interaction, theme string) error {
	if s.filter == nil || strings.TrimSpace(theme) == "" {
		return nil
	}
	nsfw := false
	if ch, err := s.channel(ctx, ix.S, ix.I.ChannelID); err == nil {
		nsfw = ch.NSFW
	} else {
		s.log.Warn("look up a party's channel; its theme is checked as SFW", "channel", ix.I.ChannelID, "err", err)
	}
	v := s.filter.Check(theme, filter.Context{NSFWAllowed: nsfw})
	refused := func(c, english string) error {
		e := horde.Errorf(horde.KindInvalid, horde.CodeCorruptPrompt, "%s", english).InCase(c)
		e.Field = "theme"
		return e
	}
	switch {
	case v.Rule == filter.RuleCSAM:
		ap := s.postPrinter(ix.I.GuildLocale)
		s.audit(ctx, ix.S, "🛡️ "+ap.T("party.audit.theme_refused", locale.Args{"Member": ix.Caller.ID, "Channel": ix.I.ChannelID,
			"Theme": inlineCodeOr(clip(theme, 600), ap.T("mod.filter.empty", nil))}))
		return refused("theme_csam", "This theme was refused: it combines minors with sexual content, which is never allowed.")
	case v.Action == filter.Refuse || v.Action == filter.Rewrite:
		// A rewritten theme would be announced as the member did not write
		// it: it is refused like a refused one.
		return refused("theme_nsfw", "This theme was refused: NSFW content is not allowed in this channel.")
	}
	return nil
}

// partyStartedText announces a party that started, in pr's language.
func partyStartedText(pr *locale.Printer, p kudos.Party, host string) string {
	return "🎉 " + pr.T("party.started", locale.Args{"Theme": shownTheme(p.Theme, 200), "Host": host, "Ends": p.EndsAt.Unix(),
		"Award": p.Award, "Interval": partyInterval(pr, p.Interval), "Budget": p.Budget})
}

// shownTheme is a party's theme as the bot shows it, at most n runes: a
// mention in it (of a member, a role, @everyone) is written out, not made,
// so that a host cannot ping people through the bot's announcements.
func shownTheme(theme string, n int) string {
	return strings.NewReplacer("@", "@\u200b").Replace(clip(theme, n))
}

// partyInterval says how often a member may earn, in pr's language:
// "once per member every 10 minutes".
func partyInterval(pr *locale.Printer, d time.Duration) string {
	return pr.T("party.interval", locale.Args{locale.CountArg: int64(d / time.Minute)})
}

// creditParty credits a delivered image request to the channel's party and
// returns the line its result message adds ("" for none). Only a request
// with at least one image to show counts: a faulted, cancelled or wholly
// filtered one earns nothing. A failure is logged: the images are delivered
// all the same.
func (s *Set) creditParty(ctx context.Context, d delivery, p horde.Progress, imgs []resultImage) string {
	if s.parties == nil || d.GuildID == "" || len(imgs) == 0 {
		return ""
	}
	c, err := s.parties.CreditPartyGeneration(ctx, kudos.PartyGeneration{
		ChannelID: d.ChannelID, MemberID: p.Request.UserID, RequestID: d.RequestID,
		SubmittedAt: p.Request.CreatedAt, ImageRef: imgs[0].gen.BlobRef,
	})
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("credit a party generation", "request", d.RequestID, "channel", d.ChannelID, "err", err)
		}
		return ""
	}
	if !c.Counted {
		return ""
	}
	theme, pr := shownTheme(c.Party.Theme, 100), d.printer()
	switch {
	case c.Awarded > 0:
		return "🎉 " + pr.T("party.credit.awarded", locale.Args{"Theme": theme, "Kudos": c.Awarded})
	case c.NoAward == kudos.PartyNoAwardInterval:
		next := c.Party.StartsAt.Add(time.Duration(c.Party.Slot(p.Request.CreatedAt)+1) * c.Party.Interval)
		return "🎉 " + pr.T("party.credit.next", locale.Args{"Theme": theme, "Next": next.Unix()})
	case c.NoAward == kudos.PartyNoAwardBudget:
		return "🎉 " + pr.T("party.credit.spent", locale.Args{"Theme": theme})
	default:
		return "🎉 " + pr.T("party.credit.counted", locale.Args{"Theme": theme})
	}
}

// EndParties ends the parties whose end time has passed and posts the
// summaries of ended parties nobody posted yet (a restart between the end
// and the post, a failed post), for the guilds own accepts (nil: all). The
// bot calls it periodically; posting is claimed in the store, so two
// processes or a /party end at the same moment post each summary once.
func (s *Set) EndParties(ctx context.Context, own func(guildID string) bool) error {
	if s.parties == nil {
		return nil
	}
	if _, err := s.parties.EndDueParties(ctx, own); err != nil {
		return err
	}
	ended, err := s.parties.UnannouncedParties(ctx, partyAnnounceBatch)
	if err != nil {
		return err
	}
	for _, p := range ended {
		if own != nil && !own(p.GuildID) {
			continue
		}
		if err := s.announceParty(ctx, p); err != nil && ctx.Err() == nil {
			s.log.Error("post a party's summary", "party", p.ID, "channel", p.ChannelID, "err", err)
		}
	}
	return nil
}

// announceParty posts an ended party's summary in its channel, once.
func (s *Set) announceParty(ctx context.Context, p kudos.Party) error {
	claimed, err := s.parties.ClaimPartyAnnouncement(ctx, p.ID)
	if err != nil || !claimed {
		return err
	}
	r, err := s.partySummary(ctx, s.guildPrinter(p.GuildID), p)
	if err == nil {
		msg := &discordgo.MessageSend{Content: r.Content, Files: r.Files, AllowedMentions: &discordgo.MessageAllowedMentions{}}
		err = s.retry().Do(ctx, "post party summary", func(opts ...discordgo.RequestOption) error {
			interact.RewindFiles(msg.Files)
			_, err := s.sess().ChannelMessageSendComplex(p.ChannelID, msg, opts...)
			return err
		})
	}
	if err != nil {
		s.releaseSummary(ctx, p)
	}
	return err
}

// releaseSummary gives back the claim of a summary that was not posted, so
// that the next pass posts it.
func (s *Set) releaseSummary(ctx context.Context, p kudos.Party) {
	if err := s.parties.ReleasePartyAnnouncement(context.WithoutCancel(ctx), p.ID); err != nil {
		s.log.Error("release a party's summary", "party", p.ID, "err", err)
	}
}

// partySummary is an ended party's summary, in pr's language: theme,
// generations, participants and their awards, the budget spent and
// returned, and a grid of up to four of its images.
func (s *Set) partySummary(ctx context.Context, pr *locale.Printer, p kudos.Party) (interact.Reply, error) {
	rep, err := s.parties.PartyReport(ctx, p.ID, partyImages)
	if err != nil {
		return interact.Reply{}, err
	}
	p = rep.Party
	name := func(id int64) (string, error) { return interact.MemberName(ctx, pr, s.horde, id) }
	host, err := name(p.HostID)
	if err != nil {
		return interact.Reply{}, err
	}
	var b strings.Builder
	b.WriteString("🎉 " + pr.T("party.summary.head", locale.Args{"Theme": shownTheme(p.Theme, 200), "Host": host}))
	switch {
	case p.EndedBy == 0:
		b.WriteString(" " + pr.T("party.summary.time_up", nil))
	case p.EndedBy != p.HostID:
		by, err := name(p.EndedBy)
		if err != nil {
			return interact.Reply{}, err
		}
		b.WriteString(" " + pr.T("party.summary.ended_by", locale.Args{"Member": by}))
	}
	b.WriteString("\n")
	gens := func(n int) string { return pr.T("party.generations", locale.Args{locale.CountArg: n}) }
	if p.Generations == 0 {
		b.WriteString(pr.T("party.summary.nobody", nil) + "\n")
	} else {
		b.WriteString(pr.T("party.summary.generations", locale.Args{locale.CountArg: p.Generations,
			"Members": pr.T("party.members", locale.Args{locale.CountArg: len(rep.Members)})}) + "\n")
	}
	for i, m := range rep.Members {
		if i == partyMembersShown {
			b.WriteString(pr.T("party.summary.more", locale.Args{locale.CountArg: len(rep.Members) - i}) + "\n")
			break
		}
		who, err := name(m.UserID)
		if err != nil {
			return interact.Reply{}, err
		}
		switch {
		case m.Kudos > 0:
			b.WriteString("🏅 " + pr.T("party.summary.awarded", locale.Args{"Member": who, "Kudos": m.Kudos,
				"Awards": pr.T("party.awards", locale.Args{locale.CountArg: m.Awards}), "Generations": gens(m.Generations)}) + "\n")
		case m.UserID == p.HostID:
			b.WriteString("🎨 " + pr.T("party.summary.host", locale.Args{"Member": who, "Generations": gens(m.Generations)}) + "\n")
		default:
			b.WriteString("🎨 " + pr.T("party.summary.member", locale.Args{"Member": who, "Generations": gens(m.Generations)}) + "\n")
		}
	}
	b.WriteString(pr.T("party.summary.budget", locale.Args{"Budget": p.Budget, "Spent": p.Spent, "Refunded": p.Refunded, "Host": host}))
	r := interact.Reply{Content: clip(b.String(), 1990), Components: []discordgo.MessageComponent{}}
	if f := s.partyGrid(ctx, p, rep.Images); f != nil {
		r.Files = []*discordgo.File{f}
	}
	return r, nil
}

// partyGrid is a grid of a party's images, or nil when none can be shown
// (deleted by retention, unreadable): the summary goes out without it.
func (s *Set) partyGrid(ctx context.Context, p kudos.Party, images []kudos.PartyImage) *discordgo.File {
	var blobs [][]byte
	for _, im := range images {
		data, err := s.horde.Blob(ctx, im.ImageRef)
		if err != nil {
			s.log.Warn("read a party image", "party", p.ID, "request", im.RequestID, "err", err)
			continue
		}
		blobs = append(blobs, data)
	}
	var imgs []image.Image
	for i, d := range DecodeImages(blobs) {
		if d.Err != nil {
			s.log.Warn("decode a party image", "party", p.ID, "image", i, "err", d.Err)
			continue
		}
		imgs = append(imgs, d.Image)
	}
	if len(imgs) == 0 {
		return nil
	}
	data, ext, err := EncodeGrid(imgs, s.cfg.MaxFileBytes)
	if err != nil {
		s.log.Warn("encode a party's grid", "party", p.ID, "err", err)
		return nil
	}
	return &discordgo.File{Name: fmt.Sprintf("party-%d.%s", p.ID, ext), ContentType: "image/" + mimeSub(ext), Reader: bytes.NewReader(data)}
}

package commands

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/filter"
	"github.com/hordebot/hordebot/kudos"
)

// Moderation is what /mod needs from the scheduler. *horde.Horde satisfies
// it. Each method refuses a caller without the moderator bit with
// KindForbidden; /mod sets that bit for members holding a moderator role.
type Moderation interface {
	// SetFlagged flags or unflags a user (unflagging clears their strikes).
	SetFlagged(ctx context.Context, by horde.User, userID int64, flagged bool, reason string) (horde.User, error)
	// SetTrusted trusts or distrusts a user; trust releases their escrow.
	SetTrusted(ctx context.Context, by horde.User, userID int64, trusted bool, reason string) (kudos.Release, error)
	// PauseWorker pauses or unpauses a worker.
	PauseWorker(ctx context.Context, by horde.User, workerID string, paused bool, reason string) (horde.Worker, error)
	// AdjustKudos adds amount (negative takes) as an admin ledger entry,
	// idempotent by key; applied is false for a replay.
	AdjustKudos(ctx context.Context, by horde.User, userID, amount int64, reason, key string) (applied bool, err error)
	// ModerationStatus is a user's standing: flags, kudos, escrow, strikes, workers.
	ModerationStatus(ctx context.Context, by horde.User, userID int64) (horde.ModerationStatus, error)
}

var _ Moderation = (*horde.Horde)(nil)

// modReasonMax bounds a moderator's reason.
const modReasonMax = 300

func (s *Set) modCommand() *Command {
	member := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionUser, Name: "member", Description: "Who", Required: true}
	reason := func(required bool) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "reason", Description: "Why (shown in the audit log)", Required: required, MaxLength: modReasonMax}
	}
	worker := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "worker", Description: "The worker's name", Required: true, Autocomplete: true, MaxLength: horde.MaxWorkerNameLength}
	lo, hi := float64(-horde.MaxAdjustment), float64(horde.MaxAdjustment)
	amount := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "amount", Description: "Kudos to add (negative to take)", Required: true, MinValue: &lo, MaxValue: hi}
	prompt := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "prompt", Description: "The prompt to test", Required: true, MaxLength: 2000}
	nsfw := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionBoolean, Name: "nsfw", Description: "Test as in an NSFW channel (default: no)"}
	group := func(n, desc string, subs ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommandGroup, Name: n, Description: desc, Options: subs}
	}
	return &Command{
		Def: &discordgo.ApplicationCommand{
			Name:        "mod",
			Description: "Moderators: flag members, pause workers, adjust kudos, test the prompt filter",
			Options: []*discordgo.ApplicationCommandOption{
				subCommand("flag", "Flag a member: they can no longer request or give and receive kudos", member, reason(true)),
				subCommand("unflag", "Unflag a member and clear their strikes", member, reason(false)),
				subCommand("trust", "Trust a member: their workers' escrowed kudos are released", member, reason(false)),
				subCommand("untrust", "Stop trusting a member", member, reason(false)),
				subCommand("pause-worker", "Pause a worker: it gets no jobs and earns nothing", worker, reason(true)),
				subCommand("unpause-worker", "Let a paused worker work again", worker, reason(false)),
				group("kudos", "Kudos", subCommand("adjust", "Add or take kudos", member, amount, reason(true))),
				group("filter", "The prompt filter", subCommand("test", "Show what the prompt filter does with a prompt, and why", prompt, nsfw)),
				subCommand("info", "A member's standing: flags, strikes, escrow, workers", member),
			},
		},
		Defer:        deferAlways(interact.DeferEphemeral),
		Handle:       s.handleMod,
		Autocomplete: s.modAutocomplete,
	}
}

// moderator returns the caller as a moderator, or refuses: the caller must
// hold a configured moderator role (or be a moderator in the horde).
func (s *Set) moderator(ix *interact.Interaction) (horde.User, error) {
	if !s.IsModerator(ix.Member) && !ix.User.Moderator {
		return horde.User{}, kudos.Refuse(kudos.RefuseNotModerator, "Only moderators can use /mod.").InCase("mod")
	}
	by := ix.User
	by.Moderator = true
	return by, nil
}

func (s *Set) handleMod(ctx context.Context, ix *interact.Interaction) error {
	by, err := s.moderator(ix)
	if err != nil {
		return err
	}
	if s.mod == nil {
		return horde.Errorf(horde.KindDisabled, "ModerationDisabled", "Moderation tools are not available on this bot.")
	}
	o := interact.ParseOptions(ix.I)
	reason := o.String("reason", "")
	switch o.Sub {
	case "flag", "unflag":
		u, err := s.memberOption(ctx, ix, o, false)
		if err != nil {
			return err
		}
		flag := o.Sub == "flag"
		if _, err := s.mod.SetFlagged(ctx, by, u.ID, flag, reason); err != nil {
			return err
		}
		key := map[bool]string{true: "mod.flagged", false: "mod.unflagged"}[flag]
		return s.modDone(ctx, ix, func(p *locale.Printer) string {
			return p.T(key, locale.Args{"Moderator": ix.Caller.ID, "Member": u.DiscordID})
		}, reason)
	case "trust", "untrust":
		u, err := s.memberOption(ctx, ix, o, false)
		if err != nil {
			return err
		}
		trust := o.Sub == "trust"
		rel, err := s.mod.SetTrusted(ctx, by, u.ID, trust, reason)
		if err != nil {
			return err
		}
		key := map[bool]string{true: "mod.trusted", false: "mod.untrusted"}[trust]
		return s.modDone(ctx, ix, func(p *locale.Printer) string {
			what := p.T(key, locale.Args{"Moderator": ix.Caller.ID, "Member": u.DiscordID})
			if rel.Amount > 0 {
				what += " " + p.T("mod.released", locale.Args{"Amount": rel.Amount})
			}
			return what
		}, reason)
	case "pause-worker", "unpause-worker":
		w, err := s.horde.WorkerByName(ctx, o.String("worker", ""))
		if err != nil {
			return err
		}
		pause := o.Sub == "pause-worker"
		if _, err := s.mod.PauseWorker(ctx, by, w.ID, pause, reason); err != nil {
			return err
		}
		owner := s.ownerRef(ctx, w.OwnerID)
		key := map[bool]string{true: "mod.paused", false: "mod.unpaused"}[pause]
		return s.modDone(ctx, ix, func(p *locale.Printer) string {
			return p.T(key, locale.Args{"Moderator": ix.Caller.ID, "Worker": w.Name, "Owner": owner(p)})
		}, reason)
	case "kudos adjust":
		u, err := s.memberOption(ctx, ix, o, false)
		if err != nil {
			return err
		}
		amount := o.Int("amount", 0)
		applied, err := s.mod.AdjustKudos(ctx, by, u.ID, amount, reason, "mod:"+ix.I.ID)
		if err != nil {
			return err
		}
		if !applied {
			return ix.Reply(ctx, interact.Reply{Content: ix.T("mod.adjust.already", nil)})
		}
		return s.modDone(ctx, ix, func(p *locale.Printer) string {
			return p.T("mod.adjusted", locale.Args{"Moderator": ix.Caller.ID, "Member": u.DiscordID, "Amount": fmt.Sprintf("%+d", amount)})
		}, reason)
	case "filter test":
		return s.filterTest(ctx, ix, o)
	case "info":
		u, err := s.memberOption(ctx, ix, o, false)
		if err != nil {
			return err
		}
		st, err := s.mod.ModerationStatus(ctx, by, u.ID)
		if err != nil {
			return err
		}
		return ix.Reply(ctx, interact.Reply{Content: formatStanding(ix.Printer(), st)})
	default:
		return unknownSubcommand(ix, o.Sub)
	}
}

// modDone answers the moderator in their language and writes the action
// to the audit log in the posts' language; what words the action
// ("<@mod> flagged <@member>") in a language.
func (s *Set) modDone(ctx context.Context, ix *interact.Interaction, what func(*locale.Printer) string, reason string) error {
	line := func(p *locale.Printer) string {
		l := "🛡️ " + what(p)
		if reason != "" {
			l += ": " + clip(reason, modReasonMax)
		}
		return l
	}
	ap := s.postPrinter(ix.I.GuildLocale)
	s.audit(ctx, ix.S, line(ap)+" "+ap.T("audit.in_channel", locale.Args{"Channel": ix.I.ChannelID}))
	return ix.Reply(ctx, interact.Reply{Content: "✅ " + ix.T("mod.done", locale.Args{"Action": line(ix.Printer())})})
}

// ownerRef names a worker's owner in a printer's language: a mention, or
// name#id for API users; an owner the horde cannot read as an unknown member.
func (s *Set) ownerRef(ctx context.Context, ownerID int64) func(*locale.Printer) string {
	info, err := s.horde.UserInfo(ctx, ownerID)
	switch {
	case err != nil:
		return func(p *locale.Printer) string { return interact.UnknownMember(p, ownerID) }
	case info.User.DiscordID != "":
		return func(*locale.Printer) string { return "<@" + info.User.DiscordID + ">" }
	default:
		return func(*locale.Printer) string { return info.User.Username() }
	}
}

// formatStanding renders a member's standing for a moderator, in p's language.
func formatStanding(p *locale.Printer, st horde.ModerationStatus) string {
	var b strings.Builder
	u := st.User
	name := u.Username()
	if u.DiscordID != "" {
		name = "<@" + u.DiscordID + "> (" + u.Username() + ")"
	}
	b.WriteString(p.T("mod.standing.title", locale.Args{"Member": name}) + "\n")
	b.WriteString(p.T("mod.standing.summary", locale.Args{"Flagged": yesNoIn(p, u.Flagged), "Trusted": yesNoIn(p, u.Trusted),
		"Kudos": st.Kudos, "Escrowed": st.Escrowed}) + "\n")
	var strikes []string
	for _, k := range horde.StrikeKinds {
		if n := st.Strikes[k]; n > 0 {
			strikes = append(strikes, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(strikes) == 0 {
		strikes = []string{p.T("common.none", nil)}
	}
	b.WriteString(p.T("mod.standing.strikes", locale.Args{"Strikes": strings.Join(strikes, ", ")}) + "\n")
	// Workers' reports, untrusted owners' included: only the counted ones
	// (from trusted owners) are strikes.
	var reports []string
	for _, k := range horde.StrikeKinds {
		if r, ok := st.Reports[k]; ok && r.Reports > 0 {
			reports = append(reports, p.T("mod.standing.report", locale.Args{"Kind": string(k), "Count": r.Reports,
				"Counted": r.TrustedReports, "Owners": r.TrustedOwners}))
		}
	}
	if len(reports) > 0 {
		b.WriteString(p.T("mod.standing.reports", locale.Args{"Reports": strings.Join(reports, ", ")}) + "\n")
	}
	for _, w := range st.Workers {
		state := p.T("mod.standing.state.running", nil)
		switch {
		case w.Worker.Paused:
			state = p.T("mod.standing.state.paused", nil)
		case w.Worker.Maintenance:
			state = p.T("mod.standing.state.maintenance", nil)
		}
		b.WriteString(p.T("mod.standing.worker", locale.Args{"Worker": w.Worker.Name, "Kind": string(w.Worker.Kind), "State": state,
			"Jobs": w.Worker.Fulfilled, "Kudos": w.Worker.KudosEarned, "Suspicious": w.Suspicions}) + "\n")
	}
	return clip(b.String(), 1990)
}

// yesNo is a yes or no in English; yesNoIn in a member's language.
func yesNo(v bool) string { return yesNoIn(locale.Default().English(), v) }

func yesNoIn(p *locale.Printer, v bool) string {
	if v {
		return p.T("common.yes", nil)
	}
	return p.T("common.no", nil)
}

// modAutocomplete offers worker names for pause-worker and unpause-worker,
// to moderators only.
func (s *Set) modAutocomplete(ctx context.Context, ix *interact.Interaction) ([]*discordgo.ApplicationCommandOptionChoice, error) {
	if _, err := s.moderator(ix); err != nil {
		return nil, nil
	}
	o := interact.ParseOptions(ix.I)
	if o.Focused() != "worker" {
		return nil, nil
	}
	typed := strings.ToLower(o.String("worker", ""))
	ws, err := s.horde.Workers(ctx, "")
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ws))
	for _, w := range ws {
		if typed == "" || strings.Contains(strings.ToLower(w.Name), typed) {
			names = append(names, w.Name)
		}
	}
	sort.Strings(names)
	var out []*discordgo.ApplicationCommandOptionChoice
	for _, n := range names {
		if len(out) == 25 {
			break
		}
		out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: n, Value: n})
	}
	return out, nil
}

// PromptChecker is the prompt filter as /mod filter test uses it.
// *filter.Filter (and any horde.PromptFilter) satisfies it.
type PromptChecker interface {
	// Check returns the filter's verdict on prompt in a context; it never fails.
	Check(prompt string, fc filter.Context) filter.Verdict
}

var _ PromptChecker = (*filter.Filter)(nil)

// filterTest shows a moderator what the filter does with a prompt and why:
// the text as the filter reads it, the terms matched, the action. The
// answer is ephemeral; the audit log records the test with the prompt (the
// audit channel is the moderators').
func (s *Set) filterTest(ctx context.Context, ix *interact.Interaction, o interact.Options) error {
	if s.filter == nil {
		return horde.Errorf(horde.KindDisabled, "FilterDisabled", "The prompt filter is not enabled on this bot.")
	}
	prompt := o.String("prompt", "")
	if prompt == "" {
		return horde.Invalidf("prompt", "give a prompt to test").InCase("prompt")
	}
	nsfw := o.Bool("nsfw", false)
	where := map[bool]string{true: "mod.filter.nsfw", false: "mod.filter.sfw"}[nsfw]
	v := s.filter.Check(prompt, filter.Context{NSFWAllowed: nsfw})
	var b strings.Builder
	b.WriteString(ix.T("mod.filter.title", locale.Args{"Context": ix.T(where, nil)}) + "\n")
	b.WriteString(ix.T("mod.filter.action", locale.Args{"Action": v.Action.String()}))
	if v.Rule != filter.RuleNone {
		b.WriteString(" " + ix.T("mod.filter.rule", locale.Args{"Rule": fmt.Sprint(v.Rule)}))
	}
	b.WriteString("\n")
	if v.Reason != "" {
		b.WriteString(ix.T("mod.filter.why", locale.Args{"Reason": clip(v.Reason, 400)}) + "\n")
	}
	matched := ix.T("common.none", nil)
	if len(v.Matched) > 0 {
		matched = strings.Join(v.Matched, "; ")
	}
	empty := ix.T("mod.filter.empty", nil)
	b.WriteString(ix.T("mod.filter.matched", locale.Args{"Matched": inlineCodeOr(clip(matched, 500), empty)}) + "\n")
	b.WriteString(ix.T("mod.filter.normalized", locale.Args{"Normalized": inlineCodeOr(clip(filter.Normalize(prompt), 500), empty)}) + "\n")
	if v.Action != filter.Refuse && v.Prompt != prompt {
		b.WriteString(ix.T("mod.filter.queued", locale.Args{"Prompt": inlineCodeOr(clip(v.Prompt, 500), empty)}) + "\n")
	}
	ap := s.postPrinter(ix.I.GuildLocale)
	s.audit(ctx, ix.S, "🛡️ "+ap.T("mod.filter.audit", locale.Args{"Moderator": ix.Caller.ID, "Context": ap.T(where, nil),
		"Prompt": inlineCodeOr(clip(prompt, 600), ap.T("mod.filter.empty", nil)), "Action": v.Action.String()}))
	return ix.Reply(ctx, interact.Reply{Content: clip(b.String(), 1990)})
}

// inlineCode wraps text in backticks that its own backticks cannot close;
// empty text reads "(empty)" (inlineCodeOr: in a member's words).
func inlineCode(s string) string { return inlineCodeOr(s, "(empty)") }

// inlineCodeOr is inlineCode with the words that say the text is empty.
func inlineCodeOr(s, empty string) string {
	if s == "" {
		return empty
	}
	return "`` " + strings.ReplaceAll(s, "`", "ˋ") + " ``"
}

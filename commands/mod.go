package commands

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
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
		return horde.User{}, kudos.Refuse(kudos.RefuseNotModerator, "Only moderators can use /mod.")
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
		u, err := s.memberOption(ctx, ix, o)
		if err != nil {
			return err
		}
		flag := o.Sub == "flag"
		if _, err := s.mod.SetFlagged(ctx, by, u.ID, flag, reason); err != nil {
			return err
		}
		verb := map[bool]string{true: "flagged", false: "unflagged"}[flag]
		return s.modDone(ctx, ix, fmt.Sprintf("%s <@%s>", verb, u.DiscordID), reason)
	case "trust", "untrust":
		u, err := s.memberOption(ctx, ix, o)
		if err != nil {
			return err
		}
		trust := o.Sub == "trust"
		rel, err := s.mod.SetTrusted(ctx, by, u.ID, trust, reason)
		if err != nil {
			return err
		}
		what := fmt.Sprintf("%s <@%s>", map[bool]string{true: "trusted", false: "stopped trusting"}[trust], u.DiscordID)
		if rel.Amount > 0 {
			what += fmt.Sprintf(" (%d kudos released from escrow)", rel.Amount)
		}
		return s.modDone(ctx, ix, what, reason)
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
		what := fmt.Sprintf("%s worker **%s** (of %s)", map[bool]string{true: "paused", false: "unpaused"}[pause], w.Name, owner)
		return s.modDone(ctx, ix, what, reason)
	case "kudos adjust":
		u, err := s.memberOption(ctx, ix, o)
		if err != nil {
			return err
		}
		amount := o.Int("amount", 0)
		applied, err := s.mod.AdjustKudos(ctx, by, u.ID, amount, reason, "mod:"+ix.I.ID)
		if err != nil {
			return err
		}
		if !applied {
			return ix.Reply(ctx, interact.Reply{Content: "This adjustment was already made."})
		}
		return s.modDone(ctx, ix, fmt.Sprintf("adjusted the kudos of <@%s> by **%+d**", u.DiscordID, amount), reason)
	case "filter test":
		return s.filterTest(ctx, ix, o)
	case "info":
		u, err := s.memberOption(ctx, ix, o)
		if err != nil {
			return err
		}
		st, err := s.mod.ModerationStatus(ctx, by, u.ID)
		if err != nil {
			return err
		}
		return ix.Reply(ctx, interact.Reply{Content: formatStanding(st)})
	default:
		return horde.Invalidf("subcommand", "unknown subcommand %q", o.Sub)
	}
}

// modDone answers the moderator and writes the action to the audit log.
func (s *Set) modDone(ctx context.Context, ix *interact.Interaction, what, reason string) error {
	line := fmt.Sprintf("🛡️ <@%s> %s", ix.Caller.ID, what)
	if reason != "" {
		line += ": " + clip(reason, modReasonMax)
	}
	s.audit(ctx, ix.S, line+fmt.Sprintf(" (in <#%s>)", ix.I.ChannelID))
	return ix.Reply(ctx, interact.Reply{Content: "✅ Done: " + line})
}

// ownerRef names a worker's owner: a mention, or name#id for API users.
func (s *Set) ownerRef(ctx context.Context, ownerID int64) string {
	info, err := s.horde.UserInfo(ctx, ownerID)
	switch {
	case err != nil:
		return fmt.Sprintf("user #%d", ownerID)
	case info.User.DiscordID != "":
		return "<@" + info.User.DiscordID + ">"
	default:
		return info.User.Username()
	}
}

// formatStanding renders a member's standing for a moderator.
func formatStanding(st horde.ModerationStatus) string {
	var b strings.Builder
	u := st.User
	name := u.Username()
	if u.DiscordID != "" {
		name = "<@" + u.DiscordID + "> (" + u.Username() + ")"
	}
	fmt.Fprintf(&b, "**Standing of %s**\n", name)
	fmt.Fprintf(&b, "Flagged: %s · Trusted: %s · Kudos: %d · In escrow: %d\n", yesNo(u.Flagged), yesNo(u.Trusted), st.Kudos, st.Escrowed)
	var strikes []string
	for _, k := range horde.StrikeKinds {
		if n := st.Strikes[k]; n > 0 {
			strikes = append(strikes, fmt.Sprintf("%s %d", k, n))
		}
	}
	if len(strikes) == 0 {
		strikes = []string{"none"}
	}
	fmt.Fprintf(&b, "Strikes since last unflag: %s\n", strings.Join(strikes, ", "))
	// Workers' reports, untrusted owners' included: only the counted ones
	// (from trusted owners) are strikes.
	var reports []string
	for _, k := range horde.StrikeKinds {
		if r, ok := st.Reports[k]; ok && r.Reports > 0 {
			reports = append(reports, fmt.Sprintf("%s %d (%d counted, from %d trusted owners)", k, r.Reports, r.TrustedReports, r.TrustedOwners))
		}
	}
	if len(reports) > 0 {
		fmt.Fprintf(&b, "Worker reports since last unflag: %s\n", strings.Join(reports, ", "))
	}
	for _, w := range st.Workers {
		state := "running"
		switch {
		case w.Worker.Paused:
			state = "paused"
		case w.Worker.Maintenance:
			state = "maintenance"
		}
		fmt.Fprintf(&b, "Worker **%s** (%s): %s, %d jobs, %d kudos, %d suspicious results\n",
			w.Worker.Name, w.Worker.Kind, state, w.Worker.Fulfilled, w.Worker.KudosEarned, w.Suspicions)
	}
	return clip(b.String(), 1990)
}

func yesNo(v bool) string {
	if v {
		return "yes"
	}
	return "no"
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
		return horde.Invalidf("prompt", "give a prompt to test")
	}
	nsfw := o.Bool("nsfw", false)
	where := map[bool]string{true: "NSFW", false: "SFW"}[nsfw]
	v := s.filter.Check(prompt, filter.Context{NSFWAllowed: nsfw})
	var b strings.Builder
	fmt.Fprintf(&b, "**Filter test** (%s context)\n", where)
	fmt.Fprintf(&b, "Action: **%s**", v.Action)
	if v.Rule != filter.RuleNone {
		fmt.Fprintf(&b, " (rule `%s`)", v.Rule)
	}
	b.WriteString("\n")
	if v.Reason != "" {
		fmt.Fprintf(&b, "Why: %s\n", clip(v.Reason, 400))
	}
	matched := "none"
	if len(v.Matched) > 0 {
		matched = strings.Join(v.Matched, "; ")
	}
	fmt.Fprintf(&b, "Matched: %s\n", inlineCode(clip(matched, 500)))
	fmt.Fprintf(&b, "Normalized: %s\n", inlineCode(clip(filter.Normalize(prompt), 500)))
	if v.Action != filter.Refuse && v.Prompt != prompt {
		fmt.Fprintf(&b, "Queued as: %s\n", inlineCode(clip(v.Prompt, 500)))
	}
	s.audit(ctx, ix.S, fmt.Sprintf("🛡️ <@%s> tested the prompt filter (%s): %s → %s", ix.Caller.ID, where, inlineCode(clip(prompt, 600)), v.Action))
	return ix.Reply(ctx, interact.Reply{Content: clip(b.String(), 1990)})
}

// inlineCode wraps text in backticks that its own backticks cannot close.
func inlineCode(s string) string {
	if s == "" {
		return "(empty)"
	}
	return "`` " + strings.ReplaceAll(s, "`", "ˋ") + " ``"
}

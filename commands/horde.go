package commands

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/horde"
)

func (s *Set) hordeCommand() *Command {
	return &Command{
		Def: &discordgo.ApplicationCommand{
			Name:        "horde",
			Description: "The state of the community's GPU horde",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "status", Description: "Workers online and work queued"},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "models", Description: "Models offered by online workers"},
				{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "queue", Description: "What is waiting, per model"},
			},
		},
		Defer:  deferAlways(interact.DeferEphemeral),
		Handle: s.handleHorde,
	}
}

func (s *Set) handleHorde(ctx context.Context, ix *interact.Interaction) error {
	switch sub := interact.ParseOptions(ix.I).Sub; sub {
	case "status":
		p, err := s.horde.Performance(ctx)
		if err != nil {
			return fmt.Errorf("horde performance: %w", err)
		}
		return ix.Reply(ctx, interact.Reply{Content: fmt.Sprintf(
			"**Horde status**\nImage: %d workers (%d threads) online · %d requests queued · %.1f megapixel-steps queued · %.1f done in the last minute\n"+
				"Text: %d workers (%d threads) online · %d requests queued · %.0f tokens queued · %.0f done in the last minute\nAPI: %s",
			p.WorkerCount, p.ThreadCount, p.QueuedRequests, p.QueuedMegapixelsteps, p.PastMinuteMegapixelsteps,
			p.TextWorkerCount, p.TextThreadCount, p.QueuedTextRequests, p.QueuedTokens, p.PastMinuteTokens, s.cfg.PublicURL)})
	case "models":
		var b strings.Builder
		for _, kind := range []horde.RequestKind{horde.KindImage, horde.KindText} {
			ms, err := s.horde.Models(ctx, kind)
			if err != nil {
				return fmt.Errorf("list %s models: %w", kind, err)
			}
			fmt.Fprintf(&b, "**%s models**\n", kind)
			if len(ms) == 0 {
				b.WriteString("none online\n")
			}
			sortModels(ms)
			for _, m := range ms {
				fmt.Fprintf(&b, "• `%s` — %d worker(s)\n", m.Name, m.Workers)
			}
		}
		return ix.Reply(ctx, interact.Reply{Content: clip(b.String(), 1990)})
	case "queue":
		p, err := s.horde.Performance(ctx)
		if err != nil {
			return fmt.Errorf("horde performance: %w", err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "**Queue**\nImage: %d request(s) waiting · %.1f megapixel-steps\nText: %d request(s) waiting · %.0f tokens\n",
			p.QueuedRequests, p.QueuedMegapixelsteps, p.QueuedTextRequests, p.QueuedTokens)
		for _, kind := range []horde.RequestKind{horde.KindImage, horde.KindText} {
			ms, err := s.horde.Models(ctx, kind)
			if err != nil {
				return fmt.Errorf("list %s models: %w", kind, err)
			}
			sortModels(ms)
			for _, m := range ms {
				fmt.Fprintf(&b, "• %s `%s` — %d worker(s) · %d waiting for this model · ETA ~%s\n", kind, m.Name, m.Workers, m.Jobs, eta(m.ETA))
			}
		}
		if p.WorkerCount+p.TextWorkerCount == 0 {
			b.WriteString("No worker is online: queued requests wait until one comes.\n")
		}
		return ix.Reply(ctx, interact.Reply{Content: clip(b.String(), 1990)})
	default:
		return horde.Invalidf("subcommand", "unknown subcommand %q", sub)
	}
}

func sortModels(ms []horde.ModelStatus) {
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].Workers != ms[j].Workers {
			return ms[i].Workers > ms[j].Workers
		}
		return ms[i].Name < ms[j].Name
	})
}

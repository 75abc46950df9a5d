package commands

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
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
	p := ix.Printer()
	switch sub := interact.ParseOptions(ix.I).Sub; sub {
	case "status":
		perf, err := s.horde.Performance(ctx)
		if err != nil {
			return fmt.Errorf("horde performance: %w", err)
		}
		return ix.Reply(ctx, interact.Reply{Content: p.T("horde.status.text", locale.Args{
			"ImageWorkers":   p.T("horde.workers", locale.Args{locale.CountArg: perf.WorkerCount}),
			"ImageThreads":   perf.ThreadCount,
			"ImageRequests":  p.T("horde.requests_queued", locale.Args{locale.CountArg: perf.QueuedRequests}),
			"Megapixels":     p.Decimal(perf.QueuedMegapixelsteps, 1),
			"MegapixelsDone": p.Decimal(perf.PastMinuteMegapixelsteps, 1),
			"TextWorkers":    p.T("horde.workers", locale.Args{locale.CountArg: perf.TextWorkerCount}),
			"TextThreads":    perf.TextThreadCount,
			"TextRequests":   p.T("horde.requests_queued", locale.Args{locale.CountArg: perf.QueuedTextRequests}),
			"Tokens":         p.Decimal(perf.QueuedTokens, 0),
			"TokensDone":     p.Decimal(perf.PastMinuteTokens, 0),
			"API":            s.cfg.PublicURL,
		})})
	case "models":
		var b strings.Builder
		for _, kind := range []horde.RequestKind{horde.KindImage, horde.KindText} {
			ms, err := s.horde.Models(ctx, kind)
			if err != nil {
				return fmt.Errorf("list %s models: %w", kind, err)
			}
			b.WriteString(p.T("horde.models.title."+string(kind), nil) + "\n")
			if len(ms) == 0 {
				b.WriteString(p.T("horde.models.none", nil) + "\n")
			}
			sortModels(ms)
			for _, m := range ms {
				b.WriteString(p.T("horde.models.item", locale.Args{"Model": m.Name,
					"Workers": p.T("horde.workers", locale.Args{locale.CountArg: m.Workers})}) + "\n")
			}
		}
		return ix.Reply(ctx, interact.Reply{Content: clip(b.String(), 1990)})
	case "queue":
		perf, err := s.horde.Performance(ctx)
		if err != nil {
			return fmt.Errorf("horde performance: %w", err)
		}
		var b strings.Builder
		b.WriteString(p.T("horde.queue.text", locale.Args{
			"ImageRequests": p.T("horde.requests_waiting", locale.Args{locale.CountArg: perf.QueuedRequests}),
			"Megapixels":    p.Decimal(perf.QueuedMegapixelsteps, 1),
			"TextRequests":  p.T("horde.requests_waiting", locale.Args{locale.CountArg: perf.QueuedTextRequests}),
			"Tokens":        p.Decimal(perf.QueuedTokens, 0),
		}) + "\n")
		for _, kind := range []horde.RequestKind{horde.KindImage, horde.KindText} {
			ms, err := s.horde.Models(ctx, kind)
			if err != nil {
				return fmt.Errorf("list %s models: %w", kind, err)
			}
			sortModels(ms)
			for _, m := range ms {
				b.WriteString(p.T("horde.queue.item", locale.Args{"Kind": p.T("horde.kind."+string(kind), nil), "Model": m.Name,
					"Workers": p.T("horde.workers", locale.Args{locale.CountArg: m.Workers}),
					"Waiting": m.Jobs, "ETA": approxETA(p, m.ETA)}) + "\n")
			}
		}
		if perf.WorkerCount+perf.TextWorkerCount == 0 {
			b.WriteString(p.T("horde.queue.no_workers", nil) + "\n")
		}
		return ix.Reply(ctx, interact.Reply{Content: clip(b.String(), 1990)})
	default:
		return unknownSubcommand(ix, sub)
	}
}

// approxETA words an estimated wait in whole seconds, minutes or hours.
func approxETA(p *locale.Printer, secs int) string {
	d := time.Duration(secs) * time.Second
	switch {
	case secs <= 0:
		return p.T("horde.eta.soon", nil)
	case d >= 2*time.Hour:
		return p.Duration(d.Round(time.Hour))
	case d >= 2*time.Minute:
		return p.Duration(d.Round(time.Minute))
	default:
		return p.Duration(d)
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

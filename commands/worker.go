package commands

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/horde"
)

func (s *Set) workerCommand() *Command {
	name := func(desc string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "name", Description: desc, Required: true, Autocomplete: true}
	}
	minName := 3
	return &Command{
		Def: &discordgo.ApplicationCommand{
			Name:        "worker",
			Description: "Run your GPU as a horde worker (works in DMs with the bot)",
			Options: []*discordgo.ApplicationCommandOption{
				subCommand("register", "Register a new worker and get its API key",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "name", Description: "A unique worker name", Required: true, MinLength: &minName, MaxLength: 100},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "kind", Description: "What it generates", Choices: []*discordgo.ApplicationCommandOptionChoice{
						{Name: "image", Value: string(horde.KindImage)}, {Name: "text", Value: string(horde.KindText)},
						{Name: "alchemy (describe, upscale)", Value: string(horde.KindAlchemy)},
					}}),
				subCommand("list", "Your workers"),
				subCommand("info", "One worker's details", name("Worker name")),
				subCommand("maintenance", "Stop or resume taking jobs from others", name("Worker name"),
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionBoolean, Name: "enabled", Description: "On: serve only your own requests", Required: true}),
				subCommand("rename", "Rename a worker", name("Worker name"),
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "new_name", Description: "The new name", Required: true, MinLength: &minName, MaxLength: 100}),
				subCommand("rotate-key", "Replace a worker's API key (the old one stops working)", name("Worker name")),
				subCommand("delete", "Delete a worker", name("Worker name")),
			},
		},
		Defer: func(ix *interact.Interaction) interact.DeferMode {
			if ix.InGuild() {
				return interact.DeferNone // answered at once, privately
			}
			return interact.DeferPublic // a DM is private already
		},
		Handle:       s.handleWorker,
		Autocomplete: s.ownWorkerChoices,
	}
}

func (s *Set) handleWorker(ctx context.Context, ix *interact.Interaction) error {
	if ix.InGuild() {
		return horde.Errorf(horde.KindForbidden, "DMOnly", "/worker works in DMs only, so that worker keys stay private: send it to me in a direct message.")
	}
	o := interact.ParseOptions(ix.I)
	if o.Sub == "register" {
		kind := horde.RequestKind(o.String("kind", string(horde.KindImage)))
		w, key, err := s.horde.RegisterWorker(ctx, ix.User, o.String("name", ""), kind)
		if err != nil {
			return fmt.Errorf("register worker: %w", err)
		}
		return ix.Reply(ctx, interact.Reply{Content: s.keyMessage(w, key, "registered")})
	}
	if o.Sub == "list" {
		ws, err := s.ownWorkers(ctx, ix.User)
		if err != nil {
			return err
		}
		if len(ws) == 0 {
			return ix.Reply(ctx, interact.Reply{Content: "You have no workers yet. `/worker register` creates one."})
		}
		var b strings.Builder
		b.WriteString("**Your workers**\n")
		now := s.cfg.Clock.Now()
		for _, w := range ws {
			fmt.Fprintf(&b, "• `%s` (%s) — %s · %d jobs · %d kudos\n", w.Name, w.Kind, workerState(&w, now), w.Fulfilled, w.KudosEarned)
		}
		return ix.Reply(ctx, interact.Reply{Content: clip(b.String(), 1990)})
	}
	w, err := s.ownWorker(ctx, ix.User, o.String("name", ""))
	if err != nil {
		return err
	}
	switch o.Sub {
	case "info":
		now := s.cfg.Clock.Now()
		last := "never"
		if !w.LastPop.IsZero() {
			last = now.Sub(w.LastPop).Truncate(time.Second).String() + " ago"
		}
		return ix.Reply(ctx, interact.Reply{Content: clip(fmt.Sprintf(
			"**%s** (%s) — %s\nid `%s`\nmodels: %s\nmax pixels %d · nsfw %v · threads %d\nlast pop %s · %d jobs done · %d dropped · %d kudos earned · uptime %s",
			w.Name, w.Kind, workerState(&w, now), w.ID, listOrNone(w.Models), w.MaxPixels, w.NSFW, w.Threads,
			last, w.Fulfilled, w.Dropped, w.KudosEarned, (time.Duration(w.UptimeSeconds)*time.Second).String()), 1990)})
	case "maintenance":
		on := o.Bool("enabled", true)
		w, err = s.horde.UpdateWorker(ctx, ix.User, w.ID, horde.WorkerUpdate{Maintenance: &on})
		if err != nil {
			return fmt.Errorf("set maintenance of %s: %w", w.ID, err)
		}
		if on {
			return ix.Reply(ctx, interact.Reply{Content: fmt.Sprintf("`%s` is in maintenance: it serves only your own requests.", w.Name)})
		}
		return ix.Reply(ctx, interact.Reply{Content: fmt.Sprintf("`%s` is out of maintenance and serves everyone.", w.Name)})
	case "rename":
		nn := o.String("new_name", "")
		old := w.Name
		w, err = s.horde.UpdateWorker(ctx, ix.User, w.ID, horde.WorkerUpdate{Name: &nn})
		if err != nil {
			return fmt.Errorf("rename worker %s: %w", old, err)
		}
		return ix.Reply(ctx, interact.Reply{Content: fmt.Sprintf("`%s` is now `%s`. Start it with `--name %s` from now on.", old, w.Name, w.Name)})
	case "rotate-key":
		key, err := s.horde.RotateWorkerKey(ctx, ix.User, w.ID)
		if err != nil {
			return fmt.Errorf("rotate key of %s: %w", w.ID, err)
		}
		return ix.Reply(ctx, interact.Reply{Content: s.keyMessage(w, key, "has a new key")})
	case "delete":
		if err := s.horde.DeleteWorker(ctx, ix.User, w.ID); err != nil {
			return fmt.Errorf("delete worker %s: %w", w.ID, err)
		}
		return ix.Reply(ctx, interact.Reply{Content: fmt.Sprintf("`%s` is deleted; its key no longer works.", w.Name)})
	default:
		return horde.Invalidf("subcommand", "unknown subcommand %q", o.Sub)
	}
}

// keyMessage shows a worker key once, with how to start a worker with it:
// the reference worker, or the AI Horde worker of the worker's kind with
// the exact settings README's "Connect a worker" gives.
func (s *Set) keyMessage(w horde.Worker, key, what string) string {
	url := s.cfg.PublicURL
	kind := string(w.Kind)
	if w.Kind == horde.KindAlchemy {
		kind = "alchemy" // hordeworker's name for the AI Horde's worker type "interrogation"
	}
	msg := fmt.Sprintf("Worker `%s` (%s) %s. Its API key is shown **this once**; keep it secret:\n```\n%s\n```\n"+
		"Start the reference worker:\n```\nHORDE_API_KEY=<the key> hordeworker --url %s --name %s --kind %s --backend procedural\n```\n",
		w.Name, w.Kind, what, key, url, w.Name, kind)
	if w.Kind == horde.KindAlchemy {
		return msg + fmt.Sprintf("Or horde-worker-reGen as an alchemist: in bridgeData.yaml set `horde_url: \"%s/api/\"`, `api_key: \"<the key>\"`, "+
			"`dreamer: false`, `alchemist: true` and `alchemist_name: \"%s\"`.", url, w.Name)
	}
	if w.Kind == horde.KindText {
		return msg + fmt.Sprintf("Or the KoboldAI Horde bridge beside your KoboldAI/KoboldCpp: in clientData.py set "+
			"`cluster_url = \"%s\"`, `api_key = \"<the key>\"`, `kai_name = \"%s\"` and `kai_url` (or run "+
			"`python bridge.py -c %s -a <the key> -n %s -k http://localhost:5001`).", url, w.Name, url, w.Name)
	}
	return msg + fmt.Sprintf("Or horde-worker-reGen: in bridgeData.yaml set `horde_url: \"%s/api/\"`, `api_key: \"<the key>\"` "+
		"and `dreamer_name: \"%s\"` (the older AI-Horde-Worker: `horde_url: \"%s\"`).", url, w.Name, url)
}

// ownWorkers lists u's workers, by name.
func (s *Set) ownWorkers(ctx context.Context, u horde.User) ([]horde.Worker, error) {
	all, err := s.horde.Workers(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	var ws []horde.Worker
	for _, w := range all {
		if w.OwnerID == u.ID {
			ws = append(ws, w)
		}
	}
	sort.Slice(ws, func(i, j int) bool { return ws[i].Name < ws[j].Name })
	return ws, nil
}

// ownWorker finds u's worker by name. Another member's worker is "not
// found" too: names of others' workers are not confirmed.
func (s *Set) ownWorker(ctx context.Context, u horde.User, name string) (horde.Worker, error) {
	w, err := s.horde.WorkerByName(ctx, name)
	if err != nil && !horde.IsKind(err, horde.KindNotFound) {
		return w, fmt.Errorf("find worker %q: %w", name, err)
	}
	if err != nil || w.OwnerID != u.ID {
		return horde.Worker{}, horde.NotFoundf("WorkerNotFound", "You have no worker named %q.", name)
	}
	return w, nil
}

func (s *Set) ownWorkerChoices(ctx context.Context, ix *interact.Interaction) ([]*discordgo.ApplicationCommandOptionChoice, error) {
	typed := strings.ToLower(interact.ParseOptions(ix.I).String("name", ""))
	ws, err := s.ownWorkers(ctx, ix.User)
	if err != nil {
		return nil, err
	}
	var out []*discordgo.ApplicationCommandOptionChoice
	for _, w := range ws {
		if typed == "" || strings.Contains(strings.ToLower(w.Name), typed) {
			out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: clip(w.Name, 100), Value: w.Name})
		}
	}
	return out, nil
}

func workerState(w *horde.Worker, now time.Time) string {
	switch {
	case w.Paused:
		return "paused by a moderator"
	case w.Maintenance:
		return "maintenance"
	case w.Online(now):
		return "online"
	default:
		return "offline"
	}
}

func listOrNone(xs []string) string {
	if len(xs) == 0 {
		return "none announced yet"
	}
	return strings.Join(xs, ", ")
}

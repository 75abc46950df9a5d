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
		return ix.Reply(ctx, interact.Reply{Content: s.keyMessage(ix.Printer(), w, key, "worker.key.registered")})
	}
	if o.Sub == "list" {
		ws, err := s.ownWorkers(ctx, ix.User)
		if err != nil {
			return err
		}
		if len(ws) == 0 {
			return ix.Reply(ctx, interact.Reply{Content: ix.T("worker.list.none", nil)})
		}
		var b strings.Builder
		b.WriteString(ix.T("worker.list.title", nil) + "\n")
		now := s.cfg.Clock.Now()
		for _, w := range ws {
			b.WriteString(ix.T("worker.list.item", locale.Args{"Name": w.Name, "Kind": string(w.Kind), "State": workerState(ix.Printer(), &w, now),
				"Jobs": ix.T("worker.jobs", locale.Args{locale.CountArg: w.Fulfilled}), "Kudos": w.KudosEarned}) + "\n")
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
		last := ix.T("worker.info.never", nil)
		if !w.LastPop.IsZero() {
			last = ix.T("worker.info.ago", locale.Args{"Duration": now.Sub(w.LastPop).Truncate(time.Second).String()})
		}
		models := ix.T("worker.info.no_models", nil)
		if len(w.Models) > 0 {
			models = strings.Join(w.Models, ", ")
		}
		return ix.Reply(ctx, interact.Reply{Content: clip(ix.T("worker.info.text", locale.Args{
			"Name": w.Name, "Kind": string(w.Kind), "State": workerState(ix.Printer(), &w, now), "ID": w.ID, "Models": models,
			"MaxPixels": w.MaxPixels, "NSFW": yesNoIn(ix.Printer(), w.NSFW), "Threads": w.Threads, "LastPop": last,
			"Jobs": w.Fulfilled, "Dropped": w.Dropped, "Kudos": w.KudosEarned,
			"Uptime": (time.Duration(w.UptimeSeconds) * time.Second).String(),
		}), 1990)})
	case "maintenance":
		on := o.Bool("enabled", true)
		w, err = s.horde.UpdateWorker(ctx, ix.User, w.ID, horde.WorkerUpdate{Maintenance: &on})
		if err != nil {
			return fmt.Errorf("set maintenance of %s: %w", w.ID, err)
		}
		if on {
			return ix.Reply(ctx, interact.Reply{Content: ix.T("worker.maintenance.on", locale.Args{"Name": w.Name})})
		}
		return ix.Reply(ctx, interact.Reply{Content: ix.T("worker.maintenance.off", locale.Args{"Name": w.Name})})
	case "rename":
		nn := o.String("new_name", "")
		old := w.Name
		w, err = s.horde.UpdateWorker(ctx, ix.User, w.ID, horde.WorkerUpdate{Name: &nn})
		if err != nil {
			return fmt.Errorf("rename worker %s: %w", old, err)
		}
		return ix.Reply(ctx, interact.Reply{Content: ix.T("worker.renamed", locale.Args{"Old": old, "Name": w.Name})})
	case "rotate-key":
		key, err := s.horde.RotateWorkerKey(ctx, ix.User, w.ID)
		if err != nil {
			return fmt.Errorf("rotate key of %s: %w", w.ID, err)
		}
		return ix.Reply(ctx, interact.Reply{Content: s.keyMessage(ix.Printer(), w, key, "worker.key.rotated")})
	case "delete":
		if err := s.horde.DeleteWorker(ctx, ix.User, w.ID); err != nil {
			return fmt.Errorf("delete worker %s: %w", w.ID, err)
		}
		return ix.Reply(ctx, interact.Reply{Content: ix.T("worker.deleted", locale.Args{"Name": w.Name})})
	default:
		return unknownSubcommand(ix, o.Sub)
	}
}

// keyMessage shows a worker key once, with how to start a worker with it:
// the reference worker, or the AI Horde worker of the worker's kind with
// the exact settings README's "Connect a worker" gives. what is the
// catalog key of its first line (registered, or a new key).
func (s *Set) keyMessage(p *locale.Printer, w horde.Worker, key, what string) string {
	url := s.cfg.PublicURL
	args := locale.Args{"Name": w.Name, "Kind": string(w.Kind), "URL": url}
	theKey := p.T("worker.key.placeholder", nil)
	rb, ok := referenceBackend[w.Kind]
	if !ok {
		rb = referenceBackend[horde.KindImage]
	}
	kind := string(w.Kind)
	if w.Kind == horde.KindAlchemy {
		kind = "alchemy" // hordeworker's name for the AI Horde's worker type "interrogation"
	}
	msg := p.T(what, args) + "\n```\n" + key + "\n```\n" + p.T("worker.key.reference", locale.Args{"Backend": rb.beside}) + "\n```\n" +
		fmt.Sprintf("HORDE_API_KEY=%s hordeworker --url %s --name %s --kind %s %s", theKey, url, w.Name, kind, rb.flags) + "\n```\n" +
		p.T(rb.alternative, nil) + "\n"
	args["Key"] = theKey
	switch w.Kind {
	case horde.KindText:
		return msg + p.T("worker.key.kobold", args)
	case horde.KindAlchemy:
		return msg + p.T("worker.key.alchemist", args)
	}
	return msg + p.T("worker.key.regen", args)
}

// referenceBackend is, per worker kind, the backend most GPU owners run,
// the reference worker's flags for it at its default address, and the
// catalog key of the line naming the other backends.
var referenceBackend = map[horde.RequestKind]struct{ beside, flags, alternative string }{
	horde.KindImage: {"ComfyUI", "--backend comfyui --comfyui-url http://127.0.0.1:8188", "worker.key.alternative.image"},
	horde.KindText:  {"KoboldCpp", "--backend kobold --backend-url http://127.0.0.1:5001", "worker.key.alternative.text"},
	// Captions and interrogations through A1111's interrogate API, upscales through its extras.
	horde.KindAlchemy: {"AUTOMATIC1111/Forge", "--backend a1111 --backend-url http://127.0.0.1:7860", "worker.key.alternative.alchemy"},
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
		return horde.Worker{}, horde.NotFoundf("WorkerNotFound", "You have no worker named %q.", name).InCase("own").With("Name", horde.QuoteInput(name))
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

func workerState(p *locale.Printer, w *horde.Worker, now time.Time) string {
	switch {
	case w.Paused:
		return p.T("worker.state.paused", nil)
	case w.Maintenance:
		return p.T("worker.state.maintenance", nil)
	case w.Online(now):
		return p.T("worker.state.online", nil)
	default:
		return p.T("worker.state.offline", nil)
	}
}

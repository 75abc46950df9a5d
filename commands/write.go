package commands

import (
	"context"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

const (
	defaultMaxLength = 200
	maxWriteLength   = 1024
	// inlineTextLimit is the longest text shown in the message itself; longer
	// output is attached as a .txt file (Discord's limit is 2000 characters).
	inlineTextLimit = 1900
)

func (s *Set) writeCommand() *Command {
	minLen := 1
	lo, hi := float64(aihorde.MinMaxLength), float64(maxWriteLength)
	return &Command{
		Def: &discordgo.ApplicationCommand{
			Name:        "write",
			Description: "Generate text on the community's GPUs",
			Options: []*discordgo.ApplicationCommandOption{
				{Type: discordgo.ApplicationCommandOptionString, Name: "prompt", Description: "What to write about, or the text to continue", Required: true, MinLength: &minLen, MaxLength: 4000},
				{Type: discordgo.ApplicationCommandOptionInteger, Name: "max_length", Description: "Longest output, in tokens", MinValue: &lo, MaxValue: hi},
				{Type: discordgo.ApplicationCommandOptionString, Name: "model", Description: "Model (from online workers)", Autocomplete: true},
				{Type: discordgo.ApplicationCommandOptionString, Name: writeStyleOption, Description: "One of the horde's text styles", Autocomplete: true, MaxLength: maxStyleRef},
			},
		},
		Defer:     s.deferGenerate,
		Handle:    s.handleWrite,
		Resumable: true,
		Autocomplete: autocompleteBy(map[string]choicesFunc{
			"model": s.modelChoices(horde.KindText), writeStyleOption: s.styleChoicesOf(horde.KindText, false),
		}),
	}
}

func (s *Set) handleWrite(ctx context.Context, ix *interact.Interaction) error {
	o := interact.ParseOptions(ix.I)
	prompt := o.String("prompt", "")
	if prompt == "" {
		return horde.Invalidf("prompt", "the prompt is empty").InCase("prompt_empty")
	}
	nr := horde.NewRequest{
		Kind: horde.KindText, Prompt: prompt, N: 1, ClientAgent: clientAgent, Source: "discord",
		// AnyBackend: the community's own text workers serve its members,
		// whatever bridge they run (the KoboldAI bridge is not one of the
		// AI Horde's validated backends, which API requests ask for by default).
		Text: &horde.TextParams{MaxLength: int(o.Int("max_length", defaultMaxLength)), MaxContextLength: aihorde.DefaultMaxContextLength, AnyBackend: true},
	}
	if m := o.String("model", ""); m != "" {
		nr.Models = []string{m}
	}
	ms, err := s.settingsOf(ctx, ix)
	if err != nil {
		return err
	}
	from := textSettings(o, ms, &nr) // settings_apply.go
	if err := s.applyWriteStyle(ctx, ix, o, &nr, from); err != nil {
		return err
	}
	return explainSettings(ix.Printer(), s.submitLimited(ctx, ix, from.given(o), nr, prompt), from)
}

// textResult is the finished /write message: the text inline, or as a file
// when it is too long for a message.
func (s *Set) textResult(d delivery, p horde.Progress, gens []horde.Generation) interact.Reply {
	var text strings.Builder
	var censored int
	model := ""
	for _, g := range gens {
		if g.State != "" && g.State != horde.ResultOK {
			censored++
			continue
		}
		if text.Len() > 0 {
			text.WriteString("\n\n---\n\n")
		}
		text.WriteString(g.Text)
		if model == "" {
			model = g.Model
		}
	}
	pr := d.printer()
	head := pr.T("result.head", locale.Args{"User": d.UserID, "Prompt": clip(d.Prompt, 200)})
	if model != "" {
		head += " · " + model
	}
	head += " · " + pr.T("result.kudos", locale.Args{"Kudos": p.Kudos})
	if censored > 0 {
		head += "\n" + pr.T("result.text.filtered", locale.Args{locale.CountArg: censored})
	}
	out := text.String()
	if len(head)+2+len(out) <= inlineTextLimit {
		return interact.Reply{Content: head + "\n\n" + out, Components: []discordgo.MessageComponent{}}
	}
	return interact.Reply{
		Content:    head + "\n" + pr.T("result.text.attached", nil),
		Components: []discordgo.MessageComponent{},
		Files:      []*discordgo.File{{Name: "write-" + shortID(d.RequestID) + ".txt", ContentType: "text/plain; charset=utf-8", Reader: strings.NewReader(out)}},
	}
}

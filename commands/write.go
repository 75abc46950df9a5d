package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
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
			},
		},
		Defer:        s.deferGenerate,
		Handle:       s.handleWrite,
		Autocomplete: s.modelChoices(horde.KindText),
		Resumable:    true,
	}
}

func (s *Set) handleWrite(ctx context.Context, ix *interact.Interaction) error {
	o := interact.ParseOptions(ix.I)
	prompt := o.String("prompt", "")
	if prompt == "" {
		return horde.Invalidf("prompt", "the prompt is empty")
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
	return explainSettings(s.submitLimited(ctx, ix, from.given(o), nr, prompt), from)
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
	head := fmt.Sprintf("<@%s> “%s”", d.UserID, clip(d.Prompt, 200))
	if model != "" {
		head += " · " + model
	}
	head += fmt.Sprintf(" · %d kudos", p.Kudos)
	if censored > 0 {
		head += fmt.Sprintf("\n%d result(s) were filtered.", censored)
	}
	out := text.String()
	if len(head)+2+len(out) <= inlineTextLimit {
		return interact.Reply{Content: head + "\n\n" + out, Components: []discordgo.MessageComponent{}}
	}
	return interact.Reply{
		Content:    head + "\nThe text is long; it is attached.",
		Components: []discordgo.MessageComponent{},
		Files:      []*discordgo.File{{Name: "write-" + shortID(d.RequestID) + ".txt", ContentType: "text/plain; charset=utf-8", Reader: strings.NewReader(out)}},
	}
}

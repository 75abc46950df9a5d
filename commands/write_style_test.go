package commands_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// addTextStyle stores a text style of owner, as POST /styles/text would.
func addTextStyle(h *harness, owner *userT, name, prompt, params string, models []string, public bool) horde.Style {
	h.T.Helper()
	u := h.User(owner)
	st := horde.Style{ID: horde.NewStyleID(), Kind: horde.KindText, UserID: u.ID, Creator: u.Username(), Name: name, Prompt: prompt,
		Params: []byte(params), Models: models, Public: public}
	must(h.T, h.Store.CreateStyle(h.Ctx, st))
	return st
}

// popTextJob pops the one text request a /write queued (tok), as a
// worker serving models.
func popTextJob(h *harness, tok string, c horde.Credential, models ...string) horde.Assignment {
	h.T.Helper()
	h.Original(tok, "queued", waiting)
	as, _, err := h.Horde.Pop(h.Ctx, c, horde.PopRequest{Kind: horde.KindText, Name: "llm-1", Models: models, MaxLength: 1024, MaxContextLength: 8192,
		Amount: 5, Threads: 1, BridgeAgent: "KoboldAI Bridge:10:https://github.com/db0/KoboldAI-Horde-Bridge"})
	must(h.T, err)
	if len(as) != 1 {
		last, _ := h.Srv.Original(tok)
		h.T.Fatalf("popped %d text jobs, want 1 (the message: %q)", len(as), last.Content)
	}
	return as[0]
}

// TestWriteStyle: /write style autocompletes from the horde's text styles
// (not its image styles) and applies one as an API text request naming it
// would: the prompt in its template, its params and models; the member's
// own max_length and model still win; an image style or an unknown one is
// refused in the member's language.
func TestWriteStyle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.WorkerCred("llm")
	pirate := addTextStyle(h, h.Bob, "pirate", "Answer as a pirate would: {p}", `{"max_length": 120, "temperature": 0.4}`, []string{"llama-pirate"}, true)
	addTextStyle(h, h.Bob, "pirate secret", "Arr, quietly: {p}", `{}`, nil, false)
	addStyle(h, h.Bob, "pirate ship", "{p}, a galleon{np}", true) // an image style

	t.Run("autocomplete offers the text styles only", func(t *testing.T) {
		h := h.On(t)
		for _, tt := range []struct {
			user *userT
			want []string
		}{
			{h.Alice, []string{"pirate"}},
			{h.Bob, []string{"pirate", "pirate secret"}}, // his own private one too
		} {
			got := choices(h, tt.user, "write", opt("prompt", "x"), discordtest.Focused("style", "pir"))
			var names []string
			for _, c := range got {
				names = append(names, strings.SplitN(c.Name, " — ", 2)[0])
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("%s: choices %q, want %q", tt.user.Username, names, tt.want)
			}
			if len(got) > 0 && got[0].Value != pirate.ID {
				t.Errorf("the choice's value is %v, want the style's id %s", got[0].Value, pirate.ID)
			}
		}
	})
	t.Run("a picked style changes the worker's request, and its creator is paid", func(t *testing.T) {
		h := h.On(t)
		before := h.Balance(h.Bob)
		tok := h.Run(h.Alice, h.General, "write", opt("prompt", "where is the treasure?"), opt("style", pirate.ID))
		a := popTextJob(h, tok, w, "llama-pirate")
		req := a.Request
		if want := "Answer as a pirate would: where is the treasure?"; req.Prompt != want {
			t.Errorf("prompt %q, want the template applied: %q", req.Prompt, want)
		}
		if req.Text.MaxLength != 120 || req.Text.Temperature != 0.4 || !req.Text.AnyBackend {
			t.Errorf("text params %+v, want the style's max_length 120 and temperature 0.4, any backend", *req.Text)
		}
		if !slices.Equal(req.Models, []string{"llama-pirate"}) || req.Extras == nil || req.Extras.StyleID != pirate.ID {
			t.Errorf("models %v, extras %+v: want the style's model, and the style recorded", req.Models, req.Extras)
		}
		_, err := h.Horde.SubmitResult(h.Ctx, w, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Text: "Arr, under the palm."})
		must(t, err)
		h.Original(tok, "text", func(m discordtest.Message) bool { return strings.Contains(m.Content, "Arr, under the palm.") })
		if got := h.Balance(h.Bob); got != before+kudos.StyleReward {
			t.Errorf("the style's creator has %d kudos, want %d + the style reward %d", got, before, kudos.StyleReward)
		}
	})
	t.Run("a style typed by name, with the member's max_length and model", func(t *testing.T) {
		h := h.On(t)
		tok := h.Run(h.Alice, h.General, "write", opt("prompt", "sing"), opt("style", "pirate"), opt("max_length", 64), opt("model", "llama"))
		req := popTextJob(h, tok, w, "llama").Request
		if req.Prompt != "Answer as a pirate would: sing" || req.Text.MaxLength != 64 || req.Text.Temperature != 0.4 || !slices.Equal(req.Models, []string{"llama"}) {
			t.Errorf("prompt %q max_length %d temperature %g models %v; want the style with the member's 64 tokens and model",
				req.Prompt, req.Text.MaxLength, req.Text.Temperature, req.Models)
		}
	})
	t.Run("refusals, in the member's language", func(t *testing.T) {
		h := h.On(t)
		for _, tt := range []struct {
			name, style string
			locale      discordgo.Locale
			want        string
		}{
			{"an image style", "pirate ship", discordgo.EnglishUS, "is an image style; /write takes text styles"},
			{"an unknown style", "no such style", discordgo.EnglishUS, "There is no text style"},
			{"an image style, in German", "pirate ship", discordgo.German, "ist ein Bildstil"},
			{"an unknown style, in Spanish", "no such style", discordgo.SpanishES, "No hay ningún estilo de texto"},
		} {
			tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: h.Alice.ID, Locale: tt.locale,
				Command: "write", Options: discordtest.Opts(opt("prompt", "x"), opt("style", tt.style))})
			must(t, err)
			text, private := h.Reply(tok)
			if !private || !strings.Contains(text, tt.want) {
				t.Errorf("%s: reply %q (private %v), want a private %q", tt.name, text, private, tt.want)
			}
		}
	})
}

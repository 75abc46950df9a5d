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

// popModels announces an image worker serving models and pops what waits.
func popModels(h *harness, c horde.Credential, name string, models ...string) []horde.Assignment {
	h.T.Helper()
	as, _, err := h.Horde.Pop(h.Ctx, c, horde.PopRequest{Kind: horde.KindImage, Name: name, Models: models, MaxPixels: 1024 * 1024, NSFW: true, Amount: 20, Threads: 1})
	must(h.T, err)
	return as
}

// popOne pops the one request an /imagine queued (tok) for the worker.
func popOne(h *harness, tok string, c horde.Credential, name string, models ...string) horde.Request {
	h.T.Helper()
	h.Original(tok, "queued", waiting)
	as := popModels(h, c, name, models...)
	if len(as) != 1 {
		last, _ := h.Srv.Original(tok)
		h.T.Fatalf("popped %d jobs, want 1 (the message: %q)", len(as), last.Content)
	}
	return as[0].Request
}

// waiting matches the progress message of a queued request.
func waiting(m discordtest.Message) bool {
	return strings.Contains(m.Content, "⏳") || strings.Contains(m.Content, "🎨")
}

// choices sends an autocomplete of command with the options (one focused)
// as user, and returns the choices the bot answered.
func choices(h *harness, user *userT, command string, opts ...*discordOption) []*discordgo.ApplicationCommandOptionChoice {
	h.T.Helper()
	tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: user.ID,
		Command: command, Options: discordtest.Opts(opts...)})
	must(h.T, err)
	cb, err := h.Srv.WaitForCallback(h.Ctx, tok)
	must(h.T, err)
	return cb.Choices
}

// addStyle stores an image style of owner for stable_diffusion.
func addStyle(h *harness, owner *userT, name, prompt string, public bool) horde.Style {
	h.T.Helper()
	u := h.User(owner)
	st := horde.Style{ID: horde.NewStyleID(), Kind: horde.KindImage, UserID: u.ID, Creator: u.Username(), Name: name, Prompt: prompt,
		Params: []byte(`{"steps": 12, "sampler_name": "k_dpmpp_2m", "cfg_scale": 6}`), Models: []string{"stable_diffusion"}, Public: public}
	must(h.T, h.Store.CreateStyle(h.Ctx, st))
	return st
}

// TestImagineStyle: /imagine style autocompletes from the horde's styles
// (public ones and the member's own), and a style picked there, or typed by
// name, changes the request the worker gets as an API request naming it
// would; what the member typed still wins, and an unknown style is refused.
func TestImagineStyle(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.WorkerCred("gpu")

	tok := h.Run(h.Mod, h.General, "style", sub("create", opt("name", "oil"), opt("prompt", "{p}, oil painting"), opt("negative", "blurry"),
		opt("model", "stable_diffusion"), opt("steps", 12), opt("sampler", "k_dpmpp_2m"), opt("cfg", 6.0)))
	text, private := h.Reply(tok)
	if !private || !strings.Contains(text, "Style created") {
		t.Fatalf("/style create by a moderator: %q (private %v)", text, private)
	}
	oil, err := h.Store.StyleByName(h.Ctx, horde.KindImage, h.User(h.Mod).ID, "oil")
	must(t, err)
	addStyle(h, h.Bob, "oily noir", "{p}, film noir{np}", true)
	secret := addStyle(h, h.Bob, "oil secret", "{p}, secret{np}", false)

	t.Run("autocomplete offers the matching styles", func(t *testing.T) {
		h := h.On(t)
		tests := []struct {
			name  string
			user  *userT
			typed string
			want  []string // labels' names, in order
		}{
			{"prefix matches, public only for another member", h.Alice, "oil", []string{"oil", "oily noir"}},
			{"a substring match", h.Alice, "noir", []string{"oily noir"}},
			{"the member's own private style too", h.Bob, "oil", []string{"oil", "oily noir", "oil secret"}},
			{"nothing typed: every style", h.Alice, "", []string{"oil", "oily noir"}},
		}
		for _, tt := range tests {
			got := choices(h, tt.user, "imagine", opt("prompt", "x"), discordtest.Focused("style", tt.typed))
			var names []string
			for _, c := range got {
				names = append(names, strings.SplitN(c.Name, " — ", 2)[0])
				if len([]rune(c.Name)) > 100 {
					t.Errorf("%s: a label of %d characters", tt.name, len([]rune(c.Name)))
				}
			}
			if !slices.Equal(names, tt.want) {
				t.Errorf("%s: choices %q, want %q", tt.name, names, tt.want)
			}
			if len(got) > 0 && got[0].Value != oil.ID && tt.want[0] == "oil" {
				t.Errorf("%s: the choice's value is %v, want the style's id %s", tt.name, got[0].Value, oil.ID)
			}
		}
		got := choices(h, h.Alice, "imagine", opt("prompt", "x"), discordtest.Focused("style", "oil"))
		if len(got) == 0 || !strings.Contains(got[0].Name, "by mod") || !strings.Contains(got[0].Name, "uses") {
			t.Errorf("label %q, want its creator and uses", got[0].Name)
		}
		for _, c := range got {
			if c.Value == secret.ID {
				t.Errorf("bob's private style offered to alice")
			}
		}
	})

	t.Run("a picked style changes the worker's request", func(t *testing.T) {
		h := h.On(t)
		req := popOne(h, h.Run(h.Alice, h.General, "imagine", opt("prompt", "a red fox"), opt("negative", "rain"), opt("style", oil.ID)), w, "gpu-1", "stable_diffusion")
		if want := "a red fox, oil painting ### blurry, rain"; req.Prompt != want {
			t.Errorf("prompt %q, want the template applied: %q", req.Prompt, want)
		}
		if p := req.Image; p.Steps != 12 || p.SamplerName != "k_dpmpp_2m" || p.CFGScale != 6 {
			t.Errorf("params %+v, want the style's (12 steps, k_dpmpp_2m, cfg 6)", *p)
		}
		if !slices.Equal(req.Models, []string{"stable_diffusion"}) || req.Extras == nil || req.Extras.StyleID != oil.ID {
			t.Errorf("models %v, extras %+v: want the style's model, and the style recorded (its creator is paid)", req.Models, req.Extras)
		}
	})
	t.Run("a style typed by name, with the member's steps", func(t *testing.T) {
		h := h.On(t)
		req := popOne(h, h.Run(h.Alice, h.General, "imagine", opt("prompt", "a lighthouse"), opt("style", "oil"), opt("steps", 5)), w, "gpu-1", "stable_diffusion")
		if req.Prompt != "a lighthouse, oil painting ### blurry," || req.Image.Steps != 5 || req.Image.SamplerName != "k_dpmpp_2m" {
			t.Errorf("prompt %q steps %d sampler %s; want the style with the member's 5 steps", req.Prompt, req.Image.Steps, req.Image.SamplerName)
		}
	})
	t.Run("its creator is paid, and a reroll keeps the style", func(t *testing.T) {
		h := h.On(t)
		before := h.Balance(h.Mod)
		tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", "a kite"), opt("style", oil.ID))
		h.Original(tok, "queued", waiting)
		h.ServeImages(w, "gpu-1")
		res := h.Original(tok, "result", hasFiles)
		if got := h.Balance(h.Mod); got != before+kudos.StyleReward {
			t.Errorf("the creator has %d kudos, want %d + the style reward %d", got, before, kudos.StyleReward)
		}
		req := popOne(h, h.Click(h.Bob, h.General, res.ID, findID(customIDs(res), "imagine/reroll/")), w, "gpu-1", "stable_diffusion")
		if req.Prompt != "a kite, oil painting ### blurry," || req.Extras == nil || req.Extras.StyleID != oil.ID {
			t.Errorf("reroll prompt %q extras %+v: want the styled prompt once, and the style recorded", req.Prompt, req.Extras)
		}
	})
	t.Run("an unknown style is refused", func(t *testing.T) {
		h := h.On(t)
		text, private := h.Reply(h.Run(h.Alice, h.General, "imagine", opt("prompt", "a fox"), opt("style", "no such style")))
		if !private || !strings.Contains(text, "There is no style") || !strings.Contains(text, "/style list") {
			t.Fatalf("reply %q (private %v), want a private refusal naming the style list", text, private)
		}
	})
	t.Run("another member's private style by name is theirs to show", func(t *testing.T) {
		h := h.On(t)
		text, private := h.Reply(h.Run(h.Alice, h.General, "style", sub("show", opt("style", secret.ID))))
		if !private || strings.Contains(text, "secret") && strings.Contains(text, "Prompt") {
			t.Fatalf("alice was shown bob's private style: %q", text)
		}
	})
}

// TestStyleCommand: only style managers (and moderators) create and edit
// styles, with the API's rules; a style's creator or a moderator deletes
// it; the list names creators and uses.
func TestStyleCommand(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	artists, err := h.Srv.AddRole(h.Guild.ID, discordgo.Role{Name: "artists"})
	must(t, err)
	must(t, h.Srv.SetMemberRoles(h.Guild.ID, h.Bob.ID, []string{artists.ID}))
	h.Cfg.StyleManagerRoleIDs = []string{artists.ID}
	h.Restart()

	create := func(user *userT, opts ...*discordOption) (string, bool) {
		t.Helper()
		base := []*discordOption{opt("name", "neon"), opt("prompt", "{p}, neon lights"), opt("model", "stable_diffusion")}
		for _, o := range opts { // later options replace the base's
			base = slices.DeleteFunc(base, func(b *discordOption) bool { return b.Name == o.Name })
			base = append(base, o)
		}
		return h.Reply(h.Run(user, h.General, "style", sub("create", base...)))
	}
	steps := []struct {
		name string
		run  func() (string, bool)
		want string
	}{
		{"a member without the role is refused", func() (string, bool) { return create(h.Alice) }, "Only members with the role <@&" + artists.ID + "> and moderators"},
		{"a prompt without {p} is refused", func() (string, bool) { return create(h.Bob, opt("prompt", "neon lights")) }, "must contain {p}"},
		{"a width without a height is refused", func() (string, bool) { return create(h.Bob, opt("width", 768)) }, "both a width and a height"},
		{"a size the API refuses is refused", func() (string, bool) { return create(h.Bob, opt("width", 700), opt("height", 512)) }, "width"},
		{"an unknown sampler is refused", func() (string, bool) { return create(h.Bob, opt("sampler", "k_nope")) }, "no sampler \"k_nope\""},
		{"a style manager creates", func() (string, bool) { return create(h.Bob, opt("steps", 25)) }, "Style created"},
		{"the same name twice is refused", func() (string, bool) { return create(h.Bob) }, "already have"},
		{"a moderator creates", func() (string, bool) { return create(h.Mod, opt("name", "mono")) }, "Style created"},
		{"the creator edits", func() (string, bool) {
			return h.Reply(h.Run(h.Bob, h.General, "style", sub("edit", opt("style", "neon"), opt("steps", 40), opt("negative", "daylight"))))
		}, "steps 40"},
		{"show has the template and settings", func() (string, bool) {
			return h.Reply(h.Run(h.Alice, h.General, "style", sub("show", opt("style", "neon"))))
		}, "Negative: `daylight`"},
		{"the list names creators and uses", func() (string, bool) { return h.Reply(h.Run(h.Alice, h.General, "style", sub("list"))) }, "**neon** — by bob · 0 uses"},
		{"another member cannot delete it", func() (string, bool) {
			return h.Reply(h.Run(h.Alice, h.General, "style", sub("delete", opt("style", "neon"))))
		}, "only they or a moderator"},
		{"a moderator deletes another's", func() (string, bool) {
			return h.Reply(h.Run(h.Mod, h.General, "style", sub("delete", opt("style", "neon"))))
		}, "Deleted the style **neon**"},
		{"the creator deletes theirs", func() (string, bool) {
			return h.Reply(h.Run(h.Mod, h.General, "style", sub("delete", opt("style", "mono"))))
		}, "Deleted the style **mono**"},
		{"an empty list says how to start", func() (string, bool) { return h.Reply(h.Run(h.Alice, h.General, "style", sub("list"))) }, "no styles yet"},
	}
	for _, s := range steps {
		text, private := s.run()
		if !private || !strings.Contains(text, s.want) {
			t.Fatalf("%s: reply %q (private %v), want it private and containing %q", s.name, text, private, s.want)
		}
	}
	st, err := h.Store.SearchStyles(h.Ctx, horde.StyleSearch{Kind: horde.KindImage})
	must(t, err)
	if len(st) != 0 {
		t.Fatalf("styles left after deleting them: %+v", st)
	}
}

package commands_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/bot/membersettings"
	"github.com/hordebot/hordebot/commands"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// settings runs /settings sub as user and returns its (private) answer.
func settings(h *harness, user *userT, name string, opts ...*discordOption) string {
	h.T.Helper()
	text, private := h.Reply(h.Run(user, h.General, "settings", sub(name, opts...)))
	if !private {
		h.T.Fatalf("/settings %s answered in public: %q", name, text)
	}
	return text
}

// TestSettings: a member's /settings fill the options they leave out of
// /imagine and /write, survive a restart, lose to what they type, and
// refuse an invalid value when it is set.
func TestSettings(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.WorkerCred("gpu")

	refusals := []struct {
		name string
		opts []*discordOption
		want string
	}{
		{"nothing to set", nil, "at least one setting"},
		{"an unknown sampler", []*discordOption{opt("sampler", "k_nope")}, "no sampler \"k_nope\""},
		{"an unknown style", []*discordOption{opt("style", "nope")}, "There is no style"},
	}
	for _, r := range refusals {
		if text := settings(h, h.Alice, "set", r.opts...); !strings.Contains(text, r.want) {
			t.Errorf("%s: %q, want %q", r.name, text, r.want)
		}
	}
	if text := settings(h, h.Alice, "show"); !strings.Contains(text, "— (any online model)") {
		t.Fatalf("refused values were saved: %q", text)
	}

	text := settings(h, h.Alice, "set", opt("model", "dreamshaper"), opt("steps", 22), opt("sampler", "K_EULER"), opt("size", "portrait"), opt("max_length", 300))
	for _, want := range []string{"Saved", "**dreamshaper**", "**22**", "**k_euler**", "portrait 512x768", "No online worker serves"} {
		wantContains(t, text, want)
	}
	h.Restart() // settings are kept in the store

	t.Run("imagine without options uses them", func(t *testing.T) {
		h := h.On(t)
		req := popOne(h, h.Run(h.Alice, h.General, "imagine", opt("prompt", "a quiet harbour")), w, "gpu-1", "dreamshaper")
		if p := req.Image; !slices.Equal(req.Models, []string{"dreamshaper"}) || p.Steps != 22 || p.SamplerName != "k_euler" || p.Width != 512 || p.Height != 768 {
			t.Errorf("models %v params %+v, want dreamshaper, 22 steps, k_euler, 512x768", req.Models, *p)
		}
	})
	t.Run("an explicit option wins", func(t *testing.T) {
		h := h.On(t)
		req := popOne(h, h.Run(h.Alice, h.General, "imagine", opt("prompt", "a loud harbour"), opt("model", "stable_diffusion"), opt("steps", 7)), w, "gpu-1", "stable_diffusion")
		if !slices.Equal(req.Models, []string{"stable_diffusion"}) || req.Image.Steps != 7 || req.Image.SamplerName != "k_euler" {
			t.Errorf("models %v steps %d sampler %s, want stable_diffusion and 7 (the sampler still the setting's)", req.Models, req.Image.Steps, req.Image.SamplerName)
		}
	})
	t.Run("another member's requests are theirs", func(t *testing.T) {
		h := h.On(t)
		req := popOne(h, h.Run(h.Bob, h.General, "imagine", opt("prompt", "a harbour of bob's")), w, "gpu-1", "stable_diffusion", "dreamshaper")
		if len(req.Models) != 0 || req.Image.Steps != 30 {
			t.Errorf("bob's request: models %v steps %d, want the horde's defaults", req.Models, req.Image.Steps)
		}
	})
	t.Run("write uses max_length", func(t *testing.T) {
		h := h.On(t)
		tok := h.Run(h.Alice, h.General, "write", opt("prompt", "a sea shanty"))
		h.Original(tok, "queued", waiting)
		as, _, err := h.Horde.Pop(h.Ctx, h.WorkerCred("kobold"), horde.PopRequest{Kind: horde.KindText, Name: "kobold-1", Models: []string{"llama"},
			MaxLength: 1024, MaxContextLength: 4096, Amount: 1, Threads: 1, BridgeAgent: "KoboldAI Bridge:10:https://github.com/db0/KoboldAI-Horde-Bridge"})
		must(t, err)
		if len(as) != 1 || as[0].Request.Text.MaxLength != 300 {
			t.Fatalf("popped %+v, want one text job of max_length 300", as)
		}
	})
	t.Run("a default style, and none for once", func(t *testing.T) {
		h := h.On(t)
		sty := addStyle(h, h.Mod, "ink", "{p}, ink drawing{np}", true)
		wantContains(t, settings(h, h.Alice, "set", opt("style", sty.ID)), "style: **ink**")
		req := popOne(h, h.Run(h.Alice, h.General, "imagine", opt("prompt", "a crane")), w, "gpu-1", "stable_diffusion", "dreamshaper")
		if req.Prompt != "a crane, ink drawing" || req.Image.Steps != 12 || !slices.Equal(req.Models, []string{"stable_diffusion"}) {
			t.Errorf("prompt %q steps %d models %v, want the default style over the other settings", req.Prompt, req.Image.Steps, req.Models)
		}
		req = popOne(h, h.Run(h.Alice, h.General, "imagine", opt("prompt", "a heron"), opt("style", "none")), w, "gpu-1", "stable_diffusion", "dreamshaper")
		if req.Prompt != "a heron" || req.Image.Steps != 22 {
			t.Errorf("prompt %q steps %d, want no style and the settings' steps", req.Prompt, req.Image.Steps)
		}
		must(t, h.Store.DeleteStyle(h.Ctx, sty.ID))
		text, private := h.Reply(h.Run(h.Alice, h.General, "imagine", opt("prompt", "an egret")))
		if !private || !strings.Contains(text, "default style (from /settings) no longer exists") {
			t.Errorf("a deleted default style: %q (private %v)", text, private)
		}
		wantContains(t, settings(h, h.Alice, "reset", opt("field", "style")), "style: — (none)")
	})
	t.Run("reset", func(t *testing.T) {
		h := h.On(t)
		text := settings(h, h.Alice, "reset")
		if strings.Contains(text, "**") && !strings.Contains(text, "**Your settings**") {
			t.Fatalf("after reset: %q", text)
		}
		ms, err := h.Store.MemberSettings(h.Ctx, h.User(h.Alice).ID)
		must(t, err)
		if !ms.IsZero() {
			t.Fatalf("stored after reset: %+v", ms)
		}
	})
}

// TestSettingsPrivateResults: with private results set, the request's
// progress and its result are seen by the member only: the result arrives
// as an ephemeral follow-up with its files, nothing is posted in the
// channel, and a button on it answers privately too.
func TestSettingsPrivateResults(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.WorkerCred("gpu")
	h.PopImages(w, "gpu-1")
	settings(h, h.Alice, "set", opt("private", true))

	tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", "a secret garden"), opt("count", 2))
	cb, err := h.Srv.WaitForCallback(h.Ctx, tok)
	must(t, err)
	if cb.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Fatalf("deferral flags %d, want ephemeral", cb.Flags)
	}
	h.Original(tok, "queued", queuedMsg)
	h.ServeImages(w, "gpu-1")
	_, err = h.Srv.WaitFor(h.Ctx, func(r discordtest.Recorded) bool {
		return r.Params["token"] == tok && r.Route == "POST /webhooks/{app}/{token}" && r.Status < 300
	})
	must(t, err)
	var result discordtest.Message
	for _, m := range h.Srv.Followups(tok) {
		if len(m.Files) > 0 {
			result = m
		}
	}
	if result.Flags&discordgo.MessageFlagsEphemeral == 0 || len(result.Files) != 3 {
		t.Fatalf("result follow-up flags %d with %d files, want an ephemeral one with the grid and 2 images", result.Flags, len(result.Files))
	}
	wantContains(t, result.Content, "a secret garden")
	ids := customIDs(result)
	if findID(ids, "imagine/delete/") != "" || findID(ids, "imagine/upscale/") == "" {
		t.Errorf("buttons %v: want U1.. and no delete (an ephemeral message cannot be deleted by the bot)", ids)
	}
	for _, m := range h.Srv.Messages(h.General.ID) {
		if strings.Contains(m.Content, "a secret garden") && m.Flags&discordgo.MessageFlagsEphemeral == 0 {
			t.Errorf("a public message about the private request: %q", m.Content)
		}
	}

	up := h.Click(h.Alice, h.General, result.ID, findID(ids, "imagine/upscale/"))
	cb, err = h.Srv.WaitForCallback(h.Ctx, up)
	must(t, err)
	if cb.Flags&discordgo.MessageFlagsEphemeral == 0 {
		t.Errorf("U1 on a private result deferred in public (flags %d)", cb.Flags)
	}
}

// TestSettingsHeldToRoleLimits: a setting beyond the member's roles is
// refused when set, and one the roles no longer allow is refused when
// used, saying where it comes from, never silently lowered.
func TestSettingsHeldToRoleLimits(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *bot.Config, _ *kudos.Config) {
		c.RoleLimits = commands.RoleLimits{Default: commands.Limits{MaxSteps: 20, Models: []string{"stable_diffusion"}}}
	})
	for _, r := range []struct {
		opts []*discordOption
		want string
	}{
		{[]*discordOption{opt("steps", 40)}, "at most 20 steps"},
		{[]*discordOption{opt("model", "dreamshaper")}, "may not ask for the model dreamshaper"},
		{[]*discordOption{opt("nsfw", true)}, "may not ask for NSFW"},
	} {
		if text := settings(h, h.Alice, "set", r.opts...); !strings.Contains(text, r.want) {
			t.Errorf("set %s: %q, want %q", r.opts[0].Name, text, r.want)
		}
	}
	// Settings saved while the roles allowed them (here: written directly).
	must(t, h.Store.SetMemberSettings(h.Ctx, h.User(h.Alice).ID, membersettings.Settings{Steps: 40}))
	text, private := h.Reply(h.Run(h.Alice, h.General, "imagine", opt("prompt", "a fox")))
	if !private || !strings.Contains(text, "at most 20 steps") || !strings.Contains(text, "/settings set steps") {
		t.Fatalf("reply %q (private %v), want the limit and how to change the setting", text, private)
	}
	// Typed, the same value is the member's: no word of settings.
	text, _ = h.Reply(h.Run(h.Alice, h.General, "imagine", opt("prompt", "a fox"), opt("steps", 40)))
	if !strings.Contains(text, "at most 20 steps") || strings.Contains(text, "/settings") {
		t.Fatalf("typed steps: %q", text)
	}
}

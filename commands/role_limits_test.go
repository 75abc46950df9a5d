package commands_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/commands"
	"github.com/hordebot/hordebot/kudos"
)

// TestRoleLimits: with role limits configured, a member asking beyond their
// tier is told which role would allow it, options they leave out follow
// their tier, a member's cooldown holds between requests, and a role's tier
// lifts the default's limits.
func TestRoleLimits(t *testing.T) {
	t.Parallel()
	var pro string
	h := newHarness(t, func(c *bot.Config, _ *kudos.Config) {
		pro = c.ModeratorRoleIDs[0] // the harness's mod holds it
		c.RoleLimits = commands.RoleLimits{
			Default: commands.Limits{MaxSteps: 20, MaxCount: 1, MaxLength: 100, Models: []string{"stable_diffusion"}, Cooldown: kudos.Duration(time.Hour)},
			Roles:   []commands.RoleLimit{{RoleID: pro, Limits: commands.Limits{MaxSteps: 50, MaxCount: 4, Models: []string{"dreamshaper"}, NSFW: true, Cooldown: kudos.Duration(time.Nanosecond)}}},
		}
	})
	worker := h.WorkerCred("gpu-1")
	refusals := []struct {
		name string
		opts []*discordOption
		want []string
	}{
		{"steps", []*discordOption{opt("steps", 40)}, []string{"at most 20 steps", "<@&" + pro + "> would allow it"}},
		{"count", []*discordOption{opt("count", 3)}, []string{"at most 1 images", "<@&" + pro + ">"}},
		{"a model outside the list", []*discordOption{opt("model", "dreamshaper")}, []string{"may not ask for the model dreamshaper", "<@&" + pro + ">"}},
		{"nsfw", []*discordOption{opt("nsfw", true)}, []string{"may not ask for NSFW", "<@&" + pro + ">"}},
	}
	for _, r := range refusals {
		text, private := h.Reply(h.Run(h.Alice, h.NSFW, "imagine", append([]*discordOption{opt("prompt", "a fox")}, r.opts...)...))
		if !private {
			t.Errorf("%s: refusal in public: %q", r.name, text)
		}
		for _, w := range r.want {
			if !strings.Contains(text, w) {
				t.Errorf("%s: reply %q lacks %q", r.name, text, w)
			}
		}
	}
	text, private := h.Reply(h.Run(h.Alice, h.General, "write", opt("prompt", "a poem"), opt("max_length", 300)))
	if !private || !strings.Contains(text, "at most 100 tokens") || strings.Contains(text, "would allow") {
		t.Errorf("/write beyond every tier: %q (private %v), want the limit and no role", text, private)
	}

	// Left out, steps follow the tier: 20, not the horde's default 30.
	tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", "a fox"))
	h.Original(tok, "the queued reply", queuedFox)
	as := h.PopImages(worker, "gpu-1")
	if len(as) != 1 || as[0].Request.Image.Steps != 20 {
		t.Fatalf("popped %d jobs; want one of 20 steps (%+v)", len(as), as)
	}
	text, _ = h.Reply(h.Run(h.Alice, h.General, "imagine", opt("prompt", "another fox")))
	wantContains(t, text, "You can ask again in")

	// The moderator's role raises steps and count, and has a short cooldown.
	for i := 0; i < 2; i++ {
		tok := h.Run(h.Mod, h.General, "imagine", opt("prompt", "a fox"), opt("steps", 40), opt("count", 2))
		h.Original(tok, "the queued reply", queuedFox)
	}
}

// queuedFox matches the reply of an accepted "a fox" request.
func queuedFox(m discordtest.Message) bool { return strings.Contains(m.Content, "“a fox”") }

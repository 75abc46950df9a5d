package bot_test

import (
	"strings"
	"testing"

	"github.com/hordebot/hordebot/bot/discordtest"
)

var sub = discordtest.SubCommand

func TestWrite(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.WorkerCred("llm")
	h.ServeText(w, "llm-1", "") // announce the text worker
	tests := []struct {
		name     string
		text     string
		wantFile bool
	}{
		{"short output inline", "Once upon a time there was a GPU.", false},
		{"long output as a file", strings.Repeat("All work and no play makes a GPU hot. ", 80), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := h.On(t)
			tok := h.Run(h.Alice, h.General, "write", opt("prompt", "tell a story"), opt("max_length", 512))
			h.Original(tok, "queued", queuedMsg)
			if n := h.ServeText(w, "llm-1", tt.text); n != 1 {
				t.Fatalf("served %d text jobs, want 1", n)
			}
			m := h.Original(tok, "text", func(m discordtest.Message) bool { return strings.Contains(m.Content, "kudos") })
			if !tt.wantFile {
				wantContains(t, m.Content, tt.text)
				if len(m.Files) != 0 {
					t.Fatalf("short text came with %d files", len(m.Files))
				}
				return
			}
			if len(m.Files) != 1 || !strings.HasSuffix(m.Files[0].Name, ".txt") {
				t.Fatalf("long text: files %+v, want one .txt", m.Files)
			}
			if string(m.Files[0].Data) != tt.text {
				t.Fatal("the attached text differs from the generation")
			}
			if len(m.Content) > 2000 {
				t.Fatalf("message is %d characters", len(m.Content))
			}
		})
	}
}

func TestHordeCommands(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.WorkerCred("gpu")
	h.PopImages(w, "gpu-1")
	queued := h.Run(h.Bob, h.General, "imagine", opt("prompt", "waiting"))
	h.Original(queued, "queued", queuedMsg)
	tests := []struct {
		sub  string
		want string
	}{
		{"status", "1 workers"},
		{"models", "stable_diffusion"},
		{"queue", "Image: 1 request(s) waiting"},
	}
	for _, tt := range tests {
		t.Run(tt.sub, func(t *testing.T) {
			h := h.On(t)
			text, private := h.Reply(h.Run(h.Alice, h.General, "horde", sub(tt.sub)))
			if !private {
				t.Fatal("reply is public, want private")
			}
			wantContains(t, text, tt.want)
		})
	}
}

func TestImagineModelAutocomplete(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.PopImages(h.WorkerCred("gpu"), "gpu-1")
	tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: h.Alice.ID,
		Command: "imagine", Options: discordtest.Opts(opt("prompt", "x"), discordtest.Focused("model", "stable"))})
	must(t, err)
	cb, err := h.Srv.WaitForCallback(h.Ctx, tok)
	must(t, err)
	if len(cb.Choices) != 1 || cb.Choices[0].Value != "stable_diffusion" {
		t.Fatalf("choices %+v, want stable_diffusion", cb.Choices)
	}
}

func TestWorkerCommands(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	t.Run("refused in a guild", func(t *testing.T) {
		h := h.On(t)
		text, private := h.Reply(h.Run(h.Alice, h.General, "worker", sub("register", opt("name", "rig"))))
		if !private || !strings.Contains(text, "DM") {
			t.Fatalf("reply %q private %v, want a private note about DMs", text, private)
		}
		if _, err := h.Horde.WorkerByName(h.Ctx, "rig"); err == nil {
			t.Fatal("a worker was registered from a guild")
		}
	})

	var key string
	t.Run("register shows the key once in the DM", func(t *testing.T) {
		h := h.On(t)
		text, _ := h.Reply(h.DM(h.Alice, "worker", sub("register", opt("name", "alice-rig"))))
		wantContains(t, text, "HORDE_API_KEY=")
		wantContains(t, text, "--url http://horde.test --name alice-rig --kind image --backend procedural")
		key = strings.TrimPrefix(strings.Fields(text[strings.Index(text, "HORDE_API_KEY="):])[0], "HORDE_API_KEY=")
		c, err := h.Horde.Authenticate(h.Ctx, key)
		must(t, err)
		if c.WorkerID == "" {
			t.Fatal("the shown key is not a worker key")
		}
		listed, _ := h.Reply(h.DM(h.Alice, "worker", sub("list")))
		wantContains(t, listed, "alice-rig")
		info, _ := h.Reply(h.DM(h.Alice, "worker", sub("info", opt("name", "alice-rig"))))
		if strings.Contains(listed+info, key) {
			t.Fatal("the key was shown again")
		}
	})
	t.Run("another member's worker is not found", func(t *testing.T) {
		h := h.On(t)
		text, _ := h.Reply(h.DM(h.Bob, "worker", sub("delete", opt("name", "alice-rig"))))
		wantContains(t, text, "no worker named")
	})
	t.Run("maintenance", func(t *testing.T) {
		h := h.On(t)
		text, _ := h.Reply(h.DM(h.Alice, "worker", sub("maintenance", opt("name", "alice-rig"), opt("enabled", true))))
		wantContains(t, text, "maintenance")
		w, err := h.Horde.WorkerByName(h.Ctx, "alice-rig")
		must(t, err)
		if !w.Maintenance {
			t.Fatal("worker not in maintenance")
		}
	})
	t.Run("rename", func(t *testing.T) {
		h := h.On(t)
		text, _ := h.Reply(h.DM(h.Alice, "worker", sub("rename", opt("name", "alice-rig"), opt("new_name", "alice-gpu"))))
		wantContains(t, text, "alice-gpu")
		if _, err := h.Horde.WorkerByName(h.Ctx, "alice-gpu"); err != nil {
			t.Fatalf("renamed worker not found: %v", err)
		}
	})
	t.Run("rotate-key", func(t *testing.T) {
		h := h.On(t)
		text, _ := h.Reply(h.DM(h.Alice, "worker", sub("rotate-key", opt("name", "alice-gpu"))))
		wantContains(t, text, "HORDE_API_KEY=")
		if _, err := h.Horde.Authenticate(h.Ctx, key); err == nil {
			t.Fatal("the old key still works")
		}
	})
	t.Run("delete", func(t *testing.T) {
		h := h.On(t)
		text, _ := h.Reply(h.DM(h.Alice, "worker", sub("delete", opt("name", "alice-gpu"))))
		wantContains(t, text, "deleted")
		if _, err := h.Horde.WorkerByName(h.Ctx, "alice-gpu"); err == nil {
			t.Fatal("worker still exists")
		}
	})
}

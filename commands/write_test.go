package commands_test

import (
	"strings"
	"testing"

	"github.com/hordebot/hordebot/bot/discordtest"
)

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
			tok := h.Run(h.Alice, h.General, "write", opt("prompt", "tell a story"), opt("max_length", 200)) // 27 kudos each at the AI Horde's prices
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

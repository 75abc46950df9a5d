package commands_test

import (
	"testing"
)

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
		{"status", "1 worker ("},
		{"models", "stable_diffusion"},
		{"queue", "Image: 1 request waiting"},
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

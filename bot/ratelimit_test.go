package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/kudos"
)

func TestDiscord429IsRetried(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.Srv.RateLimitNext("PATCH", "/webhooks/", 20*time.Millisecond)
	text, _ := h.Reply(h.Run(h.Alice, h.General, "kudos", sub("balance")))
	wantContains(t, text, "kudos")
	var limited, ok int
	for _, r := range h.Srv.Requests() {
		if r.Method == "PATCH" && strings.HasPrefix(r.Path, "/webhooks/") {
			switch {
			case r.Status == 429:
				limited++
			case r.Status < 300:
				ok++
			}
		}
	}
	if limited != 1 || ok != 1 {
		t.Fatalf("edits: %d answered 429 and %d succeeded, want 1 and 1", limited, ok)
	}
}

func TestCommandRateLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cfg   func(*bot.Config, *kudos.Config)
		calls []string // who runs /kudos balance, in order
		want  []string // "" for allowed, else a substring of the refusal
	}{
		{
			name:  "per member",
			cfg:   func(c *bot.Config, _ *kudos.Config) { c.CommandsPerMinute, c.UserBurst = 1, 1 },
			calls: []string{"alice", "alice", "bob"},
			want:  []string{"", "Slow down", ""},
		},
		{
			name:  "per guild",
			cfg:   func(c *bot.Config, _ *kudos.Config) { c.GuildCommandsPerMinute, c.GuildBurst = 1, 2 },
			calls: []string{"alice", "bob", "mod"},
			want:  []string{"", "", "This server"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tt.cfg)
			// One at a time, so that the order of the calls is the order of the limits.
			for i, want := range tt.want {
				who := map[string]*userT{"alice": h.Alice, "bob": h.Bob, "mod": h.Mod}[tt.calls[i]]
				tok := h.Run(who, h.General, "kudos", sub("balance"))
				text, private := h.Reply(tok)
				if want == "" {
					if strings.Contains(text, "Slow down") || strings.Contains(text, "This server") {
						t.Fatalf("call %d refused: %q", i, text)
					}
					continue
				}
				if !private || !strings.Contains(text, want) {
					t.Fatalf("call %d: reply %q private %v, want a private %q", i, text, private, want)
				}
			}
		})
	}
}

func TestCommandsRegisteredOnceUntilChanged(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	cmds := h.Srv.Commands(h.Guild.ID)
	names := map[string]bool{}
	for _, c := range cmds {
		names[c.Name] = true
	}
	for _, n := range []string{"imagine", "write", "kudos", "worker", "horde"} {
		if !names[n] {
			t.Errorf("command /%s not registered (got %v)", n, names)
		}
	}
	puts := func() int {
		n := 0
		for _, r := range h.Srv.Requests() {
			if r.Method == "PUT" && strings.Contains(r.Path, "/commands") {
				n++
			}
		}
		return n
	}
	if puts() != 1 {
		t.Fatalf("%d bulk overwrites at first start, want 1", puts())
	}
	h.Restart()
	if puts() != 1 {
		t.Fatalf("%d bulk overwrites after a restart with the same commands, want still 1", puts())
	}
}

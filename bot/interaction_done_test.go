package bot_test

import (
	"testing"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/kudos"
)

// done is one report of the InteractionDone hook.
type done struct {
	kind, name string
	outcome    bot.Outcome
}

// TestInteractionDoneReportsOutcomes checks that every interaction is
// reported once with a bounded name and its outcome: a command that worked,
// one refused by the rate limit, an unknown command, a button by its prefix
// (not its custom ID), and one whose storage failed.
func TestInteractionDoneReportsOutcomes(t *testing.T) {
	dones := make(chan done, 16)
	h := newHarness(t, func(c *bot.Config, _ *kudos.Config) {
		c.CommandsPerMinute, c.UserBurst = 1, 1
		c.InteractionDone = func(kind, name string, o bot.Outcome) { dones <- done{kind, name, o} }
	})
	next := func() done {
		t.Helper()
		select {
		case d := <-dones:
			return d
		case <-h.Ctx.Done():
			t.Fatalf("waiting for InteractionDone: %v", h.Ctx.Err())
			return done{}
		}
	}

	msg := h.Post(h.Bob, h.General, "a message with buttons", "").ID
	steps := []struct {
		name string
		send func() string
		want done
	}{
		{"a command that works", func() string { return h.Run(h.Alice, h.General, "kudos", sub("balance")) },
			done{bot.InteractionCommand, "kudos", bot.OutcomeOK}},
		{"the same member past the rate limit", func() string { return h.Run(h.Alice, h.General, "kudos", sub("balance")) },
			done{bot.InteractionCommand, "kudos", bot.OutcomeRefused}},
		{"an unknown command", func() string { return h.Run(h.Bob, h.General, "no-such-command") },
			done{bot.InteractionCommand, "unknown", bot.OutcomeRefused}},
		{"a button of an unknown request", func() string {
			return h.Click(h.Bob, h.General, msg, "imagine/delete/00000000-0000-0000-0000-000000000000")
		}, done{bot.InteractionComponent, "imagine/delete", bot.OutcomeRefused}},
		{"a forged button", func() string { return h.Click(h.Mod, h.General, msg, "forged/4242") },
			done{bot.InteractionComponent, "unknown", bot.OutcomeRefused}},
	}
	for _, st := range steps {
		tok := st.send()
		h.Reply(tok)
		if got := next(); got != st.want {
			t.Fatalf("%s: reported %+v, want %+v", st.name, got, st.want)
		}
	}

	// Storage gone: an internal error, answered with the generic message.
	if err := h.Store.Close(); err != nil {
		t.Fatalf("close store: %v", err)
	}
	text, _ := h.Reply(h.Run(h.Mod, h.General, "kudos", sub("balance")))
	wantContains(t, text, "Something went wrong")
	if got, want := next(), (done{bot.InteractionCommand, "kudos", bot.OutcomeError}); got != want {
		t.Fatalf("storage failure: reported %+v, want %+v", got, want)
	}
	select {
	case d := <-dones:
		t.Fatalf("an extra report: %+v", d)
	default:
	}
}

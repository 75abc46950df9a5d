package bot_test

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
)

var userOpt = discordtest.UserOpt

func TestKudosCommands(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	steps := []struct {
		name        string
		user        string // alice, bob or mod
		sub         string
		opts        []any // name, value pairs; a *user value becomes a user option
		wantText    string
		wantPrivate bool
		check       func(t *testing.T)
	}{
		{name: "award by a non-moderator is refused", user: "bob", sub: "award", opts: []any{"member", "alice", "amount", 50},
			wantText: "Only moderators", wantPrivate: true,
			check: func(t *testing.T) { wantBalance(t, h, "alice", 0) }},
		{name: "moderator award", user: "mod", sub: "award", opts: []any{"member", "alice", "amount", 50, "reason", "great answers"},
			wantText: "awarded **50** kudos",
			check: func(t *testing.T) {
				wantBalance(t, h, "alice", 50)
				m, err := h.srv.WaitForMessage(h.ctx, h.audit.ID, func(m discordtest.Message) bool { return strings.Contains(m.Content, "great answers") })
				must(t, err)
				wantContains(t, m.Content, "<@"+h.mod.ID+">")
			}},
		{name: "balance", user: "alice", sub: "balance", wantText: "**50** kudos", wantPrivate: true},
		{name: "balance shows the find_user view", user: "alice", sub: "balance", wantText: "Horde user `alice#", wantPrivate: true},
		{name: "give", user: "alice", sub: "give", opts: []any{"member", "bob", "amount", 20},
			wantText: "gave **20** kudos",
			check: func(t *testing.T) {
				wantBalance(t, h, "alice", 30)
				wantBalance(t, h, "bob", 20)
			}},
		{name: "give more than one has is refused", user: "alice", sub: "give", opts: []any{"member", "bob", "amount", 1000},
			wantText: "1000 kudos", wantPrivate: true,
			check: func(t *testing.T) { wantBalance(t, h, "alice", 30) }},
		{name: "give to oneself is refused", user: "alice", sub: "give", opts: []any{"member", "alice", "amount", 5},
			wantText: "yourself", wantPrivate: true},
		{name: "give to a bot is refused", user: "alice", sub: "give", opts: []any{"member", "otherbot", "amount", 5},
			wantText: "Bots", wantPrivate: true},
		{name: "ping-pong is refused", user: "bob", sub: "give", opts: []any{"member", "alice", "amount", 5},
			wantText: "🚫", wantPrivate: true},
		{name: "history", user: "alice", sub: "history", wantText: "great answers", wantPrivate: true},
		{name: "leaderboard", user: "bob", sub: "leaderboard", wantText: "<@" + h.alice.ID + "> — 50"},
	}
	users := map[string]string{"alice": h.alice.ID, "bob": h.bob.ID, "mod": h.mod.ID, "otherbot": h.bot2.ID}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			h := h.on(t)
			var o []*discordOption
			for i := 0; i < len(st.opts); i += 2 {
				name := st.opts[i].(string)
				if name == "member" {
					o = append(o, userOpt(name, users[st.opts[i+1].(string)]))
				} else {
					o = append(o, opt(name, st.opts[i+1]))
				}
			}
			caller := map[string]*userT{"alice": h.alice, "bob": h.bob, "mod": h.mod}[st.user]
			text, private := h.reply(h.run(caller, h.general, "kudos", sub(st.sub, o...)))
			wantContains(t, text, st.wantText)
			if private != st.wantPrivate {
				t.Fatalf("reply %q private %v, want private %v", text, private, st.wantPrivate)
			}
			if st.check != nil {
				st.check(t)
			}
		})
	}
}

func wantBalance(t *testing.T, h *harness, who string, want int64) {
	t.Helper()
	u := map[string]*userT{"alice": h.alice, "bob": h.bob, "mod": h.mod}[who]
	if got := h.on(t).balance(u); got != want {
		t.Fatalf("%s has %d kudos, want %d", who, got, want)
	}
}

func TestKudosLeaderboardPost(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.reply(h.run(h.mod, h.general, "kudos", sub("award", userOpt("member", h.bob.ID), opt("amount", 30))))
	lb, err := h.kudos.Leaderboard(h.ctx, h.clock.Now())
	must(t, err)
	must(t, h.bot.PostLeaderboard(h.ctx, lb))
	m, err := h.srv.WaitForMessage(h.ctx, h.general.ID, func(m discordtest.Message) bool { return strings.Contains(m.Content, "Weekly kudos leaderboard") })
	must(t, err)
	wantContains(t, m.Content, "<@"+h.bob.ID+"> — 30")
}

func TestMembersWithRoles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	got, err := h.bot.MembersWithRoles(h.ctx, []string{h.modRole.ID, "no-such-role"})
	must(t, err)
	mod, err := h.horde.DiscordUser(h.ctx, h.mod.ID, "")
	must(t, err)
	if ids := got[h.modRole.ID]; len(ids) != 1 || ids[0] != mod.ID {
		t.Fatalf("moderators %v, want [%d]", ids, mod.ID)
	}
	if len(got["no-such-role"]) != 0 {
		t.Fatalf("members of an unknown role: %v", got["no-such-role"])
	}
}

// TestKudosDisabledSaysSo: on a bot without the kudos engine, /kudos tells
// the member that kudos are not enabled, privately, and it counts as a
// refusal, not a failure. It used to read "the horde's storage is
// unavailable right now" and was logged as an error.
func TestKudosDisabledSaysSo(t *testing.T) {
	t.Parallel()
	dones := make(chan bot.Outcome, 4)
	h := newHarness(t)
	stop(h.bot, h.sess)
	cfg := h.cfg
	cfg.InteractionDone = func(_, _ string, o bot.Outcome) { dones <- o }
	b := bot.New(cfg, bot.Deps{Horde: h.horde, Store: h.st})
	s, err := h.srv.NewSession(h.srv.Token())
	must(t, err)
	s.LogLevel = discordgo.LogError
	must(t, b.Start(h.ctx, s))
	t.Cleanup(func() { stop(b, s) })

	text, private := h.reply(h.run(h.alice, h.general, "kudos", sub("balance")))
	wantContains(t, text, "Kudos are not enabled on this bot")
	if strings.Contains(text, "unavailable") || !private {
		t.Fatalf("reply %q (private %v), want a private 'not enabled'", text, private)
	}
	select {
	case o := <-dones:
		if o != bot.OutcomeRefused {
			t.Fatalf("outcome %q, want %q", o, bot.OutcomeRefused)
		}
	case <-h.ctx.Done():
		t.Fatal("no InteractionDone report")
	}
}

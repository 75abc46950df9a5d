package bot_test

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
)

func TestKudosLeaderboardPost(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.Reply(h.Run(h.Mod, h.General, "kudos", sub("award", userOpt("member", h.Bob.ID), opt("amount", 30))))
	lb, err := h.Kudos.Leaderboard(h.Ctx, h.Clock.Now())
	must(t, err)
	must(t, h.Bot.PostLeaderboard(h.Ctx, lb))
	m, err := h.Srv.WaitForMessage(h.Ctx, h.General.ID, func(m discordtest.Message) bool { return strings.Contains(m.Content, "Weekly kudos leaderboard") })
	must(t, err)
	wantContains(t, m.Content, "<@"+h.Bob.ID+"> — 30")
}

func TestMembersWithRoles(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	got, err := h.Bot.MembersWithRoles(h.Ctx, []string{h.ModRole.ID, "no-such-role"})
	must(t, err)
	mod, err := h.Horde.DiscordUser(h.Ctx, h.Mod.ID, "")
	must(t, err)
	if ids := got[h.ModRole.ID]; len(ids) != 1 || ids[0] != mod.ID {
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
	stop(h.Bot, h.Sess)
	cfg := h.Cfg
	cfg.InteractionDone = func(_, _ string, o bot.Outcome) { dones <- o }
	b := bot.New(cfg, bot.Deps{Horde: h.Horde, Store: h.Store})
	s, err := h.Srv.NewSession(h.Srv.Token())
	must(t, err)
	s.LogLevel = discordgo.LogError
	must(t, b.Start(h.Ctx, s))
	t.Cleanup(func() { stop(b, s) })

	text, private := h.Reply(h.Run(h.Alice, h.General, "kudos", sub("balance")))
	wantContains(t, text, "Kudos are not enabled on this bot")
	if strings.Contains(text, "unavailable") || !private {
		t.Fatalf("reply %q (private %v), want a private 'not enabled'", text, private)
	}
	select {
	case o := <-dones:
		if o != bot.OutcomeRefused {
			t.Fatalf("outcome %q, want %q", o, bot.OutcomeRefused)
		}
	case <-h.Ctx.Done():
		t.Fatal("no InteractionDone report")
	}
}

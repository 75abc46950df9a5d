package bot_test

import (
	"strings"
	"testing"

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

package bot_test

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/kudos"
)

func withRefusalDMs(c *bot.Config, _ *kudos.Config) { c.RefusalDM = true }

func TestReactionAwards(t *testing.T) {
	t.Parallel()
	h := newHarness(t, withRefusalDMs)

	t.Run("a helpful reaction awards the author once settled", func(t *testing.T) {
		h := h.On(t)
		m := h.Post(h.Bob, h.General, "try turning it off and on", "")
		must(t, h.Srv.AddReaction(h.General.ID, m.ID, h.Alice.ID, "🙏"))
		h.WaitEvent("reaction_add", 1)
		before := h.Balance(h.Bob)
		h.Settle()
		if got := h.Balance(h.Bob); got != before+5 {
			t.Fatalf("bob has %d kudos, want %d", got, before+5)
		}
	})

	t.Run("a self-award is refused with one DM an hour", func(t *testing.T) {
		h := h.On(t)
		before := h.Balance(h.Bob)
		for i := range 2 {
			m := h.Post(h.Bob, h.General, "I am helpful "+string(rune('a'+i)), "")
			must(t, h.Srv.AddReaction(h.General.ID, m.ID, h.Bob.ID, "🙏"))
			h.WaitEvent("reaction_add", 1)
		}
		h.Settle()
		if got := h.Balance(h.Bob); got != before {
			t.Fatalf("bob has %d kudos after self-awards, want %d", got, before)
		}
		dm, err := h.Srv.DMChannel(h.Bob.ID)
		must(t, err)
		var refusals int
		for _, m := range h.Srv.Messages(dm.ID) {
			if strings.Contains(m.Content, "did not count") {
				refusals++
			}
		}
		if refusals != 1 {
			t.Fatalf("%d refusal DMs, want exactly 1", refusals)
		}
	})

	t.Run("removing the reaction before settling revokes", func(t *testing.T) {
		h := h.On(t)
		before := h.Balance(h.Bob)
		m := h.Post(h.Bob, h.General, "use a smaller batch", "")
		must(t, h.Srv.AddReaction(h.General.ID, m.ID, h.Alice.ID, "💡"))
		h.WaitEvent("reaction_add", 1)
		must(t, h.Srv.RemoveReaction(h.General.ID, m.ID, h.Alice.ID, "💡"))
		h.WaitEvent("reaction_remove", 1)
		h.Settle()
		if got := h.Balance(h.Bob); got != before {
			t.Fatalf("bob has %d kudos, want %d (the award was revoked)", got, before)
		}
	})

	t.Run("a thanks reply awards the author", func(t *testing.T) {
		h := h.On(t)
		before := h.Balance(h.Alice)
		m := h.Post(h.Alice, h.General, "set CUDA_VISIBLE_DEVICES", "")
		h.Post(h.Bob, h.General, "thank you, that fixed it", m.ID)
		h.WaitEvent("message_create", 2)
		h.Settle()
		if got := h.Balance(h.Alice); got != before+5 {
			t.Fatalf("alice has %d kudos, want %d", got, before+5)
		}
	})

	t.Run("other emojis and bots are ignored", func(t *testing.T) {
		h := h.On(t)
		before := h.Balance(h.Bob)
		m := h.Post(h.Bob, h.General, "nice", "")
		must(t, h.Srv.AddReaction(h.General.ID, m.ID, h.Alice.ID, "😀"))
		must(t, h.Srv.AddReaction(h.General.ID, m.ID, h.Bot2.ID, "🙏"))
		h.WaitEvent("reaction_add", 2)
		h.Settle()
		if got := h.Balance(h.Bob); got != before {
			t.Fatalf("bob has %d kudos, want %d", got, before)
		}
	})
}

func TestReactionReplayAfterReconnectCountsOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.Post(h.Bob, h.General, "here is the fix", "")
	must(t, h.Srv.AddReaction(h.General.ID, m.ID, h.Alice.ID, "🙏"))
	h.WaitEvent("reaction_add", 1)

	// Cut the gateway; what happens meanwhile arrives on RESUME.
	if h.Srv.DropConnection() == 0 {
		t.Fatal("no gateway connection to drop")
	}
	must(t, h.Srv.AddReaction(h.General.ID, m.ID, h.Mod.ID, "🙏"))
	h.WaitEvent("reaction_add", 1)
	if _, err := h.Srv.WaitGateway(h.Ctx, func(ev discordtest.GatewayEvent) bool { return ev.Kind == discordtest.GatewayResumed }); err != nil {
		t.Fatalf("no RESUME: %v", err)
	}
	// Discord may deliver an event twice around a reconnect: replay alice's.
	must(t, h.Srv.Dispatch("MESSAGE_REACTION_ADD", map[string]any{
		"user_id": h.Alice.ID, "channel_id": h.General.ID, "message_id": m.ID, "guild_id": h.Guild.ID,
		"emoji": discordgo.Emoji{Name: "🙏"}, "member": discordgo.Member{User: h.Alice, Roles: []string{}},
	}))
	h.WaitEvent("reaction_add", 1)

	h.Settle()
	// alice's helpful award (5) and the moderator's, which counts as moderation (10), each once.
	if got := h.Balance(h.Bob); got != 15 {
		t.Fatalf("bob has %d kudos, want 15", got)
	}
}

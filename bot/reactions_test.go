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
		h := h.on(t)
		m := h.post(h.bob, h.general, "try turning it off and on", "")
		must(t, h.srv.AddReaction(h.general.ID, m.ID, h.alice.ID, "🙏"))
		h.waitEvent("reaction_add", 1)
		before := h.balance(h.bob)
		h.settle()
		if got := h.balance(h.bob); got != before+5 {
			t.Fatalf("bob has %d kudos, want %d", got, before+5)
		}
	})

	t.Run("a self-award is refused with one DM an hour", func(t *testing.T) {
		h := h.on(t)
		before := h.balance(h.bob)
		for i := range 2 {
			m := h.post(h.bob, h.general, "I am helpful "+string(rune('a'+i)), "")
			must(t, h.srv.AddReaction(h.general.ID, m.ID, h.bob.ID, "🙏"))
			h.waitEvent("reaction_add", 1)
		}
		h.settle()
		if got := h.balance(h.bob); got != before {
			t.Fatalf("bob has %d kudos after self-awards, want %d", got, before)
		}
		dm, err := h.srv.DMChannel(h.bob.ID)
		must(t, err)
		var refusals int
		for _, m := range h.srv.Messages(dm.ID) {
			if strings.Contains(m.Content, "did not count") {
				refusals++
			}
		}
		if refusals != 1 {
			t.Fatalf("%d refusal DMs, want exactly 1", refusals)
		}
	})

	t.Run("removing the reaction before settling revokes", func(t *testing.T) {
		h := h.on(t)
		before := h.balance(h.bob)
		m := h.post(h.bob, h.general, "use a smaller batch", "")
		must(t, h.srv.AddReaction(h.general.ID, m.ID, h.alice.ID, "💡"))
		h.waitEvent("reaction_add", 1)
		must(t, h.srv.RemoveReaction(h.general.ID, m.ID, h.alice.ID, "💡"))
		h.waitEvent("reaction_remove", 1)
		h.settle()
		if got := h.balance(h.bob); got != before {
			t.Fatalf("bob has %d kudos, want %d (the award was revoked)", got, before)
		}
	})

	t.Run("a thanks reply awards the author", func(t *testing.T) {
		h := h.on(t)
		before := h.balance(h.alice)
		m := h.post(h.alice, h.general, "set CUDA_VISIBLE_DEVICES", "")
		h.post(h.bob, h.general, "thank you, that fixed it", m.ID)
		h.waitEvent("message_create", 2)
		h.settle()
		if got := h.balance(h.alice); got != before+5 {
			t.Fatalf("alice has %d kudos, want %d", got, before+5)
		}
	})

	t.Run("other emojis and bots are ignored", func(t *testing.T) {
		h := h.on(t)
		before := h.balance(h.bob)
		m := h.post(h.bob, h.general, "nice", "")
		must(t, h.srv.AddReaction(h.general.ID, m.ID, h.alice.ID, "😀"))
		must(t, h.srv.AddReaction(h.general.ID, m.ID, h.bot2.ID, "🙏"))
		h.waitEvent("reaction_add", 2)
		h.settle()
		if got := h.balance(h.bob); got != before {
			t.Fatalf("bob has %d kudos, want %d", got, before)
		}
	})
}

func TestReactionReplayAfterReconnectCountsOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	m := h.post(h.bob, h.general, "here is the fix", "")
	must(t, h.srv.AddReaction(h.general.ID, m.ID, h.alice.ID, "🙏"))
	h.waitEvent("reaction_add", 1)

	// Cut the gateway; what happens meanwhile arrives on RESUME.
	if h.srv.DropConnection() == 0 {
		t.Fatal("no gateway connection to drop")
	}
	must(t, h.srv.AddReaction(h.general.ID, m.ID, h.mod.ID, "🙏"))
	h.waitEvent("reaction_add", 1)
	if _, err := h.srv.WaitGateway(h.ctx, func(ev discordtest.GatewayEvent) bool { return ev.Kind == discordtest.GatewayResumed }); err != nil {
		t.Fatalf("no RESUME: %v", err)
	}
	// Discord may deliver an event twice around a reconnect: replay alice's.
	must(t, h.srv.Dispatch("MESSAGE_REACTION_ADD", map[string]any{
		"user_id": h.alice.ID, "channel_id": h.general.ID, "message_id": m.ID, "guild_id": h.guild.ID,
		"emoji": discordgo.Emoji{Name: "🙏"}, "member": discordgo.Member{User: h.alice, Roles: []string{}},
	}))
	h.waitEvent("reaction_add", 1)

	h.settle()
	// alice's helpful award (5) and the moderator's, which counts as moderation (10), each once.
	if got := h.balance(h.bob); got != 15 {
		t.Fatalf("bob has %d kudos, want 15", got)
	}
}

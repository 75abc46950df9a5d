package bot_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// TestSharedImageCreditsTheRequester: the bot posts a shared image in the
// art channel, but reactions on that post credit the member who shared it,
// both as art awards and in the daily art tally.
func TestSharedImageCreditsTheRequester(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	carol := h.Srv.AddUser(discordgo.User{Username: "carol"})
	_, err := h.Srv.AddMember(h.Guild.ID, discordgo.Member{User: carol, JoinedAt: time.Now().Add(-30 * 24 * time.Hour)})
	must(t, err)

	res := finishedImagine(h, 2)
	text, _ := h.Reply(h.Click(h.Alice, h.General, res.ID, findID(customIDs(res), "imagine/share/")))
	wantContains(t, text, "Shared")
	shared, err := h.Srv.WaitForMessage(h.Ctx, h.Art.ID, hasFiles)
	must(t, err)
	if shared.Author == nil || !shared.Author.Bot {
		t.Fatalf("the shared post's author is %+v, want the bot", shared.Author)
	}
	post, err := h.Store.SharedPost(h.Ctx, shared.ID)
	must(t, err)
	if post.DiscordUserID != h.Alice.ID || post.ChannelID != h.Art.ID || post.GuildID != h.Guild.ID || !strings.HasPrefix(findID(customIDs(res), "imagine/share/"), "imagine/share/"+post.RequestID) {
		t.Fatalf("shared post recorded as %+v", post)
	}

	// The art tally pays by day: react at noon, far from midnight.
	now := h.Clock.Now().In(h.Kudos.Location())
	noon := time.Date(now.Year(), now.Month(), now.Day()+1, 12, 0, 0, 0, now.Location())
	h.Clock.Advance(noon.Sub(now))
	day := h.Clock.Now()
	start := h.Balance(h.Alice)

	t.Run("the requester's own reaction pays nothing", func(t *testing.T) {
		h := h.On(t)
		before := h.Balance(h.Alice)
		must(t, h.Srv.AddReaction(h.Art.ID, shared.ID, h.Alice.ID, "🎨"))
		h.WaitEvent("reaction_add", 1)
		h.Settle()
		if got := h.Balance(h.Alice); got != before {
			t.Fatalf("alice has %d kudos after reacting to her own post, want %d", got, before)
		}
	})
	t.Run("a reaction removed before settling pays nothing", func(t *testing.T) {
		h := h.On(t)
		before := h.Balance(h.Alice)
		must(t, h.Srv.AddReaction(h.Art.ID, shared.ID, carol.ID, "🎨"))
		h.WaitEvent("reaction_add", 1)
		must(t, h.Srv.RemoveReaction(h.Art.ID, shared.ID, carol.ID, "🎨"))
		h.WaitEvent("reaction_remove", 1)
		h.Settle()
		if got := h.Balance(h.Alice); got != before {
			t.Fatalf("alice has %d kudos after a removed reaction, want %d", got, before)
		}
	})
	t.Run("two members' reactions are counted for the tally, not paid twice", func(t *testing.T) {
		h := h.On(t)
		before := h.Balance(h.Alice)
		must(t, h.Srv.AddReaction(h.Art.ID, shared.ID, h.Bob.ID, "🎨"))
		must(t, h.Srv.AddReaction(h.Art.ID, shared.ID, h.Mod.ID, "🎨"))
		h.WaitEvent("reaction_add", 2)
		h.Settle()
		// In an art channel the daily tally pays for 🎨 (issue 14.10: it
		// used to pay an art award at once and again in the tally).
		if got := h.Balance(h.Alice); got != before {
			t.Fatalf("alice has %d kudos after the reactions settled, want %d (the tally pays)", got, before)
		}
	})
	t.Run("the daily art tally pays the requester per reactor", func(t *testing.T) {
		h := h.On(t)
		before := h.Balance(h.Alice)
		ran, err := h.Kudos.ArtTally(h.Ctx, day)
		must(t, err)
		if !ran {
			t.Fatal("the art tally did not run")
		}
		// bob and the moderator count; alice's own and carol's removed reaction do not.
		if got, want := h.Balance(h.Alice), before+2*2; got != want {
			t.Fatalf("alice has %d kudos after the tally, want %d (2 reactors × 2)", got, want)
		}
	})
	if got, want := h.Balance(h.Alice), start+2*2; got != want {
		t.Fatalf("alice earned %d kudos from her shared image, want %d", got-start, want-start)
	}
}

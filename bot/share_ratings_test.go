package bot_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/bot/discordtest"
)

// TestSharedPostRatings: a shared post carries 1-10 buttons; another member's
// click rates its images once and pays kudos, the post shows the average,
// and the artist cannot rate their own images.
func TestSharedPostRatings(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := finishedImagine(h, 2)
	text, _ := h.Reply(h.Click(h.Alice, h.General, res.ID, findID(customIDs(res), "imagine/share/")))
	wantContains(t, text, "Shared")
	shared, err := h.Srv.WaitForMessage(h.Ctx, h.Art.ID, hasFiles)
	must(t, err)
	ids := customIDs(shared)
	rate := func(n int) string {
		id := findID(ids, "share/rate/")
		return id[:strings.LastIndex(id, "/")+1] + fmt.Sprint(n)
	}
	for n := 1; n <= 10; n++ {
		if !slices.Contains(ids, rate(n)) {
			t.Fatalf("the shared post has no %d button: %v", n, ids)
		}
	}

	aliceBefore := h.Balance(h.Alice)
	text, private := h.Reply(h.Click(h.Alice, h.Art, shared.ID, rate(10)))
	if !private || !strings.Contains(text, "cannot rate your own images") {
		t.Fatalf("alice rating her own post: %q (private %v)", text, private)
	}
	if got := h.Balance(h.Alice); got != aliceBefore {
		t.Fatalf("alice's balance moved from %d to %d rating her own images", aliceBefore, got)
	}

	bobBefore := h.Balance(h.Bob)
	text, private = h.Reply(h.Click(h.Bob, h.Art, shared.ID, rate(8)))
	if !private {
		t.Fatalf("bob's rating was answered in public: %q", text)
	}
	var paid int64
	if _, err := fmt.Sscanf(text, "You rated these images 8/10 and earned %d kudos.", &paid); err != nil || paid <= 0 {
		t.Fatalf("bob's rating: %q", text)
	}
	if got := h.Balance(h.Bob); got != bobBefore+paid {
		t.Fatalf("bob has %d kudos after rating, want %d", got, bobBefore+paid)
	}
	waitPost(h, shared.ID, "⭐ 8.0/10 from 1 rating")

	text, _ = h.Reply(h.Click(h.Bob, h.Art, shared.ID, rate(3)))
	wantContains(t, text, "You already rated these images")
	if got := h.Balance(h.Bob); got != bobBefore+paid {
		t.Fatalf("bob's second rating moved his balance to %d", got)
	}

	text, _ = h.Reply(h.Click(h.Mod, h.Art, shared.ID, rate(5)))
	wantContains(t, text, "You rated these images 5/10")
	post := waitPost(h, shared.ID, "⭐ 6.5/10 from 2 ratings")
	if strings.Count(post.Content, "⭐") != 1 || !strings.Contains(post.Content, "shared by") || len(post.Files) == 0 || len(customIDs(post)) != 10 {
		t.Fatalf("the shared post lost its text, image or buttons: %q, %d files, buttons %v", post.Content, len(post.Files), customIDs(post))
	}
}

// waitPost waits for the art channel's message id to contain text.
func waitPost(h *harness, id, text string) discordtest.Message {
	h.T.Helper()
	m, err := h.Srv.WaitForMessage(h.Ctx, h.Art.ID, func(m discordtest.Message) bool {
		return m.ID == id && strings.Contains(m.Content, text)
	})
	if err != nil {
		got, _ := h.Srv.Message(h.Art.ID, id)
		h.T.Fatalf("the shared post never showed %q: %v (it reads %q)", text, err, got.Content)
	}
	return m
}

// TestForgedRatingButtons: a rating button with a forged request id or an
// out-of-range score pays nothing and says so.
func TestForgedRatingButtons(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	before := h.Balance(h.Bob)
	ids := []string{"share/rate/00000000-0000-0000-0000-000000000000/5", "share/rate/x/11", "share/rate/x"}
	posts := map[string]string{
		"a member's message":  h.Post(h.Alice, h.Art, "a picture", "").ID, // carries no button
		"a post of the bot's": h.BotButtons(h.Art, ids...),                // carries them
	}
	for on, msg := range posts {
		for _, id := range ids {
			text, private := h.Reply(h.Click(h.Bob, h.Art, msg, id))
			if !private || strings.Contains(text, "You rated") {
				t.Errorf("%s on %s: %q (private %v), want a private refusal", id, on, text, private)
			}
		}
	}
	if got := h.Balance(h.Bob); got != before {
		t.Fatalf("forged ratings moved bob's balance from %d to %d", before, got)
	}
}

package bot_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/kudos"
)

// TestArtTallyIsAnnouncedInTheArtChannel: a member's post in the art channel
// gets reactions; the daily art tally, wired to Bot.PostArtTally as the
// engine's OnArtTally callback, pays them and the bot posts a summary in the
// art channel naming the artist (a mention that pings nobody), the kudos,
// the reactors and a link to the post.
func TestArtTallyIsAnnouncedInTheArtChannel(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// The tally pays by day: react at noon, far from midnight.
	now := h.Clock.Now().In(h.Kudos.Location())
	noon := time.Date(now.Year(), now.Month(), now.Day()+1, 12, 0, 0, 0, now.Location())
	h.Clock.Advance(noon.Sub(now))
	day := h.Clock.Now()

	art := h.Post(h.Bob, h.Art, "my lighthouse at dusk", "")
	must(t, h.Srv.AddReaction(h.Art.ID, art.ID, h.Alice.ID, "😍"))
	must(t, h.Srv.AddReaction(h.Art.ID, art.ID, h.Mod.ID, "🔥"))
	must(t, h.Srv.AddReaction(h.Art.ID, art.ID, h.Bob.ID, "😍")) // the artist's own: not counted
	h.WaitEvent("reaction_add", 3)

	// The harness's engine has no callback (it is built before the bot);
	// this one over the same store is wired as cmd/hordebot wires it.
	eng, err := kudos.New(h.Store, h.Kudos.Config(), h.Clock, kudos.WithLogger(quietLogger()), kudos.WithOnArtTally(h.Bot.PostArtTally))
	must(t, err)
	before := h.Balance(h.Bob)
	ran, err := eng.ArtTally(h.Ctx, day)
	must(t, err)
	if !ran {
		t.Fatal("the art tally did not run")
	}
	per := h.Kudos.Config().Art.PerReactor
	paid := h.Balance(h.Bob) - before
	if paid != 2*per {
		t.Fatalf("bob was paid %d, want %d (2 reactors × %d)", paid, 2*per, per)
	}

	m, err := h.Srv.WaitForMessage(h.Ctx, h.Art.ID, func(m discordtest.Message) bool { return strings.Contains(m.Content, "Art tally") })
	must(t, err)
	for _, want := range []string{
		"Art tally for " + kudos.Day(day, h.Kudos.Location()).Name,
		fmt.Sprintf("<@%s> — %d kudos (2 reactors on 1 post)", h.Bob.ID, paid),
		fmt.Sprintf("https://discord.com/channels/%s/%s/%s", h.Guild.ID, h.Art.ID, art.ID),
	} {
		wantContains(t, m.Content, want)
	}
	if m.Author == nil || !m.Author.Bot {
		t.Fatalf("the summary's author is %+v, want the bot", m.Author)
	}

	// The mention pings nobody: the request carried allowed_mentions with nothing to parse.
	rec, err := h.Srv.WaitFor(h.Ctx, func(r discordtest.Recorded) bool {
		return r.Route == "POST /channels/{channel}/messages" && r.Params["channel"] == h.Art.ID && strings.Contains(string(r.JSON), "Art tally")
	})
	must(t, err)
	var body struct {
		AllowedMentions *struct {
			Parse []string `json:"parse"`
			Users []string `json:"users"`
		} `json:"allowed_mentions"`
	}
	must(t, json.Unmarshal(rec.JSON, &body))
	if body.AllowedMentions == nil || len(body.AllowedMentions.Parse) != 0 || len(body.AllowedMentions.Users) != 0 {
		t.Fatalf("allowed_mentions = %s, want none allowed", rec.JSON)
	}

	// The same day again pays and posts nothing more.
	if ran, err := eng.ArtTally(h.Ctx, day); err != nil || ran {
		t.Fatalf("the same day again: ran %v, %v", ran, err)
	}
	n := 0
	for _, msg := range h.Srv.Messages(h.Art.ID) {
		if strings.Contains(msg.Content, "Art tally") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d art tally summaries in the art channel, want 1", n)
	}
}

package kudos_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// TestArtTallyAnnouncesPayouts: the OnArtTally callback gets exactly what
// was paid (after the post and daily caps, most paid first), once per day,
// and is not called for a day that paid nobody; a failing callback does not
// undo the payouts.
func TestArtTallyAnnouncesPayouts(t *testing.T) {
	var got []kudos.ArtTallyResult
	fail := false
	e := newEnv(t, testConfig(), kudos.WithOnArtTally(func(_ context.Context, r kudos.ArtTallyResult) error {
		got = append(got, r)
		if fail {
			return errors.New("discord is down")
		}
		return nil
	}))
	artist, other, flaggedArtist := e.user("artist"), e.user("other"), e.user("flagged", flagged)
	rs := e.users(5)
	// 2 per reactor, 6 per post, 10 per author per day (testConfig).
	for _, r := range rs {
		e.mustReact(e.artReact(r, artist, "big", "👍")) // 5 reactors: 10, capped to 6
	}
	e.mustReact(e.artReact(rs[0], artist, "small", "👍")) // 2 reactors: 4 (daily cap 10 reached)
	e.mustReact(e.artReact(rs[1], artist, "small", "👍"))
	e.mustReact(e.artReact(rs[2], artist, "over", "👍"))       // over the artist's daily cap: nothing
	e.mustReact(e.artReact(rs[0], other, "one", "👍"))         // 1 reactor: 2
	e.mustReact(e.artReact(rs[0], flaggedArtist, "bad", "👍")) // flagged: nothing

	if ran, err := e.eng.ArtTally(e.ctx, t0); err != nil || !ran {
		t.Fatalf("art tally: ran %v, %v", ran, err)
	}
	if len(got) != 1 {
		t.Fatalf("callback called %d times, want 1", len(got))
	}
	want := kudos.ArtTallyResult{
		Period: kudos.Day(t0, time.UTC),
		Payouts: []kudos.ArtPayout{
			{UserID: artist, MessageID: "big", ChannelID: "art", Reactors: 5, Amount: 6},
			{UserID: artist, MessageID: "small", ChannelID: "art", Reactors: 2, Amount: 4},
			{UserID: other, MessageID: "one", ChannelID: "art", Reactors: 1, Amount: 2},
		},
	}
	if !reflect.DeepEqual(got[0], want) {
		t.Fatalf("callback got\n %+v\nwant\n %+v", got[0], want)
	}
	if tot := got[0].Total(); tot != 12 {
		t.Fatalf("total %d, want 12", tot)
	}
	if a, o := e.artEarnings(artist), e.artEarnings(other); a != 10 || o != 2 {
		t.Fatalf("paid artist %d other %d, want 10 and 2: the announcement disagrees with the ledger", a, o)
	}

	// The same day again: nothing paid, nothing announced.
	if ran, err := e.eng.ArtTally(e.ctx, t0); err != nil || ran {
		t.Fatalf("the same day again: ran %v, %v", ran, err)
	}
	// A day without art posts runs but pays nobody: no announcement.
	e.clock.Advance(24 * time.Hour)
	if ran, err := e.eng.ArtTally(e.ctx, t0.Add(24*time.Hour)); err != nil || !ran {
		t.Fatalf("empty day: ran %v, %v", ran, err)
	}
	if len(got) != 1 {
		t.Fatalf("callback called %d times after a repeat and an empty day, want 1", len(got))
	}

	// A failing callback is logged; the tally stays done and paid.
	e.clock.Advance(24 * time.Hour)
	e.mustReact(e.artReact(rs[0], other, "later", "👍"))
	fail = true
	if ran, err := e.eng.ArtTally(e.ctx, e.clock.Now()); err != nil || !ran {
		t.Fatalf("tally with a failing callback: ran %v, %v", ran, err)
	}
	if len(got) != 2 || e.artEarnings(other) != 4 {
		t.Fatalf("after a failing callback: %d calls, other earned %d; want 2 calls and 4", len(got), e.artEarnings(other))
	}
	e.verify()
}

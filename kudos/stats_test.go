package kudos_test

import (
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// TestStatsCountOnce checks that Stats counts awards and transfers as they
// happen, and that replays and refusals are not counted as paid.
func TestStatsCountOnce(t *testing.T) {
	e := newEnv(t, testConfig())
	alice, bob, mod := e.user("alice"), e.user("bob"), e.user("mod", moderator)
	e.fund(alice, 50)
	if got := e.eng.Stats(); got != (kudos.Stats{}) {
		t.Fatalf("a new engine: %+v, want zero", got)
	}

	// Two reaction awards (one later revoked), a replay refused, a self-award refused.
	e.mustReact(e.reaction(alice, bob, "m1", "🙏"))
	e.mustReact(e.reaction(alice, bob, "m2", "🙏"))
	if _, err := e.eng.OnReactionAdded(e.ctx, e.reaction(alice, bob, "m1", "🙏")); kudos.RefusalCode(err) != kudos.RefuseDuplicate {
		t.Fatalf("replayed reaction: want duplicate, got %v", err)
	}
	if _, err := e.eng.OnReactionAdded(e.ctx, e.reaction(alice, alice, "m3", "🙏")); kudos.RefusalCode(err) != kudos.RefuseSelf {
		t.Fatalf("self award: want self, got %v", err)
	}
	if n, err := e.eng.OnReactionRemoved(e.ctx, kudos.ReactionRemoved{GiverID: alice, MessageID: "m2", Emoji: "🙏"}); err != nil || n != 1 {
		t.Fatalf("revoke: %d %v", n, err)
	}
	e.clock.Advance(10 * time.Minute)
	if n := e.settle(); n != 1 {
		t.Fatalf("settled %d, want 1", n)
	}

	// A moderator award and its replay.
	for range 2 {
		if err := e.eng.Award(e.ctx, kudos.ModeratorAward{ModeratorID: mod, ReceiverID: bob, Amount: 25, Key: "k1"}); err != nil {
			t.Fatalf("moderator award: %v", err)
		}
	}
	// A transfer, its replay, and a refused one.
	for range 2 {
		if err := e.eng.Transfer(e.ctx, alice, bob, 20, "t1"); err != nil {
			t.Fatalf("transfer: %v", err)
		}
	}
	wantCode(t, e.eng.Transfer(e.ctx, alice, bob, 1000, "t2"), kudos.RefuseInsufficient)

	want := kudos.Stats{
		AwardsRecorded: 2, AwardsRefused: 2, AwardsSettled: 1, AwardsRevoked: 1,
		ModeratorAwards: 1, ModeratorKudos: 25, Transfers: 1, KudosTransferred: 20,
	}
	if got := e.eng.Stats(); got != want {
		t.Fatalf("stats:\n got %+v\nwant %+v", got, want)
	}
}

package kudos_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

func TestTransferRules(t *testing.T) {
	e := newEnv(t, testConfig())
	alice, bob := e.user("alice"), e.user("bob")
	bad := e.user("bad", flagged)
	e.fund(alice, 100)
	e.fund(bad, 100)
	tests := []struct {
		name     string
		from, to int64
		amount   int64
		want     string
	}{
		{"zero amount", alice, bob, 0, kudos.RefuseAmount},
		{"negative amount", alice, bob, -5, kudos.RefuseAmount},
		{"to oneself", alice, alice, 5, kudos.RefuseSelf},
		{"from anonymous", 0, bob, 5, kudos.RefuseAnonymous},
		{"to anonymous", alice, 0, 5, kudos.RefuseAnonymous},
		{"from a flagged user", bad, bob, 5, kudos.RefuseFlagged},
		{"to a flagged user", alice, bad, 5, kudos.RefuseFlagged},
		{"more than the balance", alice, bob, 101, kudos.RefuseInsufficient},
		{"from a user with nothing", bob, alice, 1, kudos.RefuseInsufficient},
		{"to an unknown user", alice, 9999, 5, kudos.RefuseUnknownUser},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := e.eng.Transfer(e.ctx, tt.from, tt.to, tt.amount, "k-"+tt.name)
			wantCode(t, err, tt.want)
		})
	}
	if a, b := e.balance(alice), e.balance(bob); a != 100 || b != 0 {
		t.Fatalf("refused transfers moved kudos: alice %d bob %d", a, b)
	}
	e.verify()
}

func TestTransferMovesOnceAndPingPong(t *testing.T) {
	e := newEnv(t, testConfig())
	alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
	e.fund(alice, 50)
	e.fund(bob, 50)

	if err := e.eng.Transfer(e.ctx, alice, bob, 20, "t1"); err != nil {
		t.Fatal(err)
	}
	// A retried command with the same key pays nothing more.
	if err := e.eng.Transfer(e.ctx, alice, bob, 20, "t1"); err != nil {
		t.Fatalf("replay: %v", err)
	}
	if a, b := e.balance(alice), e.balance(bob); a != 30 || b != 70 {
		t.Fatalf("after one transfer and a replay: alice %d bob %d, want 30 70", a, b)
	}

	e.clock.Advance(30 * time.Second)
	wantCode(t, e.eng.Transfer(e.ctx, bob, alice, 5, "t2"), kudos.RefusePingPong)
	// Giving to someone else, or again in the same direction, is fine.
	wantCode(t, e.eng.Transfer(e.ctx, bob, carol, 5, "t3"), "")
	wantCode(t, e.eng.Transfer(e.ctx, alice, bob, 5, "t4"), "")

	e.clock.Advance(61 * time.Second)
	wantCode(t, e.eng.Transfer(e.ctx, bob, alice, 5, "t5"), "")
	if a, b, c := e.balance(alice), e.balance(bob), e.balance(carol); a != 30 || b != 65 || c != 5 {
		t.Fatalf("balances alice %d bob %d carol %d, want 30 65 5", a, b, c)
	}
	e.verify()
}

// TestTransferCannotGiveHeldKudos: kudos held for a member's queued requests
// (WithHeld) are not theirs to give away (issue 9.1).
func TestTransferCannotGiveHeldKudos(t *testing.T) {
	held := map[int64]int64{}
	e := newEnv(t, testConfig(), kudos.WithHeld(func(_ context.Context, id int64) (int, int64) { return 1, held[id] }))
	alice, bob := e.user("alice"), e.user("bob")
	e.fund(alice, 100)
	held[alice] = 70
	wantCode(t, e.eng.Transfer(e.ctx, alice, bob, 31, "over"), kudos.RefuseInsufficient)
	if err := e.eng.Transfer(e.ctx, alice, bob, 30, "within"); err != nil {
		t.Fatalf("giving what is not held: %v", err)
	}
	held[alice] = 92 // balance 70, 92 held: nothing is free
	err := e.eng.Transfer(e.ctx, alice, bob, 1, "none-free")
	wantCode(t, err, kudos.RefuseInsufficient)
	if !strings.Contains(err.Error(), "held for your queued requests") {
		t.Errorf("refusal %q does not say the kudos are held", err)
	}
	if a, b := e.balance(alice), e.balance(bob); a != 70 || b != 30 {
		t.Fatalf("balances alice %d bob %d, want 70 and 30", a, b)
	}
}

// TestTransferKeyReusedForOtherContent: an idempotency key names one
// transfer. The same key with the same content is a replay (no error,
// nothing more moves); with another receiver or amount it is refused and
// nothing moves, where it used to succeed silently.
func TestTransferKeyReusedForOtherContent(t *testing.T) {
	e := newEnv(t, testConfig())
	alice, bob, carol := e.user("alice"), e.user("bob"), e.user("carol")
	e.fund(alice, 100)
	wantCode(t, e.eng.Transfer(e.ctx, alice, bob, 10, "k1"), "")

	tests := []struct {
		name   string
		to     int64
		amount int64
		want   string
	}{
		{"same receiver and amount is a replay", bob, 10, ""},
		{"another amount is refused", bob, 50, kudos.RefuseKeyReused},
		{"another receiver is refused", carol, 10, kudos.RefuseKeyReused},
		{"another receiver and amount is refused", carol, 1, kudos.RefuseKeyReused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, e.eng.Transfer(e.ctx, alice, tt.to, tt.amount, "k1"), tt.want)
			if a, b, c := e.balance(alice), e.balance(bob), e.balance(carol); a != 90 || b != 10 || c != 0 {
				t.Fatalf("balances alice %d bob %d carol %d, want 90 10 0 (only the first transfer)", a, b, c)
			}
		})
	}
	e.verify()
}

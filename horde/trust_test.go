package horde_test

import (
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// verifyLedger fails unless every balance is the sum of its ledger and every
// escrow release matches its holds.
func (e *env) verifyLedger() {
	e.tb.Helper()
	if ms, err := e.st.Verify(e.ctx); err != nil || len(ms) != 0 {
		e.tb.Fatalf("verify ledger: %v %v", ms, err)
	}
	if ms, err := e.st.VerifyEscrow(e.ctx); err != nil || len(ms) != 0 {
		e.tb.Fatalf("verify escrow: %v %v", ms, err)
	}
}

func (e *env) escrowed(userID int64) int64 {
	e.tb.Helper()
	n, err := e.st.Escrowed(e.ctx, userID)
	if err != nil {
		e.tb.Fatal(err)
	}
	return n
}

func TestEscrowHalfUntilTrusted(t *testing.T) {
	// Automatic trust off: only the moderator trusts here.
	e, _ := newModEnv(t, horde.Config{Payments: kudos.PaymentRules{EscrowPercent: kudos.DefaultEscrowPercent}, Trust: horde.TrustConfig{TrustAfterKudos: -1}})
	alice := e.user("alice", 1000)
	worker := e.user("worker", 0)

	var earned, paid int64
	for range 3 {
		reward := e.serveWith(alice, worker, "rig", horde.ResultOK)
		earned += reward
		paid += reward - reward/2
	}
	if earned == 0 {
		t.Fatal("the jobs paid nothing; the test needs a reward")
	}
	if got := e.balance(worker.User.ID); got != paid {
		t.Fatalf("untrusted owner's balance %d, want %d paid at once of %d earned", got, paid, earned)
	}
	if got := e.escrowed(worker.User.ID); got != earned-paid {
		t.Fatalf("escrow %d, want %d", got, earned-paid)
	}
	e.verifyLedger()

	mod := e.moderator("mod")
	rel, err := e.h.SetTrusted(e.ctx, mod, worker.User.ID, true, "known member")
	if err != nil || rel.Amount != earned-paid || rel.Holds != 3 {
		t.Fatalf("trust: release %+v err %v, want %d kudos from 3 holds", rel, err, earned-paid)
	}
	if got := e.balance(worker.User.ID); got != earned {
		t.Fatalf("balance after trust %d, want all %d", got, earned)
	}
	if got := e.escrowed(worker.User.ID); got != 0 {
		t.Fatalf("escrow after trust %d, want 0", got)
	}
	// Trusting again releases nothing more.
	if rel, err := e.h.SetTrusted(e.ctx, mod, worker.User.ID, true, "again"); err != nil || rel.Amount != 0 {
		t.Fatalf("second trust: %+v %v", rel, err)
	}
	e.verifyLedger()

	// A trusted owner's worker is paid in full (the worker learns its
	// owner's trust on its next pop, from the credential).
	worker.User = e.userNow(worker.User.ID)
	reward := e.serveWith(alice, worker, "rig", horde.ResultOK)
	if got := e.balance(worker.User.ID); got != earned+reward {
		t.Fatalf("balance %d after a trusted job, want %d", got, earned+reward)
	}
	rig, _ := e.h.WorkerByName(e.ctx, "rig")
	if !rig.Trusted {
		t.Fatal("the worker of a trusted owner is not trusted")
	}
	e.verifyLedger()

	// Escrow survives a restart.
	other := e.user("other", 0)
	e.serveWith(alice, other, "rig2", horde.ResultOK)
	held := e.escrowed(other.User.ID)
	e.restart()
	if held == 0 || e.escrowed(other.User.ID) != held {
		t.Fatalf("escrow %d before restart, %d after", held, e.escrowed(other.User.ID))
	}
}

func TestEscrowOff(t *testing.T) {
	e, _ := newModEnv(t, horde.Config{})
	alice := e.user("alice", 1000)
	worker := e.user("worker", 0)
	reward := e.serveWith(alice, worker, "rig", horde.ResultOK)
	if e.balance(worker.User.ID) != reward || e.escrowed(worker.User.ID) != 0 {
		t.Fatalf("with escrow off: balance %d escrow %d, want %d and 0", e.balance(worker.User.ID), e.escrowed(worker.User.ID), reward)
	}
}

func TestAutomaticTrust(t *testing.T) {
	e, rec := newModEnv(t, horde.Config{Payments: kudos.PaymentRules{EscrowPercent: 50}, Trust: horde.TrustConfig{TrustAfterKudos: 3, TrustMinAge: time.Hour}})
	alice := e.user("alice", 1000)
	worker := e.user("worker", 0)

	reward := e.serveWith(alice, worker, "rig", horde.ResultOK)
	if reward < 3 {
		t.Fatalf("reward %d: the test needs one job to reach the threshold", reward)
	}
	if e.userNow(worker.User.ID).Trusted {
		t.Fatal("trusted with an account younger than the minimum age")
	}
	e.clock.Advance(2 * time.Hour)
	worker.User = e.userNow(worker.User.ID)
	e.serveWith(alice, worker, "rig", horde.ResultOK)
	if !e.userNow(worker.User.ID).Trusted {
		t.Fatal("not trusted after earning enough with an old enough account")
	}
	ev := rec.of(horde.EventTrusted)
	if len(ev) != 1 || ev[0].User.ID != worker.User.ID || ev[0].Released == 0 {
		t.Fatalf("trust events %+v, want one releasing the escrow", ev)
	}
	if e.escrowed(worker.User.ID) != 0 {
		t.Fatalf("escrow %d left after automatic trust", e.escrowed(worker.User.ID))
	}
	e.verifyLedger()
}

func TestFlaggedOwnerIsNotTrustedAutomatically(t *testing.T) {
	e, rec := newModEnv(t, horde.Config{Payments: kudos.PaymentRules{EscrowPercent: 50}, Trust: horde.TrustConfig{TrustAfterKudos: 1, TrustMinAge: time.Hour}})
	alice := e.user("alice", 1000)
	worker := e.user("worker", 0)
	e.serveWith(alice, worker, "rig", horde.ResultOK)
	if _, err := e.h.SetFlagged(e.ctx, e.moderator("mod"), worker.User.ID, true, "review"); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour)
	e.serveWith(alice, worker, "rig", horde.ResultOK)
	if e.userNow(worker.User.ID).Trusted || len(rec.of(horde.EventTrusted)) != 0 {
		t.Fatal("a flagged owner was trusted automatically")
	}
}

func TestSuspiciouslyFastWorkerIsPaused(t *testing.T) {
	// 512x512x20 steps is 5.24 megapixel-steps: at most 1 per second is
	// believable here, so a result in under 5.24 s is suspicious.
	e, rec := newModEnv(t, horde.Config{Trust: horde.TrustConfig{MaxMegapixelStepsPerSecond: 1, SuspicionThreshold: 2}})
	alice := e.user("alice", 1000)
	worker := e.user("worker", 0)

	submitAfter := func(d time.Duration) {
		t.Helper()
		e.submit(alice, imageRequest("a quick one", "sd15"))
		a := e.popOne(worker, imagePop("rig", "sd15"))
		e.clock.Advance(d)
		e.submitOK(worker, a.Job.ID)
	}
	submitAfter(10 * time.Second) // 0.52 MPS/s: fine
	submitAfter(time.Second)      // 5.24 MPS/s: suspicious #1
	rig, _ := e.h.WorkerByName(e.ctx, "rig")
	if n, _ := e.st.Suspicions(e.ctx, rig.ID); n != 1 || rig.Paused {
		t.Fatalf("after one fast result: suspicion %d paused %v, want 1 and running", n, rig.Paused)
	}
	submitAfter(0) // no time at all: suspicious #2
	rig, _ = e.h.WorkerByName(e.ctx, "rig")
	if !rig.Paused {
		t.Fatal("the worker was not paused at the suspicion threshold")
	}
	if !e.userNow(worker.User.ID).Flagged {
		t.Fatal("the owner of a suspicious worker was not flagged for review")
	}
	ev := rec.of(horde.EventSuspicious)
	if len(ev) != 1 || ev[0].WorkerName != "rig" || ev[0].User.ID != worker.User.ID || ev[0].Count != 2 {
		t.Fatalf("suspicion events %+v", ev)
	}
	e.submit(alice, imageRequest("waiting", "sd15"))
	if as, _ := e.pop(worker, imagePop("rig", "sd15")); len(as) != 0 {
		t.Fatalf("the paused worker got %d jobs", len(as))
	}

	// A moderator clears it: unpaused, the count starts over.
	mod := e.moderator("mod")
	if _, err := e.h.PauseWorker(e.ctx, mod, rig.ID, false, "false alarm"); err != nil {
		t.Fatal(err)
	}
	if n, _ := e.st.Suspicions(e.ctx, rig.ID); n != 0 {
		t.Fatalf("suspicion %d after unpause, want 0", n)
	}
}

// BenchmarkSubmitResult measures a whole request, pop and submit round with
// the owner trusted (reward paid at once) and untrusted (half held in
// escrow, progress toward trust followed), to show what escrow and the
// moderation checks add to the submit path.
func BenchmarkSubmitResult(b *testing.B) {
	for _, trusted := range []bool{true, false} {
		name := map[bool]string{true: "trusted", false: "escrow"}[trusted]
		b.Run(name, func(b *testing.B) {
			e := newEnv(b, horde.Config{Payments: kudos.PaymentRules{EscrowPercent: 50}, Trust: horde.TrustConfig{MaxMegapixelStepsPerSecond: 1e12}})
			alice := e.user("alice", 1_000_000_000)
			worker := e.user("worker", 0)
			if trusted {
				if _, err := e.st.SetTrusted(e.ctx, worker.User.ID, true); err != nil {
					b.Fatal(err)
				}
				worker.User.Trusted = true
			}
			b.ResetTimer()
			for range b.N {
				e.submit(alice, imageRequest("a lighthouse", "sd15"))
				a := e.popOne(worker, imagePop("rig", "sd15"))
				e.clock.Advance(time.Second) // a believable speed: the check runs, nothing is suspicious
				e.submitOK(worker, a.Job.ID)
			}
			b.StopTimer()
			if held := e.escrowed(worker.User.ID); (held > 0) == trusted {
				b.Fatalf("trusted %v but %d kudos held", trusted, held)
			}
		})
	}
}

// A moderator's trust reaches the owner's online workers at once, not on
// their next pop: the moderator tells the scheduler (workerRegistry).
func TestTrustReachesOnlineWorkers(t *testing.T) {
	e, _ := newModEnv(t, horde.Config{Trust: horde.TrustConfig{TrustAfterKudos: -1}})
	alice := e.user("alice", 1000)
	worker := e.user("worker", 0)
	e.serveWith(alice, worker, "rig", horde.ResultOK)
	trusted := func() bool {
		t.Helper()
		rig, err := e.h.WorkerByName(e.ctx, "rig")
		if err != nil {
			t.Fatal(err)
		}
		return rig.Trusted
	}
	if trusted() {
		t.Fatal("the worker of an untrusted owner is trusted")
	}
	mod := e.moderator("mod")
	for _, want := range []bool{true, false} {
		if _, err := e.h.SetTrusted(e.ctx, mod, worker.User.ID, want, "review"); err != nil {
			t.Fatalf("set trusted %v: %v", want, err)
		}
		if got := trusted(); got != want {
			t.Fatalf("after SetTrusted(%v) the online worker's Trusted = %v", want, got)
		}
	}
}

package horde_test

import (
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// TestEveryStoredResultCountsInGenerationStats: a result stored through
// each path of the horde (inline, censored, an upload before or after the
// R2 submit, after a restart, a requester charged short, a text) counts
// once in /stats with its request's units; a second submit counts nothing.
func TestEveryStoredResultCountsInGenerationStats(t *testing.T) {
	e := newEnv(t, horde.Config{CheckImage: realOnly, Payments: kudos.PaymentRules{MemberFloor: -100}})
	alice := e.user("alice", 10000)
	owner := e.user("owner", 0)
	const small = 512 * 512 * 20  // imageRequest
	const big = 1024 * 1024 * 224 // bigImage
	real := []byte("real")
	submit := func(what string, s horde.Submission) {
		t.Helper()
		if _, err := e.h.SubmitResult(e.ctx, owner, s); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	e.submit(alice, imageRequest("inline"))
	a := e.popOne(owner, imagePop("gpu"))
	submit("inline", horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Image: real})
	if _, err := e.h.SubmitResult(e.ctx, owner, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Image: real}); !horde.IsKind(err, horde.KindConflict) {
		t.Fatalf("the same submit again: %v, want a conflict", err)
	}

	e.submit(alice, imageRequest("censored"))
	a = e.popOne(owner, imagePop("gpu"))
	submit("censored", horde.Submission{JobID: a.Job.ID, State: horde.ResultCensored})

	e.submit(alice, imageRequest("uploaded first"))
	a = e.popOne(owner, imagePop("gpu"))
	if err := e.h.Upload(e.ctx, a.Job.ID, real); err != nil {
		t.Fatal(err)
	}
	submit("R2 after the upload", horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, UseUpload: true})

	e.submit(alice, imageRequest("submitted first"))
	a = e.popOne(owner, imagePop("gpu"))
	submit("R2 before the upload", horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, UseUpload: true})
	if err := e.h.Upload(e.ctx, a.Job.ID, real); err != nil {
		t.Fatalf("the upload settling a deferred submit: %v", err)
	}

	e.submit(alice, imageRequest("across a restart"))
	a = e.popOne(owner, imagePop("gpu"))
	e.restart()
	submit("after a restart", horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Image: real})

	bob := e.user("bob", 0)
	e.submit(bob, bigImage("charged short")) // 92 held
	e.give(bob.User.ID, -50)                 // now below what the hold promised
	a = e.popOne(owner, bigPop("gpu"))
	submit("charged short", horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Image: real})

	e.submit(alice, textRequest("a text", 80, 1024))
	a = e.popOne(owner, horde.PopRequest{Kind: horde.KindText, Name: "writer", MaxLength: 512, MaxContextLength: 2048, Amount: 1, BridgeAgent: koboldCppAgent})
	submit("text", horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Text: "there was a lighthouse."})

	for _, c := range []struct {
		kind horde.RequestKind
		want horde.PeriodTotal
	}{
		{horde.KindImage, horde.PeriodTotal{Count: 6, Units: 5*small + big}},
		{horde.KindText, horde.PeriodTotal{Count: 1, Units: 80}},
	} {
		got, err := e.h.GenerationTotals(e.ctx, c.kind)
		if err != nil {
			t.Fatal(err)
		}
		for name, p := range map[string]horde.PeriodTotal{"minute": got.Minute, "day": got.Day, "month": got.Month, "total": got.Total} {
			if p != c.want {
				t.Errorf("%s stats, %s: %+v, want %+v", c.kind, name, p, c.want)
			}
		}
	}
}

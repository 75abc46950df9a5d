package horde_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// events records the moderation events a horde emits.
type events struct {
	mu  sync.Mutex
	all []horde.ModerationEvent
}

func (r *events) record(_ context.Context, ev horde.ModerationEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, ev)
}

// of returns the recorded events of a kind.
func (r *events) of(kind horde.ModerationEventKind) []horde.ModerationEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []horde.ModerationEvent
	for _, ev := range r.all {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// newModEnv is a horde whose moderation events are recorded.
func newModEnv(t *testing.T, cfg horde.Config) (*env, *events) {
	t.Helper()
	rec := &events{}
	cfg.OnModeration = rec.record
	return newEnv(t, cfg), rec
}

// moderator is a user with the moderator bit, as the bot passes members
// holding a moderator role.
func (e *env) moderator(name string) horde.User {
	e.tb.Helper()
	c := e.user(name, 0)
	c.User.Moderator = true
	return c.User
}

// serveWith submits a request of requester, pops it as worker and submits
// state; it returns the reward.
func (e *env) serveWith(requester, worker horde.Credential, rig, state string) int64 {
	e.tb.Helper()
	e.submit(requester, imageRequest("a lighthouse", "sd15"))
	a := e.popOne(worker, imagePop(rig, "sd15"))
	reward, err := e.h.SubmitResult(e.ctx, worker, horde.Submission{JobID: a.Job.ID, State: state, Image: []byte("RIFF....WEBPfake")})
	if err != nil {
		e.tb.Fatalf("submit %s result: %v", state, err)
	}
	return reward
}

func (e *env) userNow(id int64) horde.User {
	e.tb.Helper()
	u, err := e.st.User(e.ctx, id)
	if err != nil {
		e.tb.Fatalf("read user %d: %v", id, err)
	}
	return u
}

func TestResultStrikesFlagRequester(t *testing.T) {
	tests := []struct {
		name      string
		state     string
		kind      horde.StrikeKind
		threshold int64
		// every strike of these kinds is reported, not only the flagging one
		reportsEach bool
	}{
		{name: "csam results flag at their threshold", state: horde.ResultCSAM, kind: horde.StrikeCSAM, threshold: 2, reportsEach: true},
		{name: "censored results flag at their threshold", state: horde.ResultCensored, kind: horde.StrikeCensored, threshold: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, rec := newModEnv(t, horde.Config{Moderation: horde.ModerationConfig{CSAMThreshold: 2, CensoredThreshold: 3, RefusedThreshold: 2}})
			alice := e.user("alice", 1000)
			worker := e.user("worker", 0)
			e.serveWith(alice, worker, "rig", horde.ResultOK) // an ok result is no strike
			for i := int64(1); i <= tt.threshold; i++ {
				if e.userNow(alice.User.ID).Flagged {
					t.Fatalf("alice flagged after %d strikes, threshold %d", i-1, tt.threshold)
				}
				alice.User = e.userNow(alice.User.ID)
				e.serveWith(alice, worker, "rig", tt.state)
			}
			if !e.userNow(alice.User.ID).Flagged {
				t.Fatalf("alice not flagged after %d %s results", tt.threshold, tt.state)
			}
			flagged := rec.of(horde.EventFlagged)
			if len(flagged) != 1 || flagged[0].User.ID != alice.User.ID || flagged[0].Strike != tt.kind || flagged[0].Count != tt.threshold {
				t.Fatalf("flag events %+v, want one for alice's %d %s strikes", flagged, tt.threshold, tt.kind)
			}
			wantEach := 0
			if tt.reportsEach {
				wantEach = int(tt.threshold)
			}
			if got := rec.of(horde.EventStrike); len(got) != wantEach {
				t.Fatalf("%d strike reports, want %d", len(got), wantEach)
			} else if wantEach > 0 && got[0].Prompt != "a lighthouse" {
				t.Fatalf("strike report prompt %q, want the request's prompt", got[0].Prompt)
			}
			// A flagged user can no longer request.
			alice.User = e.userNow(alice.User.ID)
			if _, _, err := e.h.Submit(e.ctx, alice.User, imageRequest("again", "sd15")); !horde.IsKind(err, horde.KindForbidden) {
				t.Fatalf("submit by a flagged user: err %v, want KindForbidden", err)
			}
			// The worker is not blamed for its requester's prompts.
			if e.userNow(worker.User.ID).Flagged {
				t.Fatal("the worker's owner was flagged")
			}
		})
	}
}

func TestRefusedStrikes(t *testing.T) {
	e, rec := newModEnv(t, horde.Config{Moderation: horde.ModerationConfig{RefusedThreshold: 2}})
	alice := e.user("alice", 0)
	strike := func(key string) int64 {
		t.Helper()
		n, err := e.h.RecordStrike(e.ctx, horde.Strike{UserID: alice.User.ID, Kind: horde.StrikeRefused, Key: key}, "a bad prompt")
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := strike("refused:1"); n != 1 {
		t.Fatalf("first strike counted %d", n)
	}
	if n := strike("refused:1"); n != 1 {
		t.Fatalf("a replayed strike counted again: %d", n)
	}
	if e.userNow(alice.User.ID).Flagged {
		t.Fatal("flagged below the threshold")
	}
	if n := strike("refused:2"); n != 2 || !e.userNow(alice.User.ID).Flagged {
		t.Fatalf("after 2 refusals: count %d, flagged %v", n, e.userNow(alice.User.ID).Flagged)
	}
	strike("refused:3") // already flagged: no second alert
	if got := rec.of(horde.EventFlagged); len(got) != 1 {
		t.Fatalf("%d flag events, want 1", len(got))
	}

	// Unflagging starts the count over.
	mod := e.moderator("mod")
	if _, err := e.h.SetFlagged(e.ctx, mod, alice.User.ID, false, "talked to them"); err != nil {
		t.Fatal(err)
	}
	if n := strike("refused:4"); n != 1 || e.userNow(alice.User.ID).Flagged {
		t.Fatalf("after unflag: count %d flagged %v, want 1 and not flagged", n, e.userNow(alice.User.ID).Flagged)
	}
}

func TestAnonymousIsNeverFlagged(t *testing.T) {
	e, rec := newModEnv(t, horde.Config{Moderation: horde.ModerationConfig{RefusedThreshold: 2}})
	for i := range 5 {
		if _, err := e.h.RecordStrike(e.ctx, horde.Strike{UserID: horde.AnonymousUserID, Kind: horde.StrikeRefused, Key: fmt.Sprint("anon:", i)}, "x"); err != nil {
			t.Fatal(err)
		}
	}
	if e.userNow(horde.AnonymousUserID).Flagged {
		t.Fatal("the anonymous user was flagged")
	}
	// Alerted at every threshold crossing: strikes 2 and 4.
	if got := rec.of(horde.EventFlagged); len(got) != 2 {
		t.Fatalf("%d alerts for the anonymous user, want 2", len(got))
	}
}

func TestModeratorActions(t *testing.T) {
	e, _ := newModEnv(t, horde.Config{})
	mod := e.moderator("mod")
	alice := e.user("alice", 10)
	worker := e.user("worker", 0)
	e.serveWith(alice, worker, "rig", horde.ResultOK)
	rig, err := e.h.WorkerByName(e.ctx, "rig")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("non-moderators are refused", func(t *testing.T) {
		calls := map[string]error{}
		_, calls["flag"] = e.h.SetFlagged(e.ctx, alice.User, worker.User.ID, true, "")
		_, calls["pause"] = e.h.PauseWorker(e.ctx, alice.User, rig.ID, true, "")
		_, calls["adjust"] = e.h.AdjustKudos(e.ctx, alice.User, alice.User.ID, 100, "", "k")
		_, calls["trust"] = e.h.SetTrusted(e.ctx, alice.User, alice.User.ID, true, "")
		_, calls["status"] = e.h.ModerationStatus(e.ctx, alice.User, worker.User.ID)
		for name, err := range calls {
			if !horde.IsKind(err, horde.KindForbidden) {
				t.Errorf("%s by a member: err %v, want KindForbidden", name, err)
			}
		}
		if e.userNow(worker.User.ID).Flagged || e.balance(alice.User.ID) > 10 {
			t.Fatal("a refused action changed something")
		}
	})

	t.Run("flag and unflag", func(t *testing.T) {
		u, err := e.h.SetFlagged(e.ctx, mod, alice.User.ID, true, "spam")
		if err != nil || !u.Flagged || !e.userNow(alice.User.ID).Flagged {
			t.Fatalf("flag: %+v %v", u, err)
		}
		if _, err := e.h.SetFlagged(e.ctx, mod, 9999, true, ""); !horde.IsKind(err, horde.KindNotFound) {
			t.Fatalf("flag unknown user: err %v, want KindNotFound", err)
		}
		if u, err = e.h.SetFlagged(e.ctx, mod, alice.User.ID, false, ""); err != nil || u.Flagged || e.userNow(alice.User.ID).Flagged {
			t.Fatalf("unflag: %+v %v", u, err)
		}
	})

	t.Run("kudos adjustment is idempotent", func(t *testing.T) {
		before := e.balance(alice.User.ID)
		for i := range 2 {
			applied, err := e.h.AdjustKudos(e.ctx, mod, alice.User.ID, -25, "refund abuse", "interaction-1")
			if err != nil || applied != (i == 0) {
				t.Fatalf("adjust #%d: applied %v err %v", i+1, applied, err)
			}
		}
		if got := e.balance(alice.User.ID); got != before-25 {
			t.Fatalf("balance %d, want %d", got, before-25)
		}
		hist, err := e.st.History(e.ctx, alice.User.ID, 1)
		if err != nil || len(hist) != 1 || hist[0].Kind != kudos.KindAdmin || hist[0].ActorID != mod.ID || hist[0].Reason != "refund abuse" {
			t.Fatalf("history %+v %v", hist, err)
		}
		if _, err := e.h.AdjustKudos(e.ctx, mod, alice.User.ID, 0, "", "interaction-2"); !horde.IsKind(err, horde.KindInvalid) {
			t.Fatalf("zero adjustment: err %v, want KindInvalid", err)
		}
		if _, err := e.h.AdjustKudos(e.ctx, mod, 9999, 5, "", "interaction-3"); !horde.IsKind(err, horde.KindNotFound) {
			t.Fatalf("adjust unknown user: err %v, want KindNotFound", err)
		}
		if ms, err := e.st.Verify(e.ctx); err != nil || len(ms) != 0 {
			t.Fatalf("verify: %v %v", ms, err)
		}
	})

	t.Run("a paused worker gets no jobs and earns nothing", func(t *testing.T) {
		// One job popped before the pause, one request waiting after it.
		e.submit(alice, imageRequest("first", "sd15"))
		inFlight := e.popOne(worker, imagePop("rig", "sd15"))
		e.submit(alice, imageRequest("second", "sd15"))
		w, err := e.h.PauseWorker(e.ctx, mod, rig.ID, true, "checking it")
		if err != nil || !w.Paused {
			t.Fatalf("pause: %+v %v", w, err)
		}
		if as, _ := e.pop(worker, imagePop("rig", "sd15")); len(as) != 0 {
			t.Fatalf("a paused worker got %d jobs", len(as))
		}
		before := e.balance(worker.User.ID)
		if reward := e.submitOK(worker, inFlight.Job.ID); reward != 0 || e.balance(worker.User.ID) != before {
			t.Fatalf("paused worker earned %d (balance %d -> %d)", reward, before, e.balance(worker.User.ID))
		}
		if _, err := e.h.PauseWorker(e.ctx, mod, rig.ID, false, ""); err != nil {
			t.Fatal(err)
		}
		if as, _ := e.pop(worker, imagePop("rig", "sd15")); len(as) != 1 {
			t.Fatalf("an unpaused worker got %d jobs, want 1", len(as))
		}
	})

	t.Run("status", func(t *testing.T) {
		st, err := e.h.ModerationStatus(e.ctx, mod, worker.User.ID)
		if err != nil || len(st.Workers) != 1 || st.Workers[0].Worker.Name != "rig" || st.Kudos != e.balance(worker.User.ID) {
			t.Fatalf("status %+v %v", st, err)
		}
	})
}

func TestFilterRefusalsAreStrikes(t *testing.T) {
	f, err := horde.NewFilter(horde.FilterLists{Minors: assets.FilterMinors, Sexual: assets.FilterSexual, NSFW: assets.FilterNSFW, Negative: assets.FilterNegative}, horde.FilterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var passedOn int
	e, rec := newModEnv(t, horde.Config{
		Filter:     f,
		Moderation: horde.ModerationConfig{RefusedThreshold: 2},
		OnRefused:  func(context.Context, horde.User, string, horde.Verdict) { passedOn++ },
	})
	alice := e.user("alice", 100)
	for i := 1; i <= 2; i++ {
		alice.User = e.userNow(alice.User.ID)
		if _, _, err := e.h.Submit(e.ctx, alice.User, imageRequest(fmt.Sprintf("n u d e study %d", i), "sd15")); !horde.IsKind(err, horde.KindForbidden) {
			t.Fatalf("refused prompt #%d: err %v, want KindForbidden", i, err)
		}
	}
	refused := rec.of(horde.EventRefused)
	if len(refused) != 2 || refused[1].Prompt != "n u d e study 2" || refused[1].Count != 2 || refused[1].User.ID != alice.User.ID {
		t.Fatalf("refusal events %+v", refused)
	}
	if !e.userNow(alice.User.ID).Flagged || len(rec.of(horde.EventFlagged)) != 1 {
		t.Fatalf("after 2 refusals: flagged %v, %d flag events", e.userNow(alice.User.ID).Flagged, len(rec.of(horde.EventFlagged)))
	}
	if passedOn != 2 {
		t.Fatalf("the configured OnRefused heard %d refusals, want 2", passedOn)
	}
	// An allowed prompt is no strike.
	bob := e.user("bob", 100)
	e.submit(bob, imageRequest("a quiet harbour", "sd15"))
	if got, _ := e.st.Strikes(e.ctx, bob.User.ID); len(got) != 0 {
		t.Fatalf("strikes for an allowed prompt: %v", got)
	}
}

package horde_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/errs"
	"github.com/hordebot/hordebot/horde/filter"
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

// report submits a request of requester, pops it as rig of worker (with
// priority_usernames, if any) and submits state for it.
func (e *env) report(requester, worker horde.Credential, rig, state string, priority ...string) {
	e.tb.Helper()
	e.submit(requester, imageRequest("a lighthouse", "sd15"))
	p := imagePop(rig, "sd15")
	p.PriorityUsernames = priority
	a := e.popOne(worker, p)
	if a.Request.UserID != requester.User.ID {
		e.tb.Fatalf("%s popped a request of user %d, want %d's", rig, a.Request.UserID, requester.User.ID)
	}
	if _, err := e.h.SubmitResult(e.ctx, worker, horde.Submission{JobID: a.Job.ID, State: state, Image: []byte("RIFF....WEBPfake")}); err != nil {
		e.tb.Fatalf("submit %s result: %v", state, err)
	}
}

// TestFlagByProxy is the attack of issue 9: a worker owner names a victim
// in priority_usernames, pulls the victim's requests and submits state csam
// three times. It used to flag the victim (and pay the attacker). Now a
// worker's report flags no one unless reports come from ReportersToFlag (2)
// distinct trusted owners; every report still reaches the moderators and
// is on record for /mod info.
func TestFlagByProxy(t *testing.T) {
	e, rec := newModEnv(t, horde.Config{})
	victim := e.user("victim", 10)
	attacker := e.user("attacker", 0)
	bystander := e.user("bystander", 5000)
	for range 3 {
		e.report(victim, attacker, "rig", horde.ResultCSAM, victim.User.Username())
	}
	if e.userNow(victim.User.ID).Flagged || len(rec.of(horde.EventFlagged)) != 0 {
		t.Fatal("one untrusted owner's three csam reports flagged the victim")
	}
	if got, _ := e.st.Strikes(e.ctx, victim.User.ID); len(got) != 0 {
		t.Fatalf("untrusted reports counted as strikes: %v", got)
	}
	reports := rec.of(horde.EventReported)
	if len(reports) != 3 {
		t.Fatalf("%d report events, want one per report (3)", len(reports))
	}
	last := reports[2]
	if last.Counted || last.User.ID != victim.User.ID || last.Reporter.ID != attacker.User.ID || last.WorkerName != "rig" ||
		last.Strike != horde.StrikeCSAM || last.Prompt != "a lighthouse" || last.Tally.Reports != 3 || last.Tally.TrustedReports != 0 {
		t.Fatalf("last report event %+v", last)
	}
	st, err := e.h.ModerationStatus(e.ctx, e.moderator("mod"), victim.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Reports[horde.StrikeCSAM]; got.Reports != 3 || got.Owners != 1 || got.TrustedOwners != 0 {
		t.Fatalf("moderators see reports %+v, want 3 from 1 untrusted owner", got)
	}
	if _, _, err := e.h.Submit(e.ctx, e.userNow(victim.User.ID), imageRequest("still welcome", "sd15")); err != nil {
		t.Fatalf("the victim can no longer request: %v", err)
	}

	// An untrusted worker's priority_usernames are ignored: the richer
	// bystander's request comes first, not the named victim's.
	e.submit(victim, imageRequest("victim's", "sd15"))
	e.clock.Advance(time.Second)
	want := e.submit(bystander, imageRequest("bystander's", "sd15"))
	p := imagePop("rig", "sd15")
	p.PriorityUsernames = []string{victim.User.Username()}
	if a := e.popOne(attacker, p); a.Request.ID != want.ID {
		t.Fatalf("the untrusted worker's priority_usernames pulled request %s of user %d", a.Request.ID, a.Request.UserID)
	}
}

// TestReportsFlagOnlyFromDistinctTrustedOwners: which reports flag a user.
func TestReportsFlagOnlyFromDistinctTrustedOwners(t *testing.T) {
	type by struct {
		owner   string // who reports: a key of the owners below
		workers int    // through how many workers of theirs, one report each
	}
	tests := []struct {
		name    string
		state   string
		reports []by
		flagged bool
		counted int64 // strikes on record afterwards
	}{
		{name: "several workers of one untrusted owner never flag", state: horde.ResultCSAM,
			reports: []by{{"untrusted", 3}}},
		{name: "several workers of one trusted owner never flag", state: horde.ResultCSAM,
			reports: []by{{"trusted-a", 3}}, counted: 3},
		{name: "untrusted owners add nothing to one trusted owner", state: horde.ResultCSAM,
			reports: []by{{"trusted-a", 2}, {"untrusted", 3}, {"untrusted-2", 1}}, counted: 2},
		{name: "a trusted owner's report of their own request does not count", state: horde.ResultCSAM,
			reports: []by{{"trusted-a", 2}, {"requester", 2}}, counted: 2},
		{name: "two distinct trusted owners flag at the threshold", state: horde.ResultCSAM,
			reports: []by{{"trusted-a", 2}, {"trusted-b", 1}}, flagged: true, counted: 3},
		{name: "censored results follow the same rule", state: horde.ResultCensored,
			reports: []by{{"trusted-a", 1}, {"trusted-b", 1}, {"untrusted", 1}, {"trusted-b", 1}}, flagged: true, counted: 3},
		{name: "censored results of one trusted owner never flag", state: horde.ResultCensored,
			reports: []by{{"trusted-a", 3}}, counted: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, rec := newModEnv(t, horde.Config{Moderation: horde.ModerationConfig{CSAMThreshold: 3, CensoredThreshold: 3}})
			requester := e.trustedUser("requester", 1000)
			owners := map[string]horde.Credential{
				"requester":   requester,
				"untrusted":   e.user("untrusted", 0),
				"untrusted-2": e.user("untrusted-2", 0),
				"trusted-a":   e.trustedUser("trusted-a", 0),
				"trusted-b":   e.trustedUser("trusted-b", 0),
			}
			total := 0
			for _, r := range tt.reports {
				for w := range r.workers {
					requester.User = e.userNow(requester.User.ID)
					if requester.User.Flagged {
						t.Fatalf("flagged after %d reports", total)
					}
					e.report(requester, owners[r.owner], fmt.Sprintf("%s-rig-%d", r.owner, w), tt.state)
					total++
				}
			}
			if got := e.userNow(requester.User.ID).Flagged; got != tt.flagged {
				t.Fatalf("flagged = %v, want %v", got, tt.flagged)
			}
			if got := len(rec.of(horde.EventFlagged)); got != map[bool]int{true: 1}[tt.flagged] {
				t.Fatalf("%d flag events", got)
			}
			if got := len(rec.of(horde.EventReported)); got != total {
				t.Fatalf("%d report events, want every one of the %d reports", got, total)
			}
			kind := map[string]horde.StrikeKind{horde.ResultCSAM: horde.StrikeCSAM, horde.ResultCensored: horde.StrikeCensored}[tt.state]
			strikes, err := e.st.Strikes(e.ctx, requester.User.ID)
			if err != nil || strikes[kind] != tt.counted {
				t.Fatalf("strikes %v (%v), want %d %s", strikes, err, tt.counted, kind)
			}
			// No worker owner is ever blamed for the requester's results.
			for name, c := range owners {
				if name != "requester" && e.userNow(c.User.ID).Flagged {
					t.Fatalf("owner %s was flagged", name)
				}
			}
		})
	}
}

// TestUnflagStartsReportsOver: after a moderator unflags a user, earlier
// reports no longer count toward a new flag (they stay on record).
func TestUnflagStartsReportsOver(t *testing.T) {
	e, _ := newModEnv(t, horde.Config{Moderation: horde.ModerationConfig{CSAMThreshold: 2}})
	alice := e.user("alice", 1000)
	a, b := e.trustedUser("a", 0), e.trustedUser("b", 0)
	e.report(alice, a, "rig-a", horde.ResultCSAM)
	e.report(alice, b, "rig-b", horde.ResultCSAM)
	if !e.userNow(alice.User.ID).Flagged {
		t.Fatal("two distinct trusted owners' reports at the threshold did not flag")
	}
	mod := e.moderator("mod")
	if _, err := e.h.SetFlagged(e.ctx, mod, alice.User.ID, false, "reviewed: false positive"); err != nil {
		t.Fatal(err)
	}
	alice.User = e.userNow(alice.User.ID)
	e.report(alice, a, "rig-a", horde.ResultCSAM)
	if e.userNow(alice.User.ID).Flagged {
		t.Fatal("flagged again by one report after an unflag")
	}
	st, err := e.h.ModerationStatus(e.ctx, mod, alice.User.ID)
	if err != nil || st.Reports[horde.StrikeCSAM].Reports != 1 {
		t.Fatalf("reports since the unflag %+v (%v), want 1", st.Reports, err)
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
	f, err := filter.New(filter.Lists{Minors: assets.FilterMinors, Sexual: assets.FilterSexual, NSFW: assets.FilterNSFW, Negative: assets.FilterNegative}, filter.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var passedOn int
	e, rec := newModEnv(t, horde.Config{
		Filter:     f,
		Moderation: horde.ModerationConfig{RefusedThreshold: 2},
		OnRefused:  func(context.Context, horde.User, string, filter.Verdict) { passedOn++ },
	})
	alice := e.user("alice", 100)
	for i := 1; i <= 2; i++ {
		alice.User = e.userNow(alice.User.ID)
		if _, _, err := e.h.Submit(e.ctx, alice.User, imageRequest(fmt.Sprintf("n u d e study %d", i), "sd15")); errs.CodeOf(err) != horde.CodeCorruptPrompt {
			t.Fatalf("refused prompt #%d: err %v, want CorruptPrompt", i, err)
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

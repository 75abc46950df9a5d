package horde_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/errs"
)

// TestSharedAlchemyAcrossProcesses: on PostgreSQL an interrogation asked
// on A is popped on B, submitted on C and shown done on A, with its kudos
// moved once; the process that popped it going away loses nothing.
func TestSharedAlchemyAcrossProcesses(t *testing.T) {
	a := newSharedEnv(t, horde.Config{})
	b, c := a.peer(), a.peer()
	req, owner := a.user("req", 100), a.user("owner", 0)

	in := a.interrogate(req, interrogation(512, 512, true, horde.FormCaption))
	if _, held := c.h.Held(c.ctx, req.User.ID); held != 3 {
		t.Errorf("held on C of the interrogation asked on A = %d, want 3", held)
	}
	as := b.popForms(owner, alchemist("alch", horde.FormCaption))
	if len(as) != 1 || as[0].Form.InterrogationID != in.ID {
		t.Fatalf("B popped %+v, want the caption asked on A", as)
	}
	if more := a.popForms(owner, alchemist("alch", horde.FormCaption)); len(more) != 0 {
		t.Fatalf("A handed out form %s, popped on B already", more[0].Form.ID)
	}
	if got := a.formStates(in.ID); got != "processing: caption=processing" {
		t.Errorf("status on A = %q, want the caption processing", got)
	}
	if err := b.st.Close(); err != nil { // B goes away with the form popped
		t.Fatal(err)
	}
	reward, err := c.h.SubmitAlchemy(c.ctx, owner, horde.AlchemySubmission{FormID: as[0].Form.ID, Result: `{"caption":"a red square"}`})
	if err != nil || reward != 1 {
		t.Fatalf("submit on C of the form popped on B: reward %d, %v; want 1", reward, err)
	}
	if got := a.formStates(in.ID); got != "done: caption=done" {
		t.Errorf("status on A after the submit on C = %q, want done", got)
	}
	_, err = a.h.SubmitAlchemy(a.ctx, owner, horde.AlchemySubmission{FormID: as[0].Form.ID, Result: `{"caption":"again"}`})
	if errs.CodeOf(err) != "DuplicateGen" {
		t.Errorf("second submit on A: %v, want DuplicateGen", err)
	}
	if b, o := a.balance(req.User.ID), a.balance(owner.User.ID); b != 97 || o != 1 {
		t.Errorf("balances after one caption: requester %d owner %d, want 97 and 1 (paid once)", b, o)
	}
	if _, held := a.h.Held(a.ctx, req.User.ID); held != 0 {
		t.Errorf("held after done = %d, want 0", held)
	}

	// A cancel on C of an interrogation asked on A ends it for A too.
	other := a.interrogate(req, interrogation(512, 512, true, horde.FormNSFW))
	if out, err := c.h.CancelInterrogation(c.ctx, other.ID); err != nil || out.State() != horde.InterrogationFaulted && out.State() != horde.InterrogationPartial {
		t.Fatalf("cancel on C: %v, state %q", err, out.State())
	}
	if got := a.formStates(other.ID); got != "partial: nsfw=cancelled" {
		t.Errorf("status on A after the cancel on C = %q", got)
	}
	if as := a.popForms(owner, alchemist("alch", horde.FormNSFW)); len(as) != 0 {
		t.Errorf("A handed out form %s of an interrogation cancelled on C", as[0].Form.ID)
	}
}

// TestSharedAlchemyOwnerFirstAndOrder: a shared pop takes its owner's forms
// first, then the others by the requester's kudos, as one process does.
func TestSharedAlchemyOwnerFirstAndOrder(t *testing.T) {
	a := newSharedEnv(t, horde.Config{})
	b := a.peer()
	poor, rich, owner := a.user("poor", 10), a.user("rich", 5000), a.user("owner", 10)
	first := a.interrogate(poor, interrogation(512, 512, true, horde.FormCaption))
	a.clock.Advance(time.Second)
	second := b.interrogate(rich, interrogation(512, 512, true, horde.FormCaption))
	own := b.interrogate(owner, interrogation(512, 512, true, horde.FormCaption))
	as := b.popForms(owner, horde.AlchemyPop{Name: "alch", Forms: []string{horde.FormCaption}, Amount: 3})
	var got []string
	for _, x := range as {
		got = append(got, x.Form.InterrogationID)
	}
	want := []string{own.ID, second.ID, first.ID}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("popped %v, want the owner's, then the rich one's, then the poor one's: %v", got, want)
	}
}

// TestSharedAlchemyNoFormServedTwice: alchemists popping on three processes
// at once never get one form twice, and every form ends done.
func TestSharedAlchemyNoFormServedTwice(t *testing.T) {
	const interrogations, alchemists = 60, 6
	a := newSharedEnv(t, horde.Config{Concurrency: 100})
	hordes := []*env{a, a.peer(), a.peer()}
	req := a.user("req", 100000)
	var ids []string
	for i := range interrogations {
		in := hordes[i%3].interrogate(req, interrogation(512, 512, true, horde.FormCaption, horde.FormNSFW))
		ids = append(ids, in.ID)
	}
	var (
		mu     sync.Mutex
		served = map[string]string{} // form -> alchemist
		wg     sync.WaitGroup
		errc   = make(chan error, alchemists)
	)
	for w := range alchemists {
		owner := a.user(fmt.Sprintf("owner%d", w), 0)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				pe, se := hordes[(w+i)%3], hordes[(w+i+1)%3] // pop on one, submit on another
				p := horde.AlchemyPop{Name: fmt.Sprintf("alch%d", w), Forms: []string{horde.FormCaption, horde.FormNSFW}, Amount: 2}
				as, _, err := pe.h.PopAlchemy(pe.ctx, owner, p)
				if err != nil {
					errc <- fmt.Errorf("alchemist %d pop: %w", w, err)
					return
				}
				if len(as) == 0 {
					if n, err := pe.h.QueuedForms(pe.ctx); err != nil || n == 0 {
						return // nothing left (or a failure the statuses below show)
					}
					continue
				}
				for _, x := range as {
					mu.Lock()
					prev, dup := served[x.Form.ID]
					served[x.Form.ID] = p.Name
					mu.Unlock()
					if dup {
						errc <- fmt.Errorf("form %s handed to %s and %s", x.Form.ID, prev, p.Name)
						return
					}
					result := `{"caption":"a thing"}`
					if x.Form.Name == horde.FormNSFW {
						result = `{"nsfw":false}`
					}
					if _, err := se.h.SubmitAlchemy(se.ctx, owner, horde.AlchemySubmission{FormID: x.Form.ID, Result: result}); err != nil {
						errc <- fmt.Errorf("submit %s: %w", x.Form.ID, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Error(err)
	}
	if len(served) != 2*interrogations {
		t.Errorf("%d forms served, want %d", len(served), 2*interrogations)
	}
	for i, id := range ids {
		if got := hordes[i%3].formStates(id); got != "done: caption=done nsfw=done" {
			t.Errorf("interrogation %s: %q, want both forms done", id, got)
		}
	}
	if b := a.balance(req.User.ID); b != 100000-int64(interrogations)*6 {
		t.Errorf("requester balance %d, want %d: each form charged once", b, 100000-interrogations*6)
	}
}

// TestSharedAlchemySweep: the TTL aborts and the expiry of forms are
// SweepShared's, run by one process for all: a local sweep leaves them
// alone, a shared sweep on any process ends them once.
func TestSharedAlchemySweep(t *testing.T) {
	a := newSharedEnv(t, horde.Config{})
	b := a.peer()
	req, owner := a.user("req", 100), a.user("owner", 0)
	popped := a.interrogate(req, interrogation(512, 512, true, horde.FormCaption))
	as := a.popForms(owner, alchemist("alch", horde.FormCaption))
	lonely := a.interrogate(req, interrogation(512, 512, true, horde.FormNSFW))

	a.clock.Advance(horde.ExpireAfter + time.Second) // past the form's TTL too
	for _, e := range []*env{a, b} {
		if err := e.h.SweepLocal(e.ctx); err != nil {
			t.Fatalf("local sweep: %v", err)
		}
	}
	if got := b.formStates(popped.ID); got != "processing: caption=processing" {
		t.Fatalf("after the local sweeps: %q, want the caption still processing", got)
	}
	if got := b.formStates(lonely.ID); got != "waiting: nsfw=waiting" {
		t.Fatalf("after the local sweeps: %q, want the nsfw form still waiting", got)
	}
	if err := b.h.SweepShared(b.ctx); err != nil {
		t.Fatalf("shared sweep on B: %v", err)
	}
	if got := a.formStates(popped.ID); got != "waiting: caption=waiting" {
		t.Errorf("after B's shared sweep: %q, want the caption popped on A waiting again", got)
	}
	if got := a.formStates(lonely.ID); got != "faulted: nsfw=faulted" {
		t.Errorf("after B's shared sweep: %q, want the unpopped interrogation expired", got)
	}
	if err := a.h.SweepShared(a.ctx); err != nil {
		t.Fatalf("shared sweep on A after B's: %v", err)
	}
	f, err := a.st.AlchemyForm(a.ctx, as[0].Form.ID)
	if err != nil || f.Aborts != 1 {
		t.Errorf("form after two shared sweeps: aborts %d, %v; want aborted once", f.Aborts, err)
	}
	_, err = a.h.SubmitAlchemy(a.ctx, owner, horde.AlchemySubmission{FormID: as[0].Form.ID, Result: `{"caption":"late"}`})
	if !horde.IsKind(err, horde.KindConflict) {
		t.Errorf("late submit of the aborted form: %v, want a conflict", err)
	}
	if _, held := a.h.Held(a.ctx, req.User.ID); held != 3 {
		t.Errorf("held = %d, want 3 (the caption waiting again)", held)
	}
}

// TestAlchemyPopPassesOverManyForms: a pop walks past more forms it may not
// take than one read of the queue holds (40 trusted-only interrogations for
// an untrusted alchemist) and takes the next ones in order, counting the
// skips, on either engine.
func TestAlchemyPopPassesOverManyForms(t *testing.T) {
	e := newEnv(t, horde.Config{Concurrency: 100})
	req, owner := e.user("req", 1000), e.user("owner", 0)
	trusted := interrogation(512, 512, true, horde.FormCaption)
	trusted.TrustedWorkers = true
	for range 40 {
		e.interrogate(req, trusted)
		e.clock.Advance(time.Millisecond)
	}
	first := e.interrogate(req, interrogation(512, 512, true, horde.FormCaption))
	e.clock.Advance(time.Millisecond)
	second := e.interrogate(req, interrogation(512, 512, true, horde.FormCaption))
	p := alchemist("alch", horde.FormCaption)
	p.Amount = 2
	as, skipped, err := e.h.PopAlchemy(e.ctx, owner, p)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, x := range as {
		got = append(got, x.Form.InterrogationID)
	}
	if want := []string{first.ID, second.ID}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("popped %v, want the two open to anyone, in order: %v", got, want)
	}
	if skipped[horde.SkipUntrusted] != 40 {
		t.Errorf("skipped %v, want 40 untrusted", skipped)
	}
}

package horde_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/errs"
	"github.com/hordebot/hordebot/store/storetest"
)

func interrogation(w, h int, slow bool, forms ...string) horde.NewInterrogation {
	ni := horde.NewInterrogation{Source: []byte("source image bytes"), Width: w, Height: h, SlowWorkers: slow}
	for _, f := range forms {
		ni.Forms = append(ni.Forms, horde.NewForm{Name: f})
	}
	return ni
}

func alchemist(name string, forms ...string) horde.AlchemyPop {
	return horde.AlchemyPop{Name: name, Forms: forms, Amount: 1, MaxTiles: 64}
}

func (e *env) interrogate(c horde.Credential, ni horde.NewInterrogation) horde.Interrogation {
	e.tb.Helper()
	in, err := e.h.Interrogate(e.ctx, c.User, ni)
	if err != nil {
		e.tb.Fatalf("interrogate: %v", err)
	}
	return in
}

func (e *env) popForms(c horde.Credential, p horde.AlchemyPop) []horde.AlchemyAssignment {
	e.tb.Helper()
	as, _, err := e.h.PopAlchemy(e.ctx, c, p)
	if err != nil {
		e.tb.Fatalf("pop forms as %s: %v", p.Name, err)
	}
	return as
}

func (e *env) formStates(id string) string {
	e.tb.Helper()
	in, err := e.h.InterrogationStatus(e.ctx, id)
	if err != nil {
		e.tb.Fatalf("status of %s: %v", id, err)
	}
	var parts []string
	for _, f := range in.Forms {
		parts = append(parts, f.Name+"="+string(f.State))
	}
	return in.State() + ": " + strings.Join(parts, " ")
}

// TestAlchemyKudos: what each form earns its alchemist and costs its
// requester, as the AI Horde pays and charges.
func TestAlchemyKudos(t *testing.T) {
	cases := []struct {
		name          string
		form          string
		w, h          int
		slow          bool
		reward, price int64
		result        string
	}{
		{"caption", horde.FormCaption, 512, 512, true, 1, 3, `{"caption":"a red square"}`},
		{"caption refusing slow workers", horde.FormCaption, 512, 512, false, 1, 2, `{"caption":"a red square"}`},
		{"nsfw", horde.FormNSFW, 512, 512, true, 1, 3, `{"nsfw":false}`},
		{"interrogation", horde.FormInterrogation, 512, 512, true, 3, 5, `{"interrogation":{"tags":[{"text":"red","confidence":0.9}]}}`},
		{"upscale of 4 tiles", "RealESRGAN_x4plus", 1024, 1024, true, 12, 14, ""},
		{"face fix of 6 tiles", "GFPGAN", 1024, 1536, false, 18, 19, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, horde.Config{})
			req := e.user("req", 100)
			owner := e.user("owner", 0)
			in := e.interrogate(req, interrogation(tc.w, tc.h, tc.slow, tc.form))
			if got := in.Forms[0].Cost; got != tc.price {
				t.Errorf("cost = %d, want %d", got, tc.price)
			}
			if _, held := e.h.Held(e.ctx, req.User.ID); held != tc.price {
				t.Errorf("held = %d, want %d", held, tc.price)
			}
			as := e.popForms(owner, alchemist("alch", tc.form))
			if len(as) != 1 {
				t.Fatalf("popped %d forms, want 1", len(as))
			}
			s := horde.AlchemySubmission{FormID: as[0].Form.ID, Result: tc.result}
			if horde.ImageForm(tc.form) {
				s.Image = []byte("an image")
			}
			reward, err := e.h.SubmitAlchemy(e.ctx, owner, s)
			if err != nil {
				t.Fatalf("submit: %v", err)
			}
			if reward != tc.reward {
				t.Errorf("reward = %d, want %d", reward, tc.reward)
			}
			if b := e.balance(req.User.ID); b != 100-tc.price {
				t.Errorf("requester balance = %d, want %d", b, 100-tc.price)
			}
			if b := e.balance(owner.User.ID); b != tc.reward {
				t.Errorf("owner balance = %d, want %d", b, tc.reward)
			}
			if _, held := e.h.Held(e.ctx, req.User.ID); held != 0 {
				t.Errorf("held after done = %d, want 0", held)
			}
			if got := e.formStates(in.ID); got != "done: "+tc.form+"=done" {
				t.Errorf("status = %q", got)
			}
		})
	}
}

// TestAlchemyRefusals: what a request or a submit is refused with.
func TestAlchemyRefusals(t *testing.T) {
	e := newEnv(t, horde.Config{Concurrency: 1})
	req := e.user("req", 10)
	cases := []struct {
		name string
		ni   horde.NewInterrogation
		code string
	}{
		{"unknown form", interrogation(512, 512, true, "vectorize"), "UnsupportedForm"},
		{"no form", interrogation(512, 512, true), "ValidationError"},
		{"too many tiles", interrogation(8192, 8192, true, horde.FormCaption), "SourceImageResolutionExceeded"},
		{"no image", horde.NewInterrogation{Forms: []horde.NewForm{{Name: horde.FormCaption}}, Width: 1, Height: 1}, "ValidationError"},
		{"more than the balance covers", interrogation(4096, 2048, true, "RealESRGAN_x4plus", "GFPGAN", "CodeFormers"), "KudosUpfront"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.h.Interrogate(e.ctx, req.User, tc.ni)
			if got := errs.CodeOf(err); got != tc.code {
				t.Errorf("code = %q (%v), want %q", got, err, tc.code)
			}
		})
	}
	t.Run("more forms than the alchemy concurrency", func(t *testing.T) {
		many := interrogation(512, 512, false, horde.FormCaption, horde.FormNSFW)
		for range 5 {
			e.interrogate(req, many) // 10 forms: concurrency 1 times 10
		}
		_, err := e.h.Interrogate(e.ctx, req.User, interrogation(512, 512, false, horde.FormCaption))
		if got := errs.CodeOf(err); got != "TooManyPrompts" {
			t.Errorf("code = %q (%v), want TooManyPrompts", got, err)
		}
	})
}

// TestAlchemyLifecycle follows forms through pops, faults, TTL aborts,
// cancel, expiry and a restart.
func TestAlchemyLifecycle(t *testing.T) {
	t.Run("an alchemist pops only the forms it offers, its owner's first", func(t *testing.T) {
		e := newEnv(t, horde.Config{})
		req, owner := e.user("req", 100), e.user("owner", 0)
		other := e.interrogate(req, interrogation(512, 512, true, horde.FormCaption, horde.FormNSFW, "RealESRGAN_x2plus"))
		e.clock.Advance(time.Second)
		own := e.interrogate(owner, interrogation(512, 512, true, horde.FormNSFW))
		as := e.popForms(owner, horde.AlchemyPop{Name: "alch", Forms: []string{horde.FormNSFW, "4xNomos8kSC"}, Amount: 5})
		if len(as) != 2 || as[0].Form.InterrogationID != own.ID || as[1].Form.InterrogationID != other.ID {
			t.Fatalf("popped %+v, want the owner's nsfw then the other nsfw", as)
		}
		if got := e.formStates(other.ID); got != "processing: caption=waiting nsfw=processing RealESRGAN_x2plus=waiting" {
			t.Errorf("status = %q", got)
		}
	})
	t.Run("a trusted-only request skips an untrusted alchemist", func(t *testing.T) {
		e := newEnv(t, horde.Config{})
		req, owner := e.user("req", 100), e.user("owner", 0)
		ni := interrogation(512, 512, true, horde.FormCaption)
		ni.TrustedWorkers = true
		e.interrogate(req, ni)
		as, sk, err := e.h.PopAlchemy(e.ctx, owner, alchemist("alch", horde.FormCaption))
		if err != nil || len(as) != 0 || sk[horde.SkipUntrusted] != 1 {
			t.Fatalf("pop = %v, skipped %v, %v; want nothing, 1 untrusted", as, sk, err)
		}
	})
	t.Run("a large source skips an alchemist with fewer max_tiles", func(t *testing.T) {
		e := newEnv(t, horde.Config{})
		req, owner := e.user("req", 100), e.user("owner", 0)
		e.interrogate(req, interrogation(2048, 2048, true, horde.FormCaption)) // 16 tiles
		p := alchemist("alch", horde.FormCaption)
		p.MaxTiles = 8
		if as := e.popForms(owner, p); len(as) != 0 {
			t.Fatalf("popped %d forms with max_tiles 8, want none", len(as))
		}
		p.MaxTiles = 16
		if as := e.popForms(owner, p); len(as) != 1 {
			t.Fatalf("popped %d forms with max_tiles 16, want 1", len(as))
		}
	})
	t.Run("faulted results requeue, the fourth faults the form and charges nothing", func(t *testing.T) {
		e := newEnv(t, horde.Config{DropsForMaintenance: 100})
		req, owner := e.user("req", 100), e.user("owner", 0)
		in := e.interrogate(req, interrogation(512, 512, true, horde.FormCaption))
		for i := 0; i < 4; i++ {
			as := e.popForms(owner, alchemist("alch", horde.FormCaption))
			if len(as) != 1 {
				t.Fatalf("attempt %d: popped %d", i, len(as))
			}
			if _, err := e.h.SubmitAlchemy(e.ctx, owner, horde.AlchemySubmission{FormID: as[0].Form.ID, State: horde.ResultFaulted}); err != nil {
				t.Fatalf("attempt %d: submit faulted: %v", i, err)
			}
		}
		if got := e.formStates(in.ID); got != "faulted: caption=faulted" {
			t.Errorf("status = %q", got)
		}
		if b := e.balance(req.User.ID); b != 100 {
			t.Errorf("requester balance = %d, want 100", b)
		}
		if _, held := e.h.Held(e.ctx, req.User.ID); held != 0 {
			t.Errorf("held = %d, want 0", held)
		}
	})
	t.Run("a form past its TTL waits again and its late submit is refused", func(t *testing.T) {
		e := newEnv(t, horde.Config{})
		req, owner := e.user("req", 100), e.user("owner", 0)
		in := e.interrogate(req, interrogation(512, 512, true, horde.FormCaption))
		as := e.popForms(owner, alchemist("alch", horde.FormCaption))
		e.clock.Advance(horde.AlchemyFormTTL + time.Second)
		if err := e.h.Sweep(e.ctx); err != nil {
			t.Fatalf("sweep: %v", err)
		}
		if got := e.formStates(in.ID); got != "waiting: caption=waiting" {
			t.Errorf("status = %q", got)
		}
		_, err := e.h.SubmitAlchemy(e.ctx, owner, horde.AlchemySubmission{FormID: as[0].Form.ID, Result: `{"caption":"late"}`})
		if !horde.IsKind(err, horde.KindConflict) {
			t.Errorf("late submit: %v, want a conflict", err)
		}
	})
	t.Run("a second submit is a duplicate", func(t *testing.T) {
		e := newEnv(t, horde.Config{})
		req, owner := e.user("req", 100), e.user("owner", 0)
		e.interrogate(req, interrogation(512, 512, true, horde.FormCaption))
		as := e.popForms(owner, alchemist("alch", horde.FormCaption))
		s := horde.AlchemySubmission{FormID: as[0].Form.ID, Result: `{"caption":"a cat"}`}
		if _, err := e.h.SubmitAlchemy(e.ctx, owner, s); err != nil {
			t.Fatalf("submit: %v", err)
		}
		if _, err := e.h.SubmitAlchemy(e.ctx, owner, s); errs.CodeOf(err) != "DuplicateGen" {
			t.Errorf("second submit: %v, want DuplicateGen", err)
		}
	})
	t.Run("a result without the form's key is refused and the form stays processing", func(t *testing.T) {
		e := newEnv(t, horde.Config{})
		req, owner := e.user("req", 100), e.user("owner", 0)
		in := e.interrogate(req, interrogation(512, 512, true, horde.FormCaption))
		as := e.popForms(owner, alchemist("alch", horde.FormCaption))
		_, err := e.h.SubmitAlchemy(e.ctx, owner, horde.AlchemySubmission{FormID: as[0].Form.ID, Result: `{"nsfw":true}`})
		if !horde.IsKind(err, horde.KindInvalid) {
			t.Errorf("submit: %v, want invalid", err)
		}
		if got := e.formStates(in.ID); got != "processing: caption=processing" {
			t.Errorf("status = %q", got)
		}
	})
	t.Run("cancel ends open forms, keeps done ones and releases the hold", func(t *testing.T) {
		e := newEnv(t, horde.Config{})
		req, owner := e.user("req", 100), e.user("owner", 0)
		in := e.interrogate(req, interrogation(512, 512, true, horde.FormCaption, horde.FormNSFW, horde.FormInterrogation))
		as := e.popForms(owner, horde.AlchemyPop{Name: "alch", Forms: []string{horde.FormCaption, horde.FormNSFW}, Amount: 2})
		if _, err := e.h.SubmitAlchemy(e.ctx, owner, horde.AlchemySubmission{FormID: as[0].Form.ID, Result: `{"caption":"a cat"}`}); err != nil {
			t.Fatalf("submit: %v", err)
		}
		out, err := e.h.CancelInterrogation(e.ctx, in.ID)
		if err != nil {
			t.Fatalf("cancel: %v", err)
		}
		if out.State() != horde.InterrogationPartial {
			t.Errorf("state after cancel = %q, want partial", out.State())
		}
		if got := e.formStates(in.ID); got != "partial: caption=done nsfw=cancelled interrogation=cancelled" {
			t.Errorf("status = %q", got)
		}
		if _, held := e.h.Held(e.ctx, req.User.ID); held != 0 {
			t.Errorf("held = %d, want 0", held)
		}
		if _, err := e.h.SubmitAlchemy(e.ctx, owner, horde.AlchemySubmission{FormID: as[1].Form.ID, Result: `{"nsfw":true}`}); !horde.IsKind(err, horde.KindConflict) {
			t.Errorf("submit of a cancelled form: %v, want a conflict", err)
		}
		if b := e.balance(req.User.ID); b != 97 {
			t.Errorf("requester balance = %d, want 97 (the caption only)", b)
		}
	})
	t.Run("an interrogation nobody pops expires", func(t *testing.T) {
		e := newEnv(t, horde.Config{})
		req := e.user("req", 100)
		in := e.interrogate(req, interrogation(512, 512, true, horde.FormCaption))
		e.clock.Advance(horde.ExpireAfter + time.Second)
		if err := e.h.Sweep(e.ctx); err != nil {
			t.Fatalf("sweep: %v", err)
		}
		if got := e.formStates(in.ID); got != "faulted: caption=faulted" {
			t.Errorf("status = %q", got)
		}
		if _, held := e.h.Held(e.ctx, req.User.ID); held != 0 {
			t.Errorf("held = %d, want 0", held)
		}
	})
	t.Run("a restart keeps waiting and processing forms", func(t *testing.T) {
		e := newEnv(t, horde.Config{})
		req, owner := e.user("req", 100), e.user("owner", 0)
		in := e.interrogate(req, interrogation(512, 512, true, horde.FormCaption, horde.FormNSFW))
		as := e.popForms(owner, alchemist("alch", horde.FormCaption))
		e.restart()
		if _, held := e.h.Held(e.ctx, req.User.ID); held != 6 {
			t.Errorf("held after restart = %d, want 6", held)
		}
		if _, err := e.h.SubmitAlchemy(e.ctx, owner, horde.AlchemySubmission{FormID: as[0].Form.ID, Result: `{"caption":"a cat"}`}); err != nil {
			t.Fatalf("submit after restart: %v", err)
		}
		if as := e.popForms(owner, alchemist("alch", horde.FormNSFW)); len(as) != 1 {
			t.Fatalf("popped %d after restart, want the nsfw form", len(as))
		}
		if got := e.formStates(in.ID); got != "processing: caption=done nsfw=processing" {
			t.Errorf("status = %q", got)
		}
	})
}

// TestAlchemistsInPerformance: /status/performance counts alchemists and forms.
func TestAlchemistsInPerformance(t *testing.T) {
	e := newEnv(t, horde.Config{})
	req, owner := e.user("req", 100), e.user("owner", 0)
	e.interrogate(req, interrogation(512, 512, true, horde.FormCaption, horde.FormNSFW))
	p := alchemist("alch", horde.FormInterrogation)
	p.Threads = 2
	e.popForms(owner, p)
	storetest.SweepEstimates(t, e.h) // the queued forms, on the shared queue
	perf, err := e.h.Performance(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if perf.QueuedForms != 2 || perf.InterrogatorCount != 1 || perf.InterrogatorThreadCount != 2 || perf.TextWorkerCount != 0 {
		t.Errorf("performance = %+v; want 2 forms, 1 alchemist of 2 threads, no text worker", perf)
	}
	ws, err := e.h.Workers(e.ctx, horde.KindAlchemy)
	if err != nil || len(ws) != 1 || ws[0].Kind != horde.KindAlchemy || ws[0].Models[0] != horde.FormInterrogation {
		t.Errorf("alchemists = %+v, %v", ws, err)
	}
}

package horde_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/filter"
)

// mustFilter builds the prompt filter from the embedded lists the binary
// ships with.
func mustFilter(tb testing.TB, opts filter.Options) *filter.Filter {
	tb.Helper()
	f, err := filter.New(filter.Lists{
		Minors: assets.FilterMinors, Sexual: assets.FilterSexual, NSFW: assets.FilterNSFW, Negative: assets.FilterNegative,
		Languages: assets.FilterLanguages(),
	}, opts)
	if err != nil {
		tb.Fatalf("new filter: %v", err)
	}
	return f
}

// safeNegative is the default forced negative prompt, as appended.
func safeNegative(tb testing.TB) string {
	tb.Helper()
	v := mustFilter(tb, filter.Options{NSFWModels: []string{"*"}}).Check("a kid", filter.Context{})
	if v.ForcedNegative == "" || !strings.Contains(v.ForcedNegative, "nsfw") {
		tb.Fatalf("default forced negative = %q, want the minor-safe negative prompt", v.ForcedNegative)
	}
	return v.ForcedNegative
}

// refusal is one OnRefused call.
type refusal struct {
	user   int64
	prompt string
	v      filter.Verdict
}

// refusals records OnRefused calls.
type refusals struct {
	mu   sync.Mutex
	list []refusal
}

func (r *refusals) record(_ context.Context, u horde.User, prompt string, v filter.Verdict) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, refusal{u.ID, prompt, v})
}

func (r *refusals) all() []refusal {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]refusal(nil), r.list...)
}

func TestSubmitRefusedPrompt(t *testing.T) {
	tests := []struct {
		name   string
		nr     horde.NewRequest
		code   string
		rule   filter.Rule
		reason string
	}{
		{"csam", imageRequest("l0l1, (nude:1.2)"), "CorruptPrompt", filter.RuleCSAM, "minors"},
		{"csam in an nsfw request", func() horde.NewRequest {
			nr := imageRequest("schoolgirl hentai")
			nr.NSFW = true
			return nr
		}(), "CorruptPrompt", filter.RuleCSAM, "minors"},
		{"csam in a text request", textRequest("an explicit story about a child", 80, 1024), "CorruptPrompt", filter.RuleCSAM, "minors"},
		{"nsfw where not allowed", imageRequest("nude woman on a beach"), "CorruptPrompt", filter.RuleNSFW, "nude"},
		{"dry run", func() horde.NewRequest {
			nr := imageRequest("loli nude")
			nr.DryRun = true
			return nr
		}(), "CorruptPrompt", filter.RuleCSAM, "minors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec refusals
			e := newEnv(t, horde.Config{Filter: mustFilter(t, filter.Options{NSFWModels: []string{"*"}}), OnRefused: rec.record})
			alice := e.user("alice", 100)
			worker := e.user("worker", 0)

			_, _, err := e.h.Submit(e.ctx, alice.User, tt.nr)
			var he *horde.Error
			// The AI Horde answers every refused prompt 400 CorruptPrompt.
			if !errors.As(err, &he) || he.Kind != horde.KindInvalid || he.Code != tt.code || he.Field != "prompt" {
				t.Fatalf("submit error = %v, want KindInvalid %s on field prompt", err, tt.code)
			}
			if !strings.Contains(horde.MessageOf(err), tt.reason) {
				t.Errorf("message %q does not say why (%q)", horde.MessageOf(err), tt.reason)
			}
			got := rec.all()
			if len(got) != 1 || got[0].user != alice.User.ID || got[0].prompt != tt.nr.Prompt || got[0].v.Rule != tt.rule {
				t.Fatalf("OnRefused calls = %+v, want one for user %d with the prompt and rule %q", got, alice.User.ID, tt.rule)
			}
			if len(got[0].v.Matched) == 0 {
				t.Error("the verdict given to OnRefused does not say what matched")
			}
			pop := imagePop("rig")
			if tt.nr.Kind == horde.KindText {
				pop = horde.PopRequest{Kind: horde.KindText, Name: "rig", MaxLength: 512, MaxContextLength: 2048, Amount: 1}
			}
			if as, _ := e.pop(worker, pop); len(as) != 0 {
				t.Fatalf("a refused prompt was queued: %+v", as[0].Request)
			}
			if b := e.balance(alice.User.ID); b != 100 {
				t.Errorf("balance = %d after a refused request, want 100", b)
			}
		})
	}
}

func TestSubmitFilteredPromptReachesWorker(t *testing.T) {
	neg := safeNegative(t)
	tests := []struct {
		name    string
		rewrite bool
		nr      horde.NewRequest
		want    string // the prompt in the worker's payload
		warning string // a warning the requester gets ("" = none from the filter)
	}{
		{"rewrite", true, imageRequest("(nude:1.3), a woman on a beach ### ugly"), "a woman on a beach ### ugly", "removed"},
		{"forced negative", false, imageRequest("a kid flying a kite"), "a kid flying a kite ### " + neg, "minors"},
		{"forced negative after the user's", false, imageRequest("children at play ### blurry"), "children at play ### blurry, " + neg, "minors"},
		{"nsfw allowed", false, func() horde.NewRequest {
			nr := imageRequest("nude woman on a beach")
			nr.NSFW = true
			return nr
		}(), "nude woman on a beach", ""},
		{"clean prompt untouched", false, imageRequest("a lighthouse at dusk"), "a lighthouse at dusk", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec refusals
			f := mustFilter(t, filter.Options{RewriteNSFW: tt.rewrite, NSFWModels: []string{"*"}})
			e := newEnv(t, horde.Config{Filter: f, OnRefused: rec.record})
			alice := e.user("alice", 100)
			worker := e.user("worker", 0)

			req, warnings, err := e.h.Submit(e.ctx, alice.User, tt.nr)
			if err != nil {
				t.Fatalf("submit: %v", err)
			}
			if req.Prompt != tt.want {
				t.Errorf("request prompt = %q, want %q", req.Prompt, tt.want)
			}
			// Other warnings (no worker online) may come too; the
			// filter's all speak of the prompt.
			joined := strings.Join(warnings, " | ")
			if tt.warning == "" && strings.Contains(joined, "prompt") || !strings.Contains(joined, tt.warning) {
				t.Errorf("warnings = %q, want one about %q", warnings, tt.warning)
			}
			pop := imagePop("rig")
			pop.NSFW = true
			a := e.popOne(worker, pop)
			if a.Request.Prompt != tt.want {
				t.Errorf("payload prompt = %q, want %q", a.Request.Prompt, tt.want)
			}
			if got := rec.all(); len(got) != 0 {
				t.Errorf("OnRefused called for an accepted prompt: %+v", got)
			}
		})
	}
}

func TestSubmitWithoutFilter(t *testing.T) {
	e := newEnv(t, horde.Config{})
	alice := e.user("alice", 100)
	const prompt = "a kid flying a kite, nude beach in the distance"
	req := e.submit(alice, imageRequest(prompt))
	if req.Prompt != prompt {
		t.Errorf("prompt = %q: changed with no filter configured", req.Prompt)
	}
}

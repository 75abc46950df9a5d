package horde

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// TestMentionsIsLowerCasedContains checks the blacklist match without the
// lower-cased copy against what it replaces, strings.Contains of the
// lower-cased positive prompt, on ASCII and other prompts.
func TestMentionsIsLowerCasedContains(t *testing.T) {
	prompts := []string{
		"A Red BARN at dusk ### cat, blurry",
		"a red barn",
		"BARN",
		"barnyard owl",
		"no match here ### barn",
		"Ünïcödé BARN and ΣΟΦΙΑ",
		"the KELVIN sign \u212a and İstanbul",
		"ＦＵＬＬＷＩＤＴＨ letters",
		"",
	}
	words := []string{"barn", "red barn", "cat", "σοφια", "k", "kelvin", "i̇stanbul", "ｆｕｌｌ", "ünïcödé", "n", "barnyard owl!", "dusk"}
	for _, p := range prompts {
		r := &openRequest{}
		r.setPositive(p)
		want := strings.ToLower(aihorde.PositivePrompt(p))
		for _, w := range words {
			if got, want := r.mentions(w), strings.Contains(want, w); got != want {
				t.Errorf("prompt %q mentions %q = %v, want %v", p, w, got, want)
			}
		}
	}
}

// TestOpenRequestMemory checks what one waiting request costs: the struct
// stays in the 512-byte size class, an ASCII prompt is not held twice, and
// building an ordinary request allocates only the struct and its items (the
// jobs map waits for a pop; model names, client agents and the lists built
// from them are shared with the requests before it).
func TestOpenRequestMemory(t *testing.T) {
	if size := unsafe.Sizeof(openRequest{}); size > 512 {
		t.Errorf("openRequest is %d bytes, want at most 512", size)
	}
	h := &Horde{q: newQueueIndex()}
	req := func(i int) Request {
		return Request{
			ID: fmt.Sprintf("req-%d", i), Kind: KindImage, UserID: 1, N: 1,
			Prompt:      "A Lighthouse at Dusk, highly detailed ### blurry",
			Image:       &ImageParams{Width: 512, Height: 512, Steps: 30, Seed: "1"},
			Models:      []string{strings.Clone("AlbedoBase XL (SDXL)")},
			ClientAgent: strings.Clone("client:1:me"),
			CreatedAt:   time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		}
	}
	first := h.newOpenRequest(req(0))
	if unsafe.StringData(first.positive) != unsafe.StringData(first.req.Prompt) {
		t.Error("the positive prompt is a second copy of the prompt")
	}
	reqs := make([]Request, 100)
	for i := range reqs {
		reqs[i] = req(i + 1)
	}
	i := 0
	allocs := testing.AllocsPerRun(len(reqs)-1, func() {
		h.newOpenRequest(reqs[i])
		i++
	})
	if allocs > 2 {
		t.Errorf("an ordinary request makes %.0f allocations, want 2 (the struct and its items)", allocs)
	}
	second := h.newOpenRequest(req(1000))
	if unsafe.StringData(second.req.Models[0]) != unsafe.StringData(first.req.Models[0]) ||
		unsafe.SliceData(second.req.Models) != unsafe.SliceData(first.req.Models) ||
		unsafe.SliceData(second.buckets) != unsafe.SliceData(first.buckets) ||
		unsafe.StringData(second.req.ClientAgent) != unsafe.StringData(first.req.ClientAgent) {
		t.Error("two requests for one model do not share the model name, its list, the bucket list and the client agent")
	}
	if v := second.view(); unsafe.SliceData(v.Models) == unsafe.SliceData(second.req.Models) {
		t.Error("a view shares the request's model list")
	}
}

// TestInternedIsBounded: made-up model names cannot grow the shared tables
// without limit, and past the bound names are still kept as given.
func TestInternedIsBounded(t *testing.T) {
	in := newInterned()
	for i := range maxInterned + 100 {
		m := fmt.Sprintf("model-%d", i)
		if got := in.modelList([]string{m}); len(got) != 1 || got[0] != m {
			t.Fatalf("model list of %q is %q", m, got)
		}
		if got := in.bucketList(bucketKey{kind: KindImage, model: m}); len(got) != 1 || got[0].model != m {
			t.Fatalf("bucket list of %q is %v", m, got)
		}
		if got := in.str("agent-" + m); got != "agent-"+m {
			t.Fatalf("str = %q", got)
		}
	}
	if len(in.strs) > maxInterned || len(in.models) > maxInterned || len(in.buckets) > maxInterned {
		t.Errorf("tables hold %d strings, %d lists, %d bucket lists; want at most %d each", len(in.strs), len(in.models), len(in.buckets), maxInterned)
	}
	if got := in.modelList([]string{"a", "b"}); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Errorf("a two-model list became %q", got)
	}
}

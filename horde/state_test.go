package horde

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
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
// stays in the 480-byte size class, an ASCII prompt is not held twice, and
// building an ordinary request allocates only the struct and its items (the
// jobs map waits for a pop; model names, client agents, the lists built
// from them and default image parameters are shared with the requests
// before it).
func TestOpenRequestMemory(t *testing.T) {
	// What 100k waiting requests cost in all is measured in make bench
	// (BenchmarkWaitingRSS); the rare fields sit behind Request.Extras.
	if size := unsafe.Sizeof(openRequest{}); size > 480 {
		t.Errorf("openRequest is %d bytes, want at most 480", size)
	}
	h := &Horde{q: newQueueIndex()}
	req := func(i int) Request {
		return Request{
			ID: fmt.Sprintf("req-%d", i), Kind: KindImage, UserID: 1, N: 1,
			Prompt:      "A Lighthouse at Dusk, highly detailed ### blurry",
			Image:       &ImageParams{Width: 512, Height: 512, Steps: 30, SamplerName: "k_euler_a", CFGScale: 7.5, Seed: strconv.Itoa(i)},
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
		unsafe.StringData(second.req.ClientAgent) != unsafe.StringData(first.req.ClientAgent) ||
		second.req.Image != first.req.Image {
		t.Error("two requests for one model do not share the model name, its list, the bucket list, the client agent and the parameters")
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

// TestSharedImageParamsKeepEachSeed: requests whose parameters are shared
// still show their own seed, and parameters that cannot be told apart from
// a shared copy by the seed alone (a seed that is not plain decimal, lists,
// a source image) stay the request's own.
func TestSharedImageParamsKeepEachSeed(t *testing.T) {
	h := &Horde{q: newQueueIndex()}
	base := ImageParams{Width: 512, Height: 768, Steps: 25, SamplerName: "k_euler", CFGScale: 7, Karras: true}
	tests := []struct {
		name   string
		change func(p *ImageParams)
		shared bool
	}{
		{"a chosen seed", func(p *ImageParams) { p.Seed = "3141592653" }, true},
		{"a negative seed (hashed as text, as the AI Horde does)", func(p *ImageParams) { p.Seed = "-42" }, false},
		{"a seed with leading zeros", func(p *ImageParams) { p.Seed = "007" }, false},
		{"a word for a seed", func(p *ImageParams) { p.Seed = "lighthouse" }, false},
		{"post-processing", func(p *ImageParams) { p.Seed = "5"; p.PostProcessing = []string{"RealESRGAN_x4plus"} }, false},
		{"loras", func(p *ImageParams) { p.Seed = "5"; p.Loras = []Lora{{Name: "x", Model: 1}} }, false},
		{"a source image", func(p *ImageParams) {
			p.Seed, p.SourceImage, p.SourceProcessing = "5", "aGVsbG8=", "img2img"
		}, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := base
			p.PostProcessing, p.Loras = nil, nil
			tt.change(&p)
			want := p
			want.PostProcessing, want.Loras = slices.Clone(p.PostProcessing), slices.Clone(p.Loras)
			r := h.newOpenRequest(Request{ID: fmt.Sprintf("r%d", i), Kind: KindImage, N: 2, Prompt: "x", Image: &p})
			if r.seedShared != tt.shared {
				t.Fatalf("shared = %v, want %v", r.seedShared, tt.shared)
			}
			v := r.view()
			if !reflect.DeepEqual(*v.Image, want) {
				t.Errorf("view's parameters %+v, want %+v", *v.Image, want)
			}
			if v.Image == r.req.Image {
				t.Error("the view shares the request's parameters")
			}
			if r.seedBase != seedFromString(want.Seed) {
				t.Errorf("seed base %d, want %d", r.seedBase, seedFromString(want.Seed))
			}
		})
	}
}

// TestImageKeyCoversImageParams: every field of ImageParams is either in
// imageKey (same name and type) or is one that makes parameters unshared,
// so a new parameter cannot be lost by sharing.
func TestImageKeyCoversImageParams(t *testing.T) {
	unshared := map[string]bool{"Seed": true, "PostProcessing": true, "Loras": true, "SourceImage": true, "SourceMask": true, "ExtraSourceImages": true}
	pt, kt := reflect.TypeFor[ImageParams](), reflect.TypeFor[imageKey]()
	for i := range pt.NumField() {
		f := pt.Field(i)
		if unshared[f.Name] {
			continue
		}
		kf, ok := kt.FieldByName(f.Name)
		if !ok || kf.Type != f.Type {
			t.Errorf("ImageParams.%s (%s) is not in imageKey: add it there and to interned.imageParams", f.Name, f.Type)
		}
	}
	if kt.NumField()+len(unshared) != pt.NumField() {
		t.Errorf("imageKey has %d fields, ImageParams %d of which %d are never shared", kt.NumField(), pt.NumField(), len(unshared))
	}
	// Every shared field is copied both ways: parameters with all of them
	// set come back equal from the shared copy.
	var p ImageParams
	pv := reflect.ValueOf(&p).Elem()
	for i := range pv.NumField() {
		f := pv.Field(i)
		if unshared[pt.Field(i).Name] {
			continue
		}
		switch f.Kind() {
		case reflect.Int:
			f.SetInt(int64(100 + i))
		case reflect.Float64:
			f.SetFloat(float64(i) + 0.5)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.String:
			f.SetString(fmt.Sprintf("v%d", i))
		default:
			t.Fatalf("ImageParams.%s: a %s field; extend this test", pt.Field(i).Name, f.Kind())
		}
	}
	p.Seed = "12"
	c, ok := newInterned().imageParams(&p, 12)
	if !ok {
		t.Fatal("not shared")
	}
	got := *c
	got.Seed = p.Seed
	if !reflect.DeepEqual(got, p) {
		t.Errorf("shared copy %+v, want %+v", got, p)
	}
}

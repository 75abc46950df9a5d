package worker

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// fakeAlchemyHorde is a small AI Horde serving /interrogate/pop and
// /interrogate/submit: it hands out its queued forms on the first pop,
// serves their source image, takes r2 uploads and records the submits.
type fakeAlchemyHorde struct {
	t      *testing.T
	srv    *httptest.Server
	source []byte

	mu       sync.Mutex
	queue    []aihorde.InterrogationPopForm
	pops     []aihorde.InterrogationPopRequest
	fetches  int
	uploads  map[string][]byte
	submits  map[string]aihorde.InterrogationSubmit
	want     int
	done     chan struct{}
	refuse   bool // answer pops 401
	noUpload bool // give image forms no r2_upload
}

func newFakeAlchemyHorde(t *testing.T, forms ...string) *fakeAlchemyHorde {
	f := &fakeAlchemyHorde{
		t: t, source: testPNG(t, 32, 24), uploads: map[string][]byte{},
		submits: map[string]aihorde.InterrogationSubmit{}, want: len(forms), done: make(chan struct{}),
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	for i, name := range forms {
		id := name + "-" + string(rune('a'+i))
		pf := aihorde.InterrogationPopForm{ID: id, Form: name, SourceImage: f.srv.URL + "/api/v2/results/src"}
		if aihorde.IsPostProcessor(name) {
			pf.R2Upload = f.srv.URL + "/api/v2/r2/" + id + ".webp"
		}
		f.queue = append(f.queue, pf)
	}
	return f
}

func (f *fakeAlchemyHorde) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/api/v2/interrogate/pop":
		if r.Header.Get("apikey") != testAPIKey || !strings.HasPrefix(r.Header.Get("Client-Agent"), "hordeworker:") {
			f.t.Errorf("pop headers = %v", r.Header)
		}
		if f.refuse {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"Invalid API Key","rc":"InvalidAPIKey"}`))
			return
		}
		var p aihorde.InterrogationPopRequest
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			f.t.Errorf("pop body: %v", err)
		}
		f.pops = append(f.pops, p)
		forms := f.queue
		if f.noUpload {
			for i := range forms {
				forms[i].R2Upload = ""
			}
		}
		f.queue = nil
		_ = json.NewEncoder(w).Encode(aihorde.InterrogationPopResponse{Forms: forms, Skipped: map[string]int{}})
	case r.Method == http.MethodGet && r.URL.Path == "/api/v2/results/src":
		f.fetches++
		_, _ = w.Write(f.source)
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/api/v2/r2/"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v2/r2/"), ".webp")
		f.uploads[id], _ = io.ReadAll(r.Body)
	case r.Method == http.MethodPost && r.URL.Path == "/api/v2/interrogate/submit":
		var s aihorde.InterrogationSubmit
		if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
			f.t.Errorf("submit body: %v", err)
		}
		f.submits[s.ID] = s
		_ = json.NewEncoder(w).Encode(aihorde.SubmitResponse{Reward: 3})
		if len(f.submits) == f.want {
			close(f.done)
		}
	default:
		http.NotFound(w, r)
	}
}

// failingAlchemy fails every form of one name.
type failingAlchemy struct {
	ProceduralAlchemy
	fail string
}

func (b failingAlchemy) Alchemize(ctx context.Context, job AlchemyJob) (AlchemyResult, error) {
	if job.Form == b.fail {
		return AlchemyResult{}, errors.New("CUDA out of memory")
	}
	return b.ProceduralAlchemy.Alchemize(ctx, job)
}

// runAlchemistUntil runs the alchemist until the fake has every submit.
func runAlchemistUntil(t *testing.T, f *fakeAlchemyHorde, cfg AlchemistConfig) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg.BaseURL, cfg.APIKey, cfg.Name = f.srv.URL, testAPIKey, "alchemist-1"
	cfg.PopInterval = 10 * time.Millisecond
	cfg.Logger = slog.New(slog.DiscardHandler)
	errc := make(chan error, 1)
	go func() { errc <- RunAlchemist(ctx, cfg) }()
	select {
	case <-f.done:
	case err := <-errc:
		t.Fatalf("RunAlchemist returned before every submit: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the alchemist did not submit every form")
	}
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("RunAlchemist: %v", err)
	}
}

func TestAlchemistSubmitsEveryFormAsTheAIHordeExpects(t *testing.T) {
	f := newFakeAlchemyHorde(t, aihorde.FormCaption, aihorde.FormNSFW, aihorde.FormInterrogation,
		aihorde.FormRealESRGANx2, aihorde.FormStripBackground)
	runAlchemistUntil(t, f, AlchemistConfig{Backend: ProceduralAlchemy{}, Threads: 2, MaxTiles: 4})

	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.pops[0]
	if p.Name != "alchemist-1" || p.MaxTiles != 4 || p.Threads != 2 || p.Amount != 2 || len(p.Forms) != 11 {
		t.Errorf("pop = %+v, want the name, max_tiles 4, threads 2, amount 2 and the backend's 11 forms", p)
	}
	if f.fetches != 1 {
		t.Errorf("the source image was fetched %d times for one pop, want once", f.fetches)
	}
	tests := []struct {
		id    string
		check func(t *testing.T, raw json.RawMessage)
	}{
		{"caption-a", func(t *testing.T, raw json.RawMessage) {
			var c string
			if json.Unmarshal(raw, &c) != nil || !strings.Contains(c, "procedural") {
				t.Errorf("caption result = %s, want a string", raw)
			}
		}},
		{"nsfw-b", func(t *testing.T, raw json.RawMessage) {
			if string(raw) != "false" {
				t.Errorf("nsfw result = %s, want false", raw)
			}
		}},
		{"interrogation-c", func(t *testing.T, raw json.RawMessage) {
			var d aihorde.InterrogationDetails
			if json.Unmarshal(raw, &d) != nil || len(d.Tags) == 0 {
				t.Errorf("interrogation result = %s, want details with tags", raw)
			}
		}},
		{"RealESRGAN_x2plus-d", func(t *testing.T, raw json.RawMessage) {
			if string(raw) != `"R2"` {
				t.Errorf("upscale result = %s, want \"R2\" after the upload", raw)
			}
			if _, w, h := decodeSize(t, f.uploads["RealESRGAN_x2plus-d"]); w != 64 || h != 48 {
				t.Errorf("uploaded upscale is %dx%d, want 64x48", w, h)
			}
		}},
		{"strip_background-e", func(t *testing.T, raw json.RawMessage) {
			if string(raw) != `"R2"` || len(f.uploads["strip_background-e"]) == 0 {
				t.Errorf("strip_background result = %s with %d bytes uploaded", raw, len(f.uploads["strip_background-e"]))
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.id, func(t *testing.T) {
			s, ok := f.submits[tc.id]
			if !ok {
				t.Fatal("not submitted")
			}
			form := s.ID[:strings.LastIndexByte(s.ID, '-')]
			if s.State != aihorde.StateOK || len(s.Result) != 1 || s.Result[form] == nil {
				t.Fatalf("submit = %+v, want state ok and the result under %q alone", s, form)
			}
			tc.check(t, s.Result[form])
		})
	}
}

func TestAlchemistSubmitsInlineWithoutR2Upload(t *testing.T) {
	f := newFakeAlchemyHorde(t, aihorde.FormRealESRGANx4)
	f.noUpload = true
	runAlchemistUntil(t, f, AlchemistConfig{Backend: ProceduralAlchemy{}})
	f.mu.Lock()
	defer f.mu.Unlock()
	var b64 string
	if err := json.Unmarshal(f.submits["RealESRGAN_x4plus-a"].Result["RealESRGAN_x4plus"], &b64); err != nil {
		t.Fatal(err)
	}
	data, err := decodeBase64(b64)
	if err != nil {
		t.Fatalf("inline result is not base64: %v", err)
	}
	if _, w, h := decodeSize(t, data); w != 128 || h != 96 {
		t.Errorf("inline upscale is %dx%d, want 128x96", w, h)
	}
}

func TestAlchemistSubmitsFailedFormsAsFaulted(t *testing.T) {
	f := newFakeAlchemyHorde(t, aihorde.FormCaption, aihorde.FormGFPGAN)
	runAlchemistUntil(t, f, AlchemistConfig{Backend: failingAlchemy{fail: aihorde.FormGFPGAN},
		Forms: []string{aihorde.FormCaption, aihorde.FormGFPGAN}})
	f.mu.Lock()
	defer f.mu.Unlock()
	if s := f.submits["GFPGAN-b"]; s.State != aihorde.StateFaulted {
		t.Errorf("failed form submitted as %+v, want faulted", s)
	}
	if s := f.submits["caption-a"]; s.State != aihorde.StateOK {
		t.Errorf("caption submitted as %+v, want ok", s)
	}
	if got := f.pops[0].Forms; len(got) != 2 {
		t.Errorf("pop forms = %v, want the two configured", got)
	}
}

func TestAlchemistStopsOnARefusedKey(t *testing.T) {
	f := newFakeAlchemyHorde(t)
	f.refuse = true
	err := RunAlchemist(context.Background(), AlchemistConfig{
		BaseURL: f.srv.URL, APIKey: testAPIKey, Name: "a", Backend: ProceduralAlchemy{},
		Logger: slog.New(slog.DiscardHandler),
	})
	if !errors.Is(err, ErrUnauthorized) {
		t.Errorf("err = %v, want ErrUnauthorized", err)
	}
}

func TestAlchemistConfigRefusesFormsTheBackendCannotDo(t *testing.T) {
	b, err := NewA1111Alchemy(A1111AlchemyOptions{URL: "http://127.0.0.1:7860"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = AlchemistConfig{BaseURL: "http://x", Name: "a", Backend: b, Forms: []string{aihorde.FormNSFW}}.withDefaults()
	if err == nil || !strings.Contains(err.Error(), "nsfw") {
		t.Errorf("err = %v, want a refusal naming nsfw", err)
	}
}

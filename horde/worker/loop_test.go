package worker

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image/color"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gen2brain/webp"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// guard bounds the waits of these tests so that a bug fails them instead of
// hanging; it is not a speed assertion.
const guard = 30 * time.Second

// backendFunc adapts a function to Backend.
type backendFunc func(ctx context.Context, job Job) (Result, error)

func (f backendFunc) Generate(ctx context.Context, job Job) (Result, error) { return f(ctx, job) }

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// testConfig is a Config for the fake horde with fast retries and pops.
func testConfig(t testing.TB, f *fakeHorde, kind aihorde.Kind, b Backend) Config {
	return Config{
		BaseURL:     f.srv.URL,
		APIKey:      testAPIKey,
		Name:        "test-worker",
		Kind:        kind,
		Backend:     b,
		Threads:     2,
		PopInterval: time.Millisecond,
		Retry:       RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond},
		Logger:      testLogger(t),
	}
}

// startWorker runs the worker until the returned stop is called; stop
// cancels it and returns Run's error.
func startWorker(t testing.TB, cfg Config) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()
	return func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(guard):
			t.Fatal("Run did not return after cancel")
			return nil
		}
	}
}

// waitAll waits until the fake has a submit for every job.
func waitAll(t testing.TB, f *fakeHorde) {
	t.Helper()
	select {
	case <-f.allSubmitted:
	case <-time.After(guard):
		_, submits, _ := f.snapshot()
		t.Fatalf("only %d of %d jobs submitted", len(submits), f.wantSubmits)
	}
}

func TestRunImageJobs(t *testing.T) {
	tests := []struct {
		name  string
		useR2 bool
	}{
		{"inline base64 webp when no r2_upload", false},
		{"r2 upload when given", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const n = 5
			f := newFakeHorde(t, aihorde.KindImage, imageJobs(n)...)
			f.useR2 = tt.useR2
			stop := startWorker(t, testConfig(t, f, aihorde.KindImage, NewProcedural()))
			waitAll(t, f)
			if err := stop(); err != nil {
				t.Fatalf("Run: %v", err)
			}
			_, submits, uploads := f.snapshot()
			for _, j := range imageJobs(n) {
				subs := submits[j.id]
				if len(subs) != 1 {
					t.Fatalf("job %s submitted %d times, want once", j.id, len(subs))
				}
				s := subs[0]
				if s.State != aihorde.StateOK || s.Seed == nil || *s.Seed != j.seed {
					t.Errorf("job %s: state %q seed %v, want ok and %d", j.id, s.State, s.Seed, j.seed)
				}
				if len(s.GenMetadata) != 1 || s.GenMetadata[0] != proceduralNote {
					t.Errorf("job %s: gen_metadata %+v", j.id, s.GenMetadata)
				}
				var img []byte
				if tt.useR2 {
					if s.Generation != "R2" {
						t.Fatalf("job %s: generation %.20q, want R2", j.id, s.Generation)
					}
					img = uploads[j.id]
					if ct := f.uploadHeaders[j.id].Get("Content-Type"); ct != "image/webp" {
						t.Errorf("upload Content-Type %q", ct)
					}
				} else {
					if len(uploads) != 0 {
						t.Fatalf("uploaded %d images with no r2_upload", len(uploads))
					}
					var err error
					if img, err = base64.StdEncoding.DecodeString(s.Generation); err != nil {
						t.Fatalf("job %s: generation is not base64: %v", j.id, err)
					}
				}
				cfg, err := webp.DecodeConfig(bytes.NewReader(img))
				if err != nil || cfg.Width != j.width || cfg.Height != j.height {
					t.Fatalf("job %s: image %dx%d (%v), want %dx%d WebP", j.id, cfg.Width, cfg.Height, err, j.width, j.height)
				}
			}
		})
	}
}

func TestRunPopBody(t *testing.T) {
	for _, tt := range []struct {
		name                            string
		img2img, painting, lora, unsafe bool
	}{
		{"a worker that allows nothing says so", false, false, false, false},
		{"a worker that allows img2img, painting, LoRAs and unsafe IPs says so", true, true, true, true},
		{"painting on, LoRAs off, unsafe IPs on", true, true, false, true},
		{"img2img on, unsafe IPs off", true, false, false, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHorde(t, aihorde.KindImage, imageJobs(1)...)
			cfg := testConfig(t, f, aihorde.KindImage, NewProcedural())
			cfg.MaxPixels = 512 * 768
			cfg.NSFW = true
			cfg.AllowImg2Img, cfg.AllowPainting, cfg.AllowLora = tt.img2img, tt.painting, tt.lora
			cfg.AllowUnsafeIPAddr = tt.unsafe
			stop := startWorker(t, cfg)
			waitAll(t, f)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			f.mu.Lock()
			body := f.popBodies[0]
			f.mu.Unlock()
			want := map[string]any{
				"name": "test-worker", "max_pixels": float64(512 * 768), "nsfw": true, "amount": float64(1),
				"threads": float64(2), "allow_img2img": tt.img2img, "allow_painting": tt.painting, "allow_lora": tt.lora,
				"allow_unsafe_ipaddr": tt.unsafe,
			}
			for k, v := range want {
				if body[k] != v {
					t.Errorf("pop %s = %v, want %v", k, body[k], v)
				}
			}
			if models, _ := body["models"].([]any); len(models) != 1 || models[0] != ProceduralModel {
				t.Errorf("pop models = %v", body["models"])
			}
			if agent, _ := body["bridge_agent"].(string); !strings.HasPrefix(agent, "hordeworker:") {
				t.Errorf("bridge_agent = %q", agent)
			}
			if bl, ok := body["blacklist"].([]any); !ok || len(bl) != 0 {
				t.Errorf("blacklist = %#v, want []", body["blacklist"])
			}
		})
	}
}

func TestRunTextJobs(t *testing.T) {
	const n = 3
	f := newFakeHorde(t, aihorde.KindText, textJobs(n, 4096)...)
	cfg := testConfig(t, f, aihorde.KindText, NewProcedural())
	cfg.Models = []string{"test/model"}
	cfg.MaxLength = 40
	stop := startWorker(t, cfg)
	waitAll(t, f)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	_, submits, _ := f.snapshot()
	for _, j := range textJobs(n, 0) {
		subs := submits[j.id]
		if len(subs) != 1 {
			t.Fatalf("job %s submitted %d times", j.id, len(subs))
		}
		words := len(strings.Fields(subs[0].Generation))
		// The job asked for 4096 tokens; the worker announced 40 and clips.
		if subs[0].State != aihorde.StateOK || words == 0 || words > 40 {
			t.Errorf("job %s: state %q, %d words", j.id, subs[0].State, words)
		}
	}
	f.mu.Lock()
	body := f.popBodies[0]
	f.mu.Unlock()
	if body["max_length"] != float64(40) || body["max_context_length"] != float64(DefaultMaxContextLength) {
		t.Errorf("text pop body %v", body)
	}
}

// TestRunTextBatch: a text pop with several ids (the AI Horde's amount;
// payload n 1) is one text per id, each submitted once.
func TestRunTextBatch(t *testing.T) {
	const n = 3
	f := newFakeHorde(t, aihorde.KindText, textJobs(n, 16)...)
	f.textBatch = true
	cfg := testConfig(t, f, aihorde.KindText, NewProcedural())
	cfg.Models = []string{"test/model"}
	cfg.MaxBatch = n
	stop := startWorker(t, cfg)
	waitAll(t, f)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	pops, submits, _ := f.snapshot()
	for _, j := range textJobs(n, 0) {
		if subs := submits[j.id]; len(subs) != 1 || subs[0].State != aihorde.StateOK || subs[0].Generation == "" {
			t.Errorf("job %s: submits %+v, want one ok text", j.id, subs)
		}
	}
	f.mu.Lock()
	amount := f.popBodies[0]["amount"]
	f.mu.Unlock()
	if amount != float64(n) || pops < 1 {
		t.Errorf("first pop amount %v (%d pops), want %d", amount, pops, n)
	}
}

func TestRunFaultedOnBackendError(t *testing.T) {
	tests := []struct {
		name    string
		kind    aihorde.Kind
		jobs    []fakeJob
		backend func(t *testing.T) Backend
	}{
		{
			name: "image backend error",
			kind: aihorde.KindImage,
			jobs: imageJobs(3),
			backend: func(*testing.T) Backend {
				return backendFunc(func(context.Context, Job) (Result, error) { return Result{}, errors.New("out of VRAM") })
			},
		},
		{
			name: "image backend returns no image",
			kind: aihorde.KindImage,
			jobs: imageJobs(1),
			backend: func(*testing.T) Backend {
				return backendFunc(func(context.Context, Job) (Result, error) { return Result{Seed: 1}, nil })
			},
		},
		{
			name: "kobold server error",
			kind: aihorde.KindText,
			jobs: textJobs(2, 80),
			backend: func(t *testing.T) Backend {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path == "/api/v1/model" { // up, but every generation fails
						_, _ = w.Write([]byte(`{"result":"m"}`))
						return
					}
					http.Error(w, `{"detail":"model not loaded"}`, http.StatusInternalServerError)
				}))
				t.Cleanup(srv.Close)
				k, err := NewKobold(KoboldOptions{URL: srv.URL})
				if err != nil {
					t.Fatal(err)
				}
				return k
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeHorde(t, tt.kind, tt.jobs...)
			cfg := testConfig(t, f, tt.kind, tt.backend(t))
			cfg.Models = []string{"m"}
			stop := startWorker(t, cfg)
			waitAll(t, f)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			_, submits, _ := f.snapshot()
			for _, j := range tt.jobs {
				subs := submits[j.id]
				if len(subs) != 1 || subs[0].State != aihorde.StateFaulted {
					t.Fatalf("job %s: submits %+v, want one faulted", j.id, subs)
				}
			}
		})
	}
}

func TestRunRetriesOn503(t *testing.T) {
	f := newFakeHorde(t, aihorde.KindImage, imageJobs(2)...)
	f.popFailures = 2
	f.submitFailures = 2
	cfg := testConfig(t, f, aihorde.KindImage, NewProcedural())
	cfg.Threads = 1
	stop := startWorker(t, cfg)
	waitAll(t, f)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	_, submits, _ := f.snapshot()
	for _, j := range imageJobs(2) {
		if n := len(submits[j.id]); n != 1 {
			t.Errorf("job %s accepted %d submits, want 1", j.id, n)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.submitCalls != 4 { // 2 refused with 503, then one per job
		t.Errorf("%d submit calls, want 4", f.submitCalls)
	}
	if f.popFailures != 0 {
		t.Errorf("%d pop failures left unused", f.popFailures)
	}
}

func TestRunDrainsOnCancel(t *testing.T) {
	f := newFakeHorde(t, aihorde.KindImage, imageJobs(3)...)
	started := make(chan string, 1)
	release := make(chan struct{})
	var generated atomic.Int32
	blocking := backendFunc(func(ctx context.Context, job Job) (Result, error) {
		started <- job.ID
		<-release
		if ctx.Err() != nil {
			return Result{}, ctx.Err() // the drain must not cancel the job
		}
		generated.Add(1)
		return NewProcedural().Generate(ctx, job)
	})
	cfg := testConfig(t, f, aihorde.KindImage, blocking)
	cfg.Threads = 1
	cfg.Models = []string{ProceduralModel}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg) }()

	var first string
	select {
	case first = <-started:
	case <-time.After(guard):
		t.Fatal("no job started")
	}
	popsAtCancel, _, _ := f.snapshot()
	cancel()
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(guard):
		t.Fatal("Run did not return after cancel")
	}
	pops, submits, _ := f.snapshot()
	if pops != popsAtCancel {
		t.Errorf("popped %d times after cancel", pops-popsAtCancel)
	}
	if len(submits) != 1 || len(submits[first]) != 1 || submits[first][0].State != aihorde.StateOK {
		t.Fatalf("submits %+v, want the in-flight job %s submitted ok", submits, first)
	}
	if generated.Load() != 1 {
		t.Fatalf("generated %d jobs, want 1", generated.Load())
	}
}

func TestRunSourceImage(t *testing.T) {
	tests := []struct {
		name   string
		source string
	}{
		{"base64 in the pop", base64.StdEncoding.EncodeToString(sourceBytes)},
		{"URL fetched from the horde", "/files/src.webp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jobs := imageJobs(1)
			jobs[0].source = tt.source
			f := newFakeHorde(t, aihorde.KindImage, jobs...)
			got := make(chan Job, 1)
			recorder := backendFunc(func(ctx context.Context, job Job) (Result, error) {
				got <- job
				return NewProcedural().Generate(ctx, job)
			})
			cfg := testConfig(t, f, aihorde.KindImage, recorder)
			cfg.Models = []string{ProceduralModel}
			cfg.AllowImg2Img = true
			stop := startWorker(t, cfg)
			waitAll(t, f)
			if err := stop(); err != nil {
				t.Fatal(err)
			}
			job := <-got
			if !bytes.Equal(job.Image.SourceImage, sourceBytes) || job.Image.SourceProcessing != "img2img" {
				t.Fatalf("source %q processing %q", job.Image.SourceImage, job.Image.SourceProcessing)
			}
			if job.Image.Steps != 20 || job.Image.SamplerName != "k_euler_a" || job.Image.CFGScale != 7.5 || job.TTL != time.Minute {
				t.Fatalf("params %+v ttl %v", job.Image, job.TTL)
			}
		})
	}
}

func TestRunUnauthorized(t *testing.T) {
	f := newFakeHorde(t, aihorde.KindImage, imageJobs(1)...)
	f.unauthorized = true
	cfg := testConfig(t, f, aihorde.KindImage, NewProcedural())
	ctx, cancel := context.WithTimeout(context.Background(), guard)
	defer cancel()
	err := Run(ctx, cfg)
	if !errors.Is(err, ErrUnauthorized) || StatusOf(err) != http.StatusUnauthorized {
		t.Fatalf("Run = %v, want ErrUnauthorized with HTTP 401", err)
	}
}

func TestConfigValidation(t *testing.T) {
	ok := Config{BaseURL: "http://127.0.0.1:1", Name: "w", Kind: aihorde.KindImage, Backend: NewProcedural()}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string
	}{
		{"valid", func(*Config) {}, ""},
		{"no url", func(c *Config) { c.BaseURL = "" }, "BaseURL"},
		{"no name", func(c *Config) { c.Name = " " }, "Name"},
		{"bad kind", func(c *Config) { c.Kind = "video" }, "Kind"},
		{"no backend", func(c *Config) { c.Backend = nil }, "Backend"},
		{"no models for a real backend", func(c *Config) {
			c.Backend = backendFunc(func(context.Context, Job) (Result, error) { return Result{}, nil })
		}, "Models"},
		{"too many threads", func(c *Config) { c.Threads = MaxThreads + 1 }, "Threads"},
		{"negative pixels", func(c *Config) { c.MaxPixels = -1 }, "MaxPixels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mutate(&c)
			got, err := c.withDefaults()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if got.Threads != 1 || got.MaxPixels != DefaultMaxPixels || len(got.Models) != 1 || got.Models[0] != ProceduralModel {
					t.Fatalf("defaults not applied: %+v", got)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one naming %s", err, tt.wantErr)
			}
		})
	}
}

// TestRunDoesNotPopWhileTheBackendIsDown is issue 14.14: a worker whose
// backend is down (nothing listening) pops nothing, so it faults no one's
// request; once the backend answers it pops and serves.
func TestRunDoesNotPopWhileTheBackendIsDown(t *testing.T) {
	var up atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			http.Error(w, "connection refused (simulated)", http.StatusBadGateway)
			return
		}
		switch r.URL.Path {
		case "/api/v1/model":
			_, _ = w.Write([]byte(`{"result":"m"}`))
		default:
			_, _ = w.Write([]byte(`{"results":[{"text":" once upon a time"}]}`))
		}
	}))
	t.Cleanup(srv.Close)
	k, err := NewKobold(KoboldOptions{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	f := newFakeHorde(t, aihorde.KindText, textJobs(2, 80)...)
	cfg := testConfig(t, f, aihorde.KindText, k)
	cfg.Models = []string{"m"}
	stop := startWorker(t, cfg)
	time.Sleep(300 * time.Millisecond) // several pop intervals with the backend down
	if pops, submits, _ := f.snapshot(); pops != 0 || len(submits) != 0 {
		t.Fatalf("with the backend down the worker popped %d times and submitted %d", pops, len(submits))
	}
	up.Store(true)
	waitAll(t, f)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	_, submits, _ := f.snapshot()
	for id, recs := range submits {
		for _, s := range recs {
			if s.State == "faulted" {
				t.Fatalf("job %s was faulted: %+v", id, s)
			}
		}
	}
}

// TestRunRemixExtraSources checks that a remix's extra_source_images, at
// the top level of the pop answer as the AI Horde sends them (base64 or a
// URL, each with its strength), reach the backend decoded, in order, and
// that the procedural backend averages them with the source.
func TestRunRemixExtraSources(t *testing.T) {
	blue := solidPNG(8, 8, color.NRGBA{R: 30, G: 30, B: 200, A: 255})
	jobs := imageJobs(1)
	jobs[0].width, jobs[0].height = 64, 64
	jobs[0].source = "/files/src.png"
	jobs[0].processing = "remix"
	jobs[0].extras = []map[string]any{
		{"image": base64.StdEncoding.EncodeToString(blue), "strength": 1.0},
		{"image": "/files/again.png"}, // no strength: the AI Horde's default 1
	}
	f := newFakeHorde(t, aihorde.KindImage, jobs...)
	f.useR2 = false
	got := make(chan Job, 1)
	var res Result
	recorder := backendFunc(func(ctx context.Context, job Job) (Result, error) {
		got <- job
		var err error
		res, err = NewProcedural().Generate(ctx, job)
		return res, err
	})
	cfg := testConfig(t, f, aihorde.KindImage, recorder)
	cfg.Models = []string{ProceduralModel}
	cfg.AllowImg2Img = true
	stop := startWorker(t, cfg)
	waitAll(t, f)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	job := <-got
	x := job.Image.ExtraSourceImages
	if job.Image.SourceProcessing != "remix" || len(x) != 2 || !bytes.Equal(x[0].Image, blue) || x[0].Strength != 1 ||
		!bytes.Equal(x[1].Image, sourceBytes) || x[1].Strength != aihorde.DefaultExtraSourceStrength {
		t.Fatalf("processing %q, extra sources %d: %+v", job.Image.SourceProcessing, len(x), x)
	}
	img, err := webp.Decode(bytes.NewReader(res.Image))
	if err != nil {
		t.Fatal(err)
	}
	// Red, blue and red again, averaged: (200+30+200)/3 red, (30+200+30)/3 blue.
	r, _, b, _ := img.At(10, 10).RGBA()
	if r>>8 < 130 || r>>8 > 155 || b>>8 < 75 || b>>8 > 100 {
		t.Errorf("remix pixel = red %d blue %d, want about 143 and 87", r>>8, b>>8)
	}
}

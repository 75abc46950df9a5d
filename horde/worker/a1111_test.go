package worker

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gen2brain/webp"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// fakeA1111 speaks the AUTOMATIC1111 API: it records the last body and
// answers with a PNG of the asked size and an info document with the seed.
type fakeA1111 struct {
	srv      *httptest.Server
	path     string
	body     map[string]any
	status   int
	usedSeed int64
	grid     bool // answer a batch with a grid image first, as a web UI with return_grid on does

	// GET /sdapi/v1/progress answers progress and, while a generation
	// runs, current (a base64 PNG: the web UI's live preview). hold, when
	// set, keeps each generation's answer back until it is closed.
	mu       sync.Mutex
	current  string
	running  bool
	progress []string // the query of each progress request
	hold     <-chan struct{}
}

// progressQueries returns the queries of the progress requests so far.
func (f *fakeA1111) progressQueries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.progress...)
}

// serveProgress answers GET /sdapi/v1/progress as the web UI does.
func (f *fakeA1111) serveProgress(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.progress = append(f.progress, r.URL.RawQuery)
	resp := map[string]any{"progress": 0.0, "eta_relative": 0.0, "state": map[string]any{"job_count": 0},
		"current_image": nil, "textinfo": nil}
	if f.running {
		resp["progress"], resp["state"] = 0.4, map[string]any{"job_count": 1, "sampling_step": 8, "sampling_steps": 20}
		if f.current != "" && r.URL.Query().Get("skip_current_image") == "false" {
			resp["current_image"] = f.current
		}
	}
	f.mu.Unlock()
	_ = json.NewEncoder(w).Encode(resp)
}

func newFakeA1111(t *testing.T) *fakeA1111 {
	f := &fakeA1111{status: http.StatusOK, usedSeed: 777}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/sdapi/v1/progress" {
			f.serveProgress(w, r)
			return
		}
		f.path = r.URL.Path
		if r.Method != http.MethodPost || (r.URL.Path != "/sdapi/v1/txt2img" && r.URL.Path != "/sdapi/v1/img2img") {
			http.NotFound(w, r)
			return
		}
		f.body = nil
		if err := json.NewDecoder(r.Body).Decode(&f.body); err != nil {
			t.Errorf("a1111 body: %v", err)
		}
		f.mu.Lock()
		f.running = true
		hold := f.hold
		f.mu.Unlock()
		if hold != nil {
			select {
			case <-hold:
			case <-r.Context().Done():
			}
		}
		f.mu.Lock()
		f.running = false
		f.mu.Unlock()
		if f.status != http.StatusOK {
			w.WriteHeader(f.status)
			_, _ = w.Write([]byte(`{"error":"OutOfMemoryError","detail":"CUDA out of memory"}`))
			return
		}
		wd, _ := f.body["width"].(float64)
		ht, _ := f.body["height"].(float64)
		img := image.NewNRGBA(image.Rect(0, 0, int(wd), int(ht)))
		for i := range img.Pix {
			img.Pix[i] = uint8(i)
		}
		img.SetNRGBA(0, 0, color.NRGBA{255, 0, 0, 255})
		var buf bytes.Buffer
		if err := png.Encode(&buf, img); err != nil {
			t.Error(err)
		}
		seed := f.usedSeed
		if s, ok := f.body["seed"].(float64); ok && s >= 0 {
			seed = int64(s)
		}
		n := 1
		if b, ok := f.body["batch_size"].(float64); ok && b > 1 {
			n = int(b)
		}
		var seeds []int64
		var images []string
		if f.grid && n > 1 {
			images = append(images, "not an image: the grid")
		}
		for i := range n {
			seeds = append(seeds, seed+int64(i))
			images = append(images, base64.StdEncoding.EncodeToString(buf.Bytes()))
		}
		info, _ := json.Marshal(map[string]any{"seed": seed, "all_seeds": seeds})
		_ = json.NewEncoder(w).Encode(map[string]any{
			"images":     images,
			"parameters": f.body,
			"info":       string(info),
		})
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func a1111Job() Job {
	return Job{ID: "img-1", Kind: aihorde.KindImage, Model: "AlbedoBase XL", Prompt: "a castle on a hill ### blurry, lowres",
		Seed: 31337, SeedSet: true, Image: &ImageParams{Width: 96, Height: 64, Steps: 25, SamplerName: "k_dpmpp_2m",
			Karras: true, CFGScale: 6.5, ClipSkip: 2}}
}

func TestA1111Txt2Img(t *testing.T) {
	f := newFakeA1111(t)
	a, err := NewA1111(A1111Options{URL: f.srv.URL + "/", Checkpoints: map[string]string{"AlbedoBase XL": "albedobaseXL_v21.safetensors"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := a.Generate(context.Background(), a1111Job())
	if err != nil {
		t.Fatal(err)
	}
	if f.path != "/sdapi/v1/txt2img" {
		t.Fatalf("path %q", f.path)
	}
	want := map[string]any{
		"prompt": "a castle on a hill", "negative_prompt": "blurry, lowres", "width": 96.0, "height": 64.0,
		"steps": 25.0, "cfg_scale": 6.5, "sampler_name": "DPM++ 2M Karras", "seed": 31337.0,
		"batch_size": 1.0, "n_iter": 1.0, "send_images": true, "save_images": false,
	}
	for k, v := range want {
		if f.body[k] != v {
			t.Errorf("%s = %v, want %v", k, f.body[k], v)
		}
	}
	ov, _ := f.body["override_settings"].(map[string]any)
	if ov["sd_model_checkpoint"] != "albedobaseXL_v21.safetensors" || ov["CLIP_stop_at_last_layers"] != 2.0 {
		t.Errorf("override_settings %v", ov)
	}
	if _, ok := f.body["init_images"]; ok {
		t.Error("txt2img sent init_images")
	}
	cfg, err := webp.DecodeConfig(bytes.NewReader(res.Image))
	if err != nil || cfg.Width != 96 || cfg.Height != 64 {
		t.Fatalf("result %dx%d %v, want a 96x64 WebP", cfg.Width, cfg.Height, err)
	}
	if res.Seed != 31337 || res.State != aihorde.StateOK {
		t.Errorf("seed %d state %q", res.Seed, res.State)
	}
}

func TestA1111Img2ImgAndRandomSeed(t *testing.T) {
	f := newFakeA1111(t)
	a, err := NewA1111(A1111Options{URL: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	job := a1111Job()
	job.SeedSet = false
	job.Image.SourceImage = []byte("source-bytes")
	job.Image.SourceProcessing = "img2img"
	res, err := a.Generate(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if f.path != "/sdapi/v1/img2img" {
		t.Fatalf("path %q", f.path)
	}
	imgs, _ := f.body["init_images"].([]any)
	if len(imgs) != 1 || imgs[0] != base64.StdEncoding.EncodeToString([]byte("source-bytes")) {
		t.Errorf("init_images %v", f.body["init_images"])
	}
	if f.body["denoising_strength"] != aihorde.DefaultDenoisingStrength || f.body["seed"] != -1.0 {
		t.Errorf("denoising %v seed %v", f.body["denoising_strength"], f.body["seed"])
	}
	ov, _ := f.body["override_settings"].(map[string]any)
	if _, ok := ov["sd_model_checkpoint"]; ok {
		t.Error("sent a checkpoint for an unmapped model")
	}
	if res.Seed != f.usedSeed {
		t.Errorf("seed %d, want the one A1111 used (%d)", res.Seed, f.usedSeed)
	}
}

func TestA1111Failures(t *testing.T) {
	f := newFakeA1111(t)
	f.status = http.StatusInternalServerError
	a, err := NewA1111(A1111Options{URL: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Generate(context.Background(), a1111Job())
	var be *BackendError
	if !errors.As(err, &be) || be.StatusCode != http.StatusInternalServerError {
		t.Fatalf("err = %v, want a BackendError 500", err)
	}
	if _, err := a.Generate(context.Background(), Job{ID: "t", Kind: aihorde.KindText, Text: &TextParams{}}); err == nil {
		t.Fatal("a text job ran on a1111")
	}
	for _, bad := range []string{"", "localhost:7860", "ftp://x"} {
		if _, err := NewA1111(A1111Options{URL: bad}); err == nil {
			t.Errorf("NewA1111(%q): no error", bad)
		}
	}
}

func TestA1111SamplerName(t *testing.T) {
	tests := []struct {
		in     string
		karras bool
		want   string
		known  bool
	}{
		{"k_euler", false, "Euler", true},
		{"k_euler", true, "Euler", true},
		{"k_euler_a", false, "Euler a", true},
		{"k_dpmpp_2m", false, "DPM++ 2M", true},
		{"k_dpmpp_2m", true, "DPM++ 2M Karras", true},
		{"k_dpmpp_sde", true, "DPM++ SDE Karras", true},
		{"k_lms", true, "LMS Karras", true},
		{"DDIM", false, "DDIM", true},
		{"lcm", false, "LCM", true},
		{"k_made_up", false, "Euler a", false},
	}
	for _, tt := range tests {
		got, known := A1111SamplerName(tt.in, tt.karras)
		if got != tt.want || known != tt.known {
			t.Errorf("A1111SamplerName(%q, %v) = %q, %v; want %q, %v", tt.in, tt.karras, got, known, tt.want, tt.known)
		}
	}
}

// TestA1111Batch checks that a batch is one call of batch_size n, whose n
// images come back with the seeds the web UI used (seed, seed+1, ...), a
// grid sent first dropped.
func TestA1111Batch(t *testing.T) {
	for _, grid := range []bool{false, true} {
		f := newFakeA1111(t)
		f.grid = grid
		a, err := NewA1111(A1111Options{URL: f.srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		rs, err := a.GenerateBatch(context.Background(), a1111Job(), 4)
		if err != nil {
			t.Fatalf("grid %v: %v", grid, err)
		}
		if bs, _ := f.body["batch_size"].(float64); bs != 4 {
			t.Errorf("grid %v: batch_size %v, want 4", grid, f.body["batch_size"])
		}
		if ov, _ := f.body["override_settings"].(map[string]any); ov["return_grid"] != false {
			t.Errorf("grid %v: override_settings %v, want return_grid false", grid, ov)
		}
		if len(rs) != 4 {
			t.Fatalf("grid %v: %d results, want 4", grid, len(rs))
		}
		for i, r := range rs {
			if r.Seed != 31337+int64(i) || len(r.Image) == 0 {
				t.Errorf("grid %v: result %d seed %d (%d bytes), want seed %d", grid, i, r.Seed, len(r.Image), 31337+i)
			}
		}
	}
}

// A batch whose seeds do not step by one (a request's seed_variation) is
// made one image a call, each with its own seed: the web UI batches only
// consecutive seeds.
func TestA1111BatchSeedStep(t *testing.T) {
	f := newFakeA1111(t)
	a, err := NewA1111(A1111Options{URL: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	job := a1111Job()
	job.SeedStep = -3
	rs, err := a.GenerateBatch(context.Background(), job, 4)
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 4 {
		t.Fatalf("%d results, want 4", len(rs))
	}
	for i, r := range rs {
		if want := int64(31337 - 3*i); r.Seed != want || len(r.Image) == 0 {
			t.Errorf("result %d seed %d (%d bytes), want seed %d", i, r.Seed, len(r.Image), want)
		}
	}
	if bs, ok := f.body["batch_size"].(float64); ok && bs != 1 {
		t.Errorf("last call batch_size %v, want 1 (one image a call)", bs)
	}
	if s, _ := f.body["seed"].(float64); s != 31337-9 {
		t.Errorf("last call seed %v, want %d", f.body["seed"], 31337-9)
	}
}

// pngBase64 is a w x h PNG of one colour, base64 as the web UI sends it.
func pngBase64(t *testing.T, w, h int, c color.NRGBA) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

func TestA1111SendsTheWebUIsLivePreview(t *testing.T) {
	f := newFakeA1111(t)
	blue := color.NRGBA{0, 0, 255, 255}
	f.current = pngBase64(t, 96, 64, blue)
	got := make(chan image.Image, 16)
	seen := make(chan struct{})
	var once sync.Once
	f.hold = seen // the generation answers once a preview reached the job
	a, err := NewA1111(A1111Options{URL: f.srv.URL, ProgressInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	job := a1111Job()
	job.Preview = func(img image.Image) {
		select {
		case got <- img:
		default:
		}
		once.Do(func() { close(seen) })
	}
	res, err := a.Generate(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Image) == 0 || f.path != "/sdapi/v1/txt2img" {
		t.Fatalf("no result from txt2img (path %q)", f.path)
	}
	img := <-got
	if b := img.Bounds(); b.Dx() != 96 || b.Dy() != 64 {
		t.Errorf("preview %v, want the web UI's 96x64 current_image", b)
	}
	if c := color.NRGBAModel.Convert(img.At(10, 10)).(color.NRGBA); c != blue {
		t.Errorf("preview pixel %v, want the current_image's %v", c, blue)
	}
	for _, q := range f.progressQueries() {
		if q != "skip_current_image=false" {
			t.Errorf("progress asked with %q, want skip_current_image=false", q)
		}
	}
}

func TestA1111WithoutPreviewAsksNoProgress(t *testing.T) {
	f := newFakeA1111(t)
	f.current = pngBase64(t, 96, 64, color.NRGBA{0, 0, 255, 255})
	a, err := NewA1111(A1111Options{URL: f.srv.URL, ProgressInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Generate(context.Background(), a1111Job()); err != nil {
		t.Fatal(err)
	}
	if q := f.progressQueries(); len(q) != 0 {
		t.Errorf("%d progress requests for a job with no Preview, want none", len(q))
	}
}

// TestRunSendsA1111LivePreviews runs the worker on the A1111 backend
// against the fake web UI and the fake horde: the web UI's live preview
// reaches the horde as the job's preview before its result.
func TestRunSendsA1111LivePreviews(t *testing.T) {
	waitLonger(t)
	h := newFakeHorde(t, aihorde.KindImage, fakeJob{id: "job-a1", prompt: "a castle", seed: 5, width: 96, height: 64, model: "AlbedoBase XL"})
	h.previews, h.useR2 = true, true
	ui := newFakeA1111(t)
	ui.current = pngBase64(t, 96, 64, color.NRGBA{0, 128, 0, 255})
	ui.hold = h.firstPreview
	a, err := NewA1111(A1111Options{URL: ui.srv.URL, ProgressInterval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, h, aihorde.KindImage, a)
	cfg.Threads, cfg.Previews, cfg.Models = 1, true, []string{"AlbedoBase XL"}
	stop := startWorker(t, cfg)
	waitAll(t, h)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	_, previewed, _ := h.previewSnapshot()
	if len(previewed["job-a1"]) == 0 {
		t.Fatal("the horde got no preview of the job")
	}
	img, err := webp.Decode(bytes.NewReader(previewed["job-a1"][0]))
	if err != nil {
		t.Fatalf("preview: %v", err)
	}
	if c := color.NRGBAModel.Convert(img.At(48, 32)).(color.NRGBA); c.G < 100 || c.R > 40 || c.B > 40 {
		t.Errorf("preview pixel %v, want the web UI's green current_image", c)
	}
	_, submits, _ := h.snapshot()
	if s := submits["job-a1"]; len(s) != 1 || s[0].State != aihorde.StateOK || s[0].Generation != "R2" {
		t.Errorf("submits %+v, want one ok R2 submit", s)
	}
}

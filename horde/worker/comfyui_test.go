package worker

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/png"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gen2brain/webp"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// newTestComfyUI returns a ComfyUI backend on f with its models resolved.
func newTestComfyUI(t *testing.T, f *fakeComfyUI, opts ComfyUIOptions) *ComfyUI {
	t.Helper()
	opts.URL = f.srv.URL
	opts.Logger = testLogger(t)
	c, err := NewComfyUI(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResolveModels(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return c
}

func comfyJob() Job {
	return Job{ID: "img-1", Kind: aihorde.KindImage, Model: "albedobaseXL_v21", Prompt: "a castle on a hill ### blurry, lowres",
		Seed: 31337, SeedSet: true, TTL: time.Minute, Image: &ImageParams{Width: 96, Height: 64, Steps: 12,
			SamplerName: "k_dpmpp_2m", Karras: true, CFGScale: 6.5, ClipSkip: 2}}
}

// previewCatcher is a job's Preview that keeps what it is given.
type previewCatcher struct {
	mu   sync.Mutex
	imgs []image.Image
}

func (p *previewCatcher) take(img image.Image) {
	p.mu.Lock()
	p.imgs = append(p.imgs, img)
	p.mu.Unlock()
}

func (p *previewCatcher) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.imgs)
}

// inputs returns the inputs of the graph's node of a class.
func inputs(t *testing.T, graph map[string]any, class string) map[string]any {
	t.Helper()
	_, in := node(graph, class)
	if in == nil {
		t.Fatalf("the workflow has no %s", class)
	}
	return in
}

// checkWebP checks that data is a w x h WebP.
func checkWebP(t *testing.T, data []byte, w, h int) {
	t.Helper()
	cfg, err := webp.DecodeConfig(bytes.NewReader(data))
	if err != nil || cfg.Width != w || cfg.Height != h {
		t.Fatalf("result %dx%d %v, want a %dx%d WebP", cfg.Width, cfg.Height, err, w, h)
	}
}

func TestComfyUITxt2Img(t *testing.T) {
	f := newFakeComfyUI(t)
	c := newTestComfyUI(t, f, ComfyUIOptions{})
	job := comfyJob()
	var pc previewCatcher
	job.Preview = pc.take
	res, err := c.Generate(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	checkWebP(t, res.Image, 96, 64)
	if res.Seed != 31337 || res.State != aihorde.StateOK {
		t.Errorf("seed %d state %q", res.Seed, res.State)
	}
	prompts := f.snapshotPrompts()
	f.mu.Lock()
	refused := f.refused
	f.mu.Unlock()
	if len(prompts) != 1 || refused != 0 {
		t.Fatalf("%d prompts queued, %d refused; want one valid workflow", len(prompts), refused)
	}
	g := prompts[0].graph
	want := map[string]map[string]any{
		"KSampler":               {"seed": 31337.0, "steps": 12.0, "cfg": 6.5, "sampler_name": "dpmpp_2m", "scheduler": "karras", "denoise": 1.0},
		"CheckpointLoaderSimple": {"ckpt_name": "albedobaseXL_v21.safetensors"},
		"EmptyLatentImage":       {"width": 96.0, "height": 64.0, "batch_size": 1.0},
		"CLIPSetLastLayer":       {"stop_at_clip_layer": -2.0},
		"SaveImage":              {"filename_prefix": "hordeworker/img-1"},
	}
	for class, fields := range want {
		in := inputs(t, g, class)
		for k, v := range fields {
			if in[k] != v {
				t.Errorf("%s.%s = %v, want %v", class, k, in[k], v)
			}
		}
	}
	ks := inputs(t, g, "KSampler")
	texts := map[string]string{}
	for _, side := range []string{"positive", "negative"} {
		l, ok := asComfyLink(ks[side])
		if !ok {
			t.Fatalf("KSampler.%s = %v, not a link", side, ks[side])
		}
		texts[side] = g[l.node].(map[string]any)["inputs"].(map[string]any)["text"].(string)
	}
	if texts["positive"] != "a castle on a hill" || texts["negative"] != "blurry, lowres" {
		t.Errorf("prompts %q", texts)
	}
	if _, in := node(g, "LoadImage"); in != nil {
		t.Error("txt2img loads an image")
	}
	if pc.count() != 1 || pc.imgs[0].Bounds().Dx() != 16 {
		t.Errorf("%d previews, want the one frame ComfyUI sent", pc.count())
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.historyOps) != 1 || f.historyOps[0]["delete"].([]any)[0] != prompts[0].id {
		t.Errorf("history cleanups %v, want the prompt deleted", f.historyOps)
	}
}

func TestComfyUIImg2Img(t *testing.T) {
	f := newFakeComfyUI(t)
	c := newTestComfyUI(t, f, ComfyUIOptions{})
	src := image.NewNRGBA(image.Rect(0, 0, 32, 48))
	var buf bytes.Buffer
	if err := png.Encode(&buf, src); err != nil {
		t.Fatal(err)
	}
	job := comfyJob()
	job.ID = "job/7"
	job.SeedSet = false
	job.Image.SamplerName, job.Image.Karras = "k_euler_a", false
	job.Image.SourceImage, job.Image.SourceProcessing, job.Image.DenoisingStrength = buf.Bytes(), "img2img", 0.4
	res, err := c.Generate(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	checkWebP(t, res.Image, 96, 64)
	g := f.snapshotPrompts()[0].graph
	ks := inputs(t, g, "KSampler")
	if ks["denoise"] != 0.4 || ks["sampler_name"] != "euler_ancestral" || ks["scheduler"] != "normal" || ks["seed"] != float64(res.Seed) {
		t.Errorf("KSampler %v, result seed %d", ks, res.Seed)
	}
	if in := inputs(t, g, "LoadImage"); in["image"] != "hordeworker/job_7.png" {
		t.Errorf("LoadImage.image = %v", in["image"])
	}
	if _, lat := node(g, "EmptyLatentImage"); lat != nil {
		t.Error("img2img starts from an empty latent")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	up, err := png.DecodeConfig(bytes.NewReader(f.uploads["hordeworker/job_7.png"]))
	if err != nil || up.Width != 96 || up.Height != 64 {
		t.Errorf("uploaded source %dx%d (%v), want a 96x64 PNG", up.Width, up.Height, err)
	}
	if f.uploadForm["type"] != "input" || f.uploadForm["overwrite"] != "true" {
		t.Errorf("upload form %v", f.uploadForm)
	}
}

func TestComfyUIResolveModels(t *testing.T) {
	tests := []struct {
		name    string
		wanted  []string
		combo   bool
		missing string
		ckpts   []string
		want    []string
		wantErr string
	}{
		{name: "every checkpoint", want: []string{"albedobaseXL_v21", "sd_xl_base_1.0"}},
		{name: "every checkpoint, newer combo format", combo: true, want: []string{"albedobaseXL_v21", "sd_xl_base_1.0"}},
		{name: "named, renamed and missing", wanted: []string{"AlbedoBase XL=albedobaseXL_v21.safetensors", "SD_XL_BASE_1.0", "Deliberate"},
			want: []string{"AlbedoBase XL", "SD_XL_BASE_1.0"}},
		{name: "none of them", wanted: []string{"Deliberate"}, wantErr: "none of the models"},
		{name: "no checkpoints", ckpts: []string{}, wantErr: "no checkpoint"},
		{name: "a node ComfyUI lacks", missing: "CLIPSetLastLayer", wantErr: "no node CLIPSetLastLayer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeComfyUI(t)
			f.comboFormat, f.missing = tt.combo, tt.missing
			if tt.ckpts != nil {
				f.ckpts = tt.ckpts
			}
			c, err := NewComfyUI(ComfyUIOptions{URL: f.srv.URL, Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.ResolveModels(context.Background(), tt.wanted)
			if tt.wantErr != "" {
				if !errors.Is(err, ErrBackendSetup) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrBackendSetup saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("models %q, %v; want %q", got, err, tt.want)
			}
			job := comfyJob()
			job.Model = got[0]
			if _, err := c.Generate(context.Background(), job); err != nil {
				t.Fatalf("a job for %q: %v", got[0], err)
			}
			if ck := inputs(t, f.snapshotPrompts()[0].graph, "CheckpointLoaderSimple")["ckpt_name"]; ck != "albedobaseXL_v21.safetensors" {
				t.Errorf("ckpt_name %v", ck)
			}
		})
	}
	f := newFakeComfyUI(t)
	f.srv.Close()
	c, _ := NewComfyUI(ComfyUIOptions{URL: f.srv.URL})
	if _, err := c.ResolveModels(context.Background(), nil); err == nil || errors.Is(err, ErrBackendSetup) {
		t.Errorf("ComfyUI down: %v, want an error to retry", err)
	}
}

func TestComfyUIFaults(t *testing.T) {
	tests := []struct {
		name  string
		setup func(f *fakeComfyUI, job *Job)
		want  []string
	}{
		{name: "execution_error", setup: func(f *fakeComfyUI, job *Job) { f.failNode = "KSampler" },
			want: []string{"node 3 (KSampler) failed", "torch.OutOfMemoryError", "CUDA out of memory"}},
		{name: "execution_error without a websocket", setup: func(f *fakeComfyUI, job *Job) { f.failNode, f.noWebsocket = "VAEDecode", true },
			want: []string{"node 8 (VAEDecode) failed", "CUDA out of memory"}},
		{name: "node_errors on POST /prompt", setup: func(f *fakeComfyUI, job *Job) { f.ckpts = f.ckpts[1:] },
			want: []string{"refused", "Prompt outputs failed validation", "node 4 (CheckpointLoaderSimple): Value not in list: ckpt_name: 'albedobaseXL_v21.safetensors'"}},
		{name: "a model without a checkpoint", setup: func(f *fakeComfyUI, job *Job) { job.Model = "Deliberate" },
			want: []string{`no checkpoint for model "Deliberate"`}},
		{name: "backend down", setup: func(f *fakeComfyUI, job *Job) { f.srv.Close() }, want: []string{"comfyui", "/prompt", "connection refused"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeComfyUI(t)
			c := newTestComfyUI(t, f, ComfyUIOptions{HistoryPollInterval: 5 * time.Millisecond})
			job := comfyJob()
			tt.setup(f, &job)
			_, err := c.Generate(context.Background(), job)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want it to say %q", err, w)
				}
			}
		})
	}
}

func TestComfyUIHealth(t *testing.T) {
	f := newFakeComfyUI(t)
	c := newTestComfyUI(t, f, ComfyUIOptions{})
	if err := c.Healthy(context.Background()); err != nil {
		t.Fatalf("up: %v", err)
	}
	f.mu.Lock()
	f.down = true
	f.mu.Unlock()
	var be *BackendError
	if err := c.Healthy(context.Background()); !errors.As(err, &be) || be.StatusCode != 503 {
		t.Fatalf("starting: %v, want a 503 BackendError", err)
	}
	f.srv.Close()
	if err := c.Healthy(context.Background()); err == nil {
		t.Fatal("down: no error")
	}
}

func TestComfyUIWithoutWebsocketPollsHistory(t *testing.T) {
	f := newFakeComfyUI(t)
	f.noWebsocket = true
	c := newTestComfyUI(t, f, ComfyUIOptions{HistoryPollInterval: 5 * time.Millisecond})
	job := comfyJob()
	var pc previewCatcher
	job.Preview = pc.take
	res, err := c.Generate(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	checkWebP(t, res.Image, 96, 64)
	if pc.count() != 0 {
		t.Errorf("%d previews without a websocket", pc.count())
	}
}

func TestComfyUIAbandonedPrompt(t *testing.T) {
	t.Run("running: interrupted", func(t *testing.T) {
		f := newFakeComfyUI(t)
		f.hold = make(chan struct{})
		c := newTestComfyUI(t, f, ComfyUIOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { _, err := c.Generate(ctx, comfyJob()); done <- err }()
		id := <-f.started
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want the cancellation", err)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.interrupts) != 1 || f.interrupts[0]["prompt_id"] != id || len(f.queueOps) != 0 {
			t.Errorf("interrupts %v, queue ops %v; want the running prompt interrupted by id", f.interrupts, f.queueOps)
		}
	})
	t.Run("waiting: taken off the queue", func(t *testing.T) {
		f := newFakeComfyUI(t)
		f.busy = true
		c := newTestComfyUI(t, f, ComfyUIOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { _, err := c.Generate(ctx, comfyJob()); done <- err }()
		<-f.queued
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want the cancellation", err)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if len(f.interrupts) != 0 || len(f.queueOps) != 1 || f.queueOps[0]["delete"].([]any)[0] != "prompt-1" || len(f.pending) != 0 {
			t.Errorf("interrupts %v, queue ops %v, pending %v; want the prompt deleted from the queue, nothing interrupted", f.interrupts, f.queueOps, f.pending)
		}
	})
}

func TestParseComfyWorkflow(t *testing.T) {
	tests := []struct {
		name    string
		json    string
		wantErr string
	}{
		{name: "the default txt2img", json: string(defaultComfyTxt2Img)},
		{name: "the default img2img", json: string(defaultComfyImg2Img)},
		{name: "a UI workflow", json: `{"nodes": [], "links": [], "version": 0.4}`, wantErr: "API format"},
		{name: "not JSON", json: `{"3": `, wantErr: "not a JSON object"},
		{name: "empty", json: `{}`, wantErr: "no nodes"},
		{name: "a link to no node", json: `{"1": {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0]}}}`, wantErr: "links to node 2"},
		{name: "no class_type", json: `{"1": {"inputs": {}}}`, wantErr: "no class_type"},
		{name: "an unknown placeholder", json: `{"1": {"class_type": "X", "inputs": {"a": "{{prompt}} {{lora}}"}}}`, wantErr: "unknown placeholders lora"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseComfyWorkflow("test", []byte(tt.json))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	if _, err := NewComfyUI(ComfyUIOptions{URL: "http://127.0.0.1:1", Txt2Img: defaultComfyImg2Img}); err == nil || !strings.Contains(err.Error(), "{{image}}") {
		t.Errorf("img2img as txt2img: %v", err)
	}
	if _, err := NewComfyUI(ComfyUIOptions{URL: "http://127.0.0.1:1", Img2Img: defaultComfyTxt2Img}); err == nil || !strings.Contains(err.Error(), "{{image}}") {
		t.Errorf("txt2img as img2img: %v", err)
	}
}

func TestComfyUICustomWorkflow(t *testing.T) {
	f := newFakeComfyUI(t)
	custom := strings.Replace(string(defaultComfyTxt2Img), `"text": "{{prompt}}"`, `"text": "masterpiece, {{ prompt }}, seed {{seed}}"`, 1)
	custom = strings.Replace(custom, `"batch_size": "{{batch_size}}"`, `"batch_size": "{{batch_size}}", "_note": "{{model}}"`, 1)
	c := newTestComfyUI(t, f, ComfyUIOptions{Txt2Img: []byte(custom)})
	if _, err := c.Generate(context.Background(), comfyJob()); err != nil {
		t.Fatal(err)
	}
	g := f.snapshotPrompts()[0].graph
	var texts []string
	for _, n := range g {
		if in := n.(map[string]any)["inputs"].(map[string]any); n.(map[string]any)["class_type"] == "CLIPTextEncode" {
			texts = append(texts, in["text"].(string))
		}
	}
	slices.Sort(texts)
	if !slices.Equal(texts, []string{"blurry, lowres", "masterpiece, a castle on a hill, seed 31337"}) {
		t.Errorf("texts %q", texts)
	}
	if in := inputs(t, g, "EmptyLatentImage"); in["_note"] != "albedobaseXL_v21" {
		t.Errorf("an embedded {{model}}: %v", in["_note"])
	}
}

func TestComfyUISampler(t *testing.T) {
	tests := []struct {
		horde              string
		karras             bool
		sampler, scheduler string
		known              bool
	}{
		{"k_euler", false, "euler", "normal", true},
		{"k_euler_a", true, "euler_ancestral", "karras", true},
		{"k_dpmpp_2m", true, "dpmpp_2m", "karras", true},
		{"k_dpmpp_sde", false, "dpmpp_sde", "normal", true},
		{"k_dpm_2_a", false, "dpm_2_ancestral", "normal", true},
		{"DDIM", false, "ddim", "normal", true},
		{"lcm", false, "lcm", "normal", true},
		{"k_new_thing", false, "euler_ancestral", "normal", false},
	}
	for _, tt := range tests {
		s, sch, known := ComfyUISampler(tt.horde, tt.karras)
		if s != tt.sampler || sch != tt.scheduler || known != tt.known {
			t.Errorf("%s karras=%v: %s %s %v, want %s %s %v", tt.horde, tt.karras, s, sch, known, tt.sampler, tt.scheduler, tt.known)
		}
		if !slices.Contains(fakeComfySamplers, s) {
			t.Errorf("%s maps to %s, which ComfyUI does not have", tt.horde, s)
		}
	}
}

// comfyHordeJobs are image jobs for the fake ComfyUI's first checkpoint.
func comfyHordeJobs(n int) []fakeJob {
	jobs := imageJobs(n)
	for i := range jobs {
		jobs[i].model = "albedobaseXL_v21"
	}
	return jobs
}

func TestRunOnComfyUI(t *testing.T) {
	waitLonger(t)
	comfy := newFakeComfyUI(t)
	comfy.down = true // still starting when the worker starts
	jobs := comfyHordeJobs(2)
	f := newFakeHorde(t, aihorde.KindImage, jobs...)
	f.previews, f.useR2 = true, true
	b, err := NewComfyUI(ComfyUIOptions{URL: comfy.srv.URL, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, f, aihorde.KindImage, b)
	cfg.Threads, cfg.Previews, cfg.AllowImg2Img = 1, true, true
	stop := startWorker(t, cfg)
	<-comfy.downChecked
	if pops, _, _ := f.snapshot(); pops != 0 {
		t.Fatalf("%d pops while ComfyUI was down", pops)
	}
	comfy.mu.Lock()
	comfy.down = false
	comfy.mu.Unlock()
	waitAll(t, f)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	f.mu.Lock()
	models := f.popBodies[0]["models"]
	f.mu.Unlock()
	if want := []any{"albedobaseXL_v21", "sd_xl_base_1.0"}; !slices.Equal(models.([]any), want) {
		t.Errorf("popped models %v, want ComfyUI's checkpoints %v", models, want)
	}
	_, submits, uploads := f.snapshot()
	_, previewed, _ := f.previewSnapshot()
	for _, j := range jobs {
		s := submits[j.id]
		if len(s) != 1 || s[0].State != aihorde.StateOK || s[0].Generation != "R2" || *s[0].Seed != j.seed {
			t.Fatalf("job %s: submits %+v, want one ok R2 submit with seed %d", j.id, s, j.seed)
		}
		checkWebP(t, uploads[j.id], j.width, j.height)
		if len(previewed[j.id]) != 1 {
			t.Errorf("job %s: %d previews, want ComfyUI's preview frame", j.id, len(previewed[j.id]))
		}
	}
	for i, p := range comfy.snapshotPrompts() {
		ks := inputs(t, p.graph, "KSampler")
		if ks["seed"] != float64(jobs[i].seed) || ks["sampler_name"] != "euler_ancestral" || ks["steps"] != 20.0 || ks["cfg"] != 7.5 {
			t.Errorf("prompt %d: KSampler %v", i, ks)
		}
	}
}

// decodeWebP decodes a result image.
func decodeWebP(t *testing.T, data []byte) image.Image {
	t.Helper()
	img, err := webp.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("result is no WebP: %v", err)
	}
	return img
}

// checkColour checks that img at p is want, give or take what the
// worker's lossy WebP (quality 80) changes in a flat area.
func checkColour(t *testing.T, what string, img image.Image, p image.Point, want color.NRGBA) {
	t.Helper()
	got := color.NRGBAModel.Convert(img.At(p.X, p.Y)).(color.NRGBA)
	const tol = 16
	near := func(a, b uint8) bool { return max(a, b)-min(a, b) <= tol }
	if !near(got.R, want.R) || !near(got.G, want.G) || !near(got.B, want.B) {
		t.Errorf("%s pixel at %v is %v, want %v", what, p, got, want)
	}
}

// TestRunOnComfyUIPaintingKeepsTheSource pops an outpainting job (Discord's
// Zoom out) from the horde, paints it on ComfyUI and checks the image
// submitted: the source where it was kept, what ComfyUI sampled only on the
// transparent border.
func TestRunOnComfyUIPaintingKeepsTheSource(t *testing.T) {
	warmWebP(t)
	comfy := newFakeComfyUI(t)
	job := comfyHordeJobs(1)[0]
	job.width, job.height = 96, 64
	job.source, job.processing = base64.StdEncoding.EncodeToString(zoomCanvas(t, 96, 64)), "outpainting"
	f := newFakeHorde(t, aihorde.KindImage, job)
	b, err := NewComfyUI(ComfyUIOptions{URL: comfy.srv.URL, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, f, aihorde.KindImage, b)
	cfg.AllowImg2Img, cfg.AllowPainting = true, true
	stop := startWorker(t, cfg)
	waitAll(t, f)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	_, submits, _ := f.snapshot()
	s := submits[job.id]
	if len(s) != 1 || s[0].State != aihorde.StateOK {
		t.Fatalf("submits %+v, want one ok", s)
	}
	data, err := base64.StdEncoding.DecodeString(s[0].Generation)
	if err != nil {
		t.Fatalf("generation is not base64: %v", err)
	}
	img := decodeWebP(t, data)
	if b := img.Bounds(); b.Dx() != 96 || b.Dy() != 64 {
		t.Fatalf("result %v, want 96x64", b)
	}
	// zoomCanvas: the middle half opaque red (kept), the border transparent (painted).
	red := color.NRGBA{200, 10, 10, 255}
	for _, p := range []image.Point{{48, 32}, {30, 20}, {66, 44}} {
		checkColour(t, "kept", img, p, red)
	}
	for _, p := range []image.Point{{3, 3}, {90, 60}, {48, 4}} {
		checkColour(t, "painted", img, p, fakeComfyDecoded)
	}
}

func TestRunStopsWhenComfyUICannotServe(t *testing.T) {
	comfy := newFakeComfyUI(t)
	f := newFakeHorde(t, aihorde.KindImage)
	b, err := NewComfyUI(ComfyUIOptions{URL: comfy.srv.URL, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t, f, aihorde.KindImage, b)
	cfg.Models = []string{"Deliberate"}
	err = Run(context.Background(), cfg)
	if !errors.Is(err, ErrBackendSetup) || !strings.Contains(err.Error(), "Deliberate") {
		t.Fatalf("Run: %v, want ErrBackendSetup naming the model", err)
	}
	if pops, _, _ := f.snapshot(); pops != 0 {
		t.Errorf("%d pops", pops)
	}
}

func TestComfyUILostPromptFails(t *testing.T) {
	f := newFakeComfyUI(t)
	f.busy = true
	c := newTestComfyUI(t, f, ComfyUIOptions{HistoryPollInterval: 5 * time.Millisecond})
	done := make(chan error, 1)
	go func() { _, err := c.Generate(context.Background(), comfyJob()); done <- err }()
	<-f.queued
	f.mu.Lock()
	f.pending = nil // ComfyUI restarted: its queue is gone
	f.mu.Unlock()
	var ce *ComfyUIError
	if err := <-done; !errors.As(err, &ce) || !strings.Contains(err.Error(), "neither queued nor finished") {
		t.Fatalf("err = %v, want the lost prompt", err)
	}
}

func TestDecodeComfyWebsocket(t *testing.T) {
	frame := fakePreviewFrame(t)
	pngFrame := append([]byte{0, 0, 0, 1, 0, 0, 0, 2}, func() []byte {
		var b bytes.Buffer
		_ = png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4)))
		return b.Bytes()
	}()...)
	for _, tt := range []struct {
		name string
		data []byte
		ok   bool
	}{
		{"a JPEG preview", frame, true},
		{"a PNG preview", pngFrame, true},
		{"too short", frame[:6], false},
		{"another binary event", append([]byte{0, 0, 0, 3}, frame[4:]...), false},
		{"an unknown image format", append([]byte{0, 0, 0, 1, 0, 0, 0, 9}, frame[8:]...), false},
		{"a broken JPEG", frame[:40], false},
	} {
		if e, ok := decodeComfyPreview(tt.data); ok != tt.ok || ok && e.preview == nil {
			t.Errorf("%s: ok %v, want %v", tt.name, ok, tt.ok)
		}
	}
	for _, tt := range []struct {
		msg  string
		ok   bool
		kind comfyEventKind
		err  string
	}{
		{`{"type": "status", "data": {"status": {"exec_info": {"queue_remaining": 1}}}}`, false, 0, ""},
		{`{"type": "execution_start", "data": {"prompt_id": "p"}}`, true, comfyRunning, ""},
		{`{"type": "executing", "data": {"node": "3", "prompt_id": "p"}}`, true, comfyRunning, ""},
		{`{"type": "executing", "data": {"node": null, "prompt_id": "p"}}`, true, comfyDone, ""},
		{`{"type": "execution_success", "data": {"prompt_id": "p"}}`, true, comfyDone, ""},
		{`{"type": "execution_interrupted", "data": {"prompt_id": "p", "node_id": "3", "node_type": "KSampler"}}`, true, comfyFailed, "interrupted at node 3 (KSampler)"},
		{`{"type": "execution_error", "data": {"prompt_id": "p", "node_id": "8", "node_type": "VAEDecode", "exception_type": "RuntimeError", "exception_message": "boom\n"}}`,
			true, comfyFailed, "node 8 (VAEDecode) failed: RuntimeError: boom"},
		{`{"type": "executing", "data": {}}`, false, 0, ""},
		{`not json`, false, 0, ""},
	} {
		e, ok := decodeComfyMessage([]byte(tt.msg))
		if ok != tt.ok || ok && (e.kind != tt.kind || e.promptID != "p") {
			t.Errorf("%s: %+v %v", tt.msg, e, ok)
		}
		if tt.err != "" && (e.err == nil || !strings.HasSuffix(e.err.Error(), tt.err)) {
			t.Errorf("%s: error %v, want %q", tt.msg, e.err, tt.err)
		}
	}
}

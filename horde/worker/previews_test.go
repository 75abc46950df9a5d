package worker

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/gen2brain/webp"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// previewingBackend is the procedural backend with a live preview: before
// drawing a job it offers one partial render to the job's Preview and, when
// there is one, waits until wait is closed (the horde took a preview, or
// said it takes none), so that the preview is in before the job ends.
type previewingBackend struct {
	wait func(job Job) <-chan struct{}

	mu   sync.Mutex
	seen map[string]bool // job id -> it had a Preview
}

func (b *previewingBackend) Generate(ctx context.Context, job Job) (Result, error) {
	b.mu.Lock()
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	b.seen[job.ID] = job.Preview != nil
	b.mu.Unlock()
	if job.Preview != nil {
		final, err := proceduralImage(job.Prompt, job.Seed, job.Image.Width, job.Image.Height)
		if err != nil {
			return Result{}, err
		}
		job.Preview(partialRender(final, 0.5, job.Seed))
		select {
		case <-b.wait(job):
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
	return NewProcedural().Generate(ctx, job)
}

func (b *previewingBackend) hadPreview() map[string]bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]bool, len(b.seen))
	for k, v := range b.seen {
		out[k] = v
	}
	return out
}

// waitLonger makes the end of a job wait for its preview in flight for as
// long as the tests' guard, so that no preview is cut off by a slow machine.
func waitLonger(t *testing.T) {
	warmWebP(t)
	old := previewGrace
	previewGrace = guard
	t.Cleanup(func() { previewGrace = old })
}

func TestRunSendsLivePreviews(t *testing.T) {
	waitLonger(t)
	jobs := imageJobs(2)
	jobs[1].width, jobs[1].height = 640, 384 // scaled down to fit PreviewMaxSide
	f := newFakeHorde(t, aihorde.KindImage, jobs...)
	f.previews, f.useR2 = true, true
	b := &previewingBackend{wait: func(Job) <-chan struct{} { return f.firstPreview }}
	cfg := testConfig(t, f, aihorde.KindImage, b)
	cfg.Threads, cfg.Previews, cfg.Models = 1, true, []string{ProceduralModel}
	stop := startWorker(t, cfg)
	waitAll(t, f)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}

	_, submits, uploads := f.snapshot()
	_, previewed, headers := f.previewSnapshot()
	for _, j := range jobs {
		if s := submits[j.id]; len(s) != 1 || s[0].State != aihorde.StateOK || s[0].Generation != "R2" || len(uploads[j.id]) == 0 {
			t.Fatalf("job %s: submits %+v, want one ok R2 submit as without previews", j.id, s)
		}
		if len(previewed[j.id]) != 1 {
			t.Fatalf("job %s: %d previews taken, want 1", j.id, len(previewed[j.id]))
		}
		h := headers[j.id]
		if h.Get("Content-Type") != "image/webp" || h.Get("apikey") != testAPIKey {
			t.Errorf("job %s: preview sent with Content-Type %q and apikey %q", j.id, h.Get("Content-Type"), h.Get("apikey"))
		}
		data := previewed[j.id][0]
		c, err := webp.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("job %s: the preview is not a WebP: %v", j.id, err)
		}
		wantW, wantH := j.width, j.height
		if j.width > PreviewMaxSide {
			wantW, wantH = PreviewMaxSide, j.height*PreviewMaxSide/j.width
		}
		if c.Width != wantW || c.Height != wantH || len(data) > PreviewMaxBytes {
			t.Errorf("job %s: preview %dx%d of %d bytes, want %dx%d within %d bytes", j.id, c.Width, c.Height, len(data), wantW, wantH, PreviewMaxBytes)
		}
	}
}

func TestRunStopsPreviewsOnAHordeWithoutThem(t *testing.T) {
	waitLonger(t)
	jobs := imageJobs(3)
	f := newFakeHorde(t, aihorde.KindImage, jobs...) // previews off: the route is a 404
	answered := make(chan struct{})
	var once sync.Once
	b := &previewingBackend{wait: func(Job) <-chan struct{} {
		// The first preview's 404 is in when the job ends (close waits for it).
		once.Do(func() { close(answered) })
		return answered
	}}
	cfg := testConfig(t, f, aihorde.KindImage, b)
	cfg.Threads, cfg.Previews, cfg.Models = 1, true, []string{ProceduralModel}
	stop := startWorker(t, cfg)
	waitAll(t, f)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	puts, previewed, _ := f.previewSnapshot()
	if puts != 1 || len(previewed) != 0 {
		t.Errorf("%d preview PUTs, want only the first (a 404 turns previews off)", puts)
	}
	_, submits, _ := f.snapshot()
	for _, j := range jobs {
		if s := submits[j.id]; len(s) != 1 || s[0].State != aihorde.StateOK {
			t.Errorf("job %s: submits %+v, want one ok submit", j.id, s)
		}
	}
	had := b.hadPreview()
	if !had[jobs[0].id] || had[jobs[1].id] || had[jobs[2].id] {
		t.Errorf("jobs given a Preview: %v; want only the first", had)
	}
}

func TestRunWithPreviewsOffSendsNone(t *testing.T) {
	warmWebP(t)
	f := newFakeHorde(t, aihorde.KindImage, imageJobs(2)...)
	f.previews = true
	b := &previewingBackend{wait: func(Job) <-chan struct{} { return f.firstPreview }}
	cfg := testConfig(t, f, aihorde.KindImage, b) // Previews false
	cfg.Models = []string{ProceduralModel}
	stop := startWorker(t, cfg)
	waitAll(t, f)
	if err := stop(); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if puts, _, _ := f.previewSnapshot(); puts != 0 {
		t.Errorf("%d preview PUTs with previews off", puts)
	}
	for id, had := range b.hadPreview() {
		if had {
			t.Errorf("job %s had a Preview with previews off", id)
		}
	}
}

func TestRouteMissing(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&APIError{StatusCode: http.StatusNotFound, Message: "404 page not found"}, true},
		{&APIError{StatusCode: http.StatusNotFound, RC: "NotFound"}, true},
		{&APIError{StatusCode: http.StatusMethodNotAllowed, RC: "MethodNotAllowed"}, true},
		{&APIError{StatusCode: http.StatusForbidden, RC: "FeatureDisabled"}, true},
		{&APIError{StatusCode: http.StatusNotFound, RC: "InvalidJobID"}, false},
		{&APIError{StatusCode: http.StatusForbidden, RC: "WrongCredentials"}, false},
		{&APIError{StatusCode: http.StatusConflict, RC: "JobFinished"}, false},
		{&APIError{StatusCode: http.StatusTooManyRequests, RC: "TooManyPreviews"}, false},
		{fmt.Errorf("preview: %w", &APIError{StatusCode: http.StatusNotFound}), true},
		{context.DeadlineExceeded, false},
	}
	for _, tt := range tests {
		if got := routeMissing(tt.err); got != tt.want {
			t.Errorf("routeMissing(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestProceduralPacedStepsShowPartialRenders(t *testing.T) {
	var mu sync.Mutex
	var frames []image.Image
	job := Job{ID: "img-1", Kind: aihorde.KindImage, Prompt: "a lighthouse at dusk", Seed: 42, SeedSet: true,
		Image: &ImageParams{Width: 64, Height: 48, Steps: 8}, TTL: guard,
		Preview: func(img image.Image) {
			mu.Lock()
			frames = append(frames, img)
			mu.Unlock()
		}}
	res, err := (&Procedural{StepTime: time.Microsecond}).Generate(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	instant, err := NewProcedural().Generate(context.Background(), Job{ID: job.ID, Kind: job.Kind, Prompt: job.Prompt,
		Seed: job.Seed, SeedSet: true, Image: job.Image})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.Image, instant.Image) {
		t.Error("a paced job's result differs from the same job drawn at once")
	}
	if len(frames) != job.Image.Steps-1 {
		t.Fatalf("%d partial renders, want one after each step but the last (%d)", len(frames), job.Image.Steps-1)
	}
	final, err := proceduralImage(job.Prompt, job.Seed, 64, 48)
	if err != nil {
		t.Fatal(err)
	}
	first, last := distance(frames[0], final), distance(frames[len(frames)-1], final)
	if b := frames[0].Bounds(); b.Dx() != 64 || b.Dy() != 48 {
		t.Errorf("partial render %v, want the job's 64x48", b)
	}
	if !(last < first) || first == 0 {
		t.Errorf("distance to the final picture: first render %d, last %d; want it to shrink as steps go", first, last)
	}
}

func TestProceduralPacedJobEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	job := Job{ID: "img-1", Kind: aihorde.KindImage, Prompt: "p", Seed: 1, SeedSet: true,
		Image:   &ImageParams{Width: 64, Height: 64, Steps: 50},
		Preview: func(image.Image) { cancel() }} // the first step's render ends the job
	if _, err := (&Procedural{StepTime: time.Microsecond}).Generate(ctx, job); err == nil {
		t.Fatal("a paced job ran on after its context ended")
	}
}

// warmWebP encodes one WebP before a test's waits begin: the first encode
// of a process compiles the encoder (seconds under the race detector).
func warmWebP(t *testing.T) {
	t.Helper()
	if _, err := EncodeWebP(image.NewNRGBA(image.Rect(0, 0, 8, 8))); err != nil {
		t.Fatal(err)
	}
}

// distance is the sum of absolute channel differences of two images of one size.
func distance(a, b image.Image) int {
	d := 0
	r := a.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			ca := color.NRGBAModel.Convert(a.At(x, y)).(color.NRGBA)
			cb := color.NRGBAModel.Convert(b.At(x, y)).(color.NRGBA)
			d += abs(int(ca.R)-int(cb.R)) + abs(int(ca.G)-int(cb.G)) + abs(int(ca.B)-int(cb.B))
		}
	}
	return d
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

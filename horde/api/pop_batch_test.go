package api_test

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/worker"
)

// regenPop is the pop horde-worker-reGen sends with max_batch 4 on a 12 GB
// card: amount 4, max_pixels from max_power, limit_max_steps, and the
// capability flags it always sends.
func regenPop(name string, extra map[string]any) map[string]any {
	body := imagePop(name, map[string]any{
		"amount": 4, "max_pixels": 1024 * 1024, "limit_max_steps": true, "extra_slow_worker": false,
		"allow_img2img": true, "allow_painting": false, "allow_post_processing": true, "allow_lora": false,
		"allow_controlnet": false, "allow_sdxl_controlnet": false, "allow_unsafe_ipaddr": true,
		"require_upfront_kudos": false, "threads": 1, "priority_usernames": []string{}, "blacklist": []string{},
	})
	for k, v := range extra {
		body[k] = v
	}
	return body
}

// TestReGenBatchedPop pops as reGen does with amount 4 and checks what it
// reads: n_iter = len(ids) (it makes n_iter images), one r2_uploads URL per
// id, ids in item order, and skipped counting what limit_max_steps and
// max_pixels passed over. Each id then submits its own image.
func TestReGenBatchedPop(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("regen-owner")

	big := e.asyncImage("", map[string]any{"params": map[string]any{"steps": 20, "width": 1536, "height": 1536, "n": 1}})
	long := e.asyncImage("", map[string]any{"params": map[string]any{"steps": 40, "width": 512, "height": 512, "n": 4}})
	second := e.asyncImage("", map[string]any{"params": map[string]any{"steps": 20, "width": 512, "height": 512, "n": 1, "sampler_name": "k_heun"}})
	want := e.asyncImage("", map[string]any{"params": map[string]any{"steps": 30, "width": 512, "height": 512, "n": 4, "seed": "1000"}})

	r := e.do("POST", "/api/v2/generate/pop", key, regenPop("regen-1", nil))
	wantStatus(t, r, http.StatusOK)
	var out struct {
		ID        string         `json:"id"`
		IDs       []string       `json:"ids"`
		R2Uploads []string       `json:"r2_uploads"`
		R2Upload  string         `json:"r2_upload"`
		Skipped   map[string]int `json:"skipped"`
		Payload   struct {
			NIter int    `json:"n_iter"`
			Seed  string `json:"seed"`
			Steps int    `json:"steps"`
		} `json:"payload"`
	}
	r.json(t, &out)
	if len(out.IDs) != 4 || out.ID != out.IDs[0] {
		t.Fatalf("pop gave id %q ids %v, want 4 ids of one request: %s", out.ID, out.IDs, r.body)
	}
	if out.Payload.NIter != len(out.IDs) {
		t.Errorf("payload.n_iter = %d with %d ids; the AI Horde sends n_iter = len(ids)", out.Payload.NIter, len(out.IDs))
	}
	if out.Payload.Steps != 30 || out.Payload.Seed != "1000" {
		t.Errorf("payload steps %d seed %q, want the 30-step request with seed 1000", out.Payload.Steps, out.Payload.Seed)
	}
	if len(out.R2Uploads) != len(out.IDs) || out.R2Upload != out.R2Uploads[0] {
		t.Fatalf("r2_uploads %v (r2_upload %q), want one per id", out.R2Uploads, out.R2Upload)
	}
	for i, u := range out.R2Uploads {
		if u != e.srv.URL+"/api/v2/r2/"+out.IDs[i]+".webp" {
			t.Errorf("r2_uploads[%d] = %q, not the upload URL of ids[%d] %s", i, u, i, out.IDs[i])
		}
	}
	// 40 steps and k_heun's 2x20 are over the 30 steps a limit_max_steps
	// worker takes of a model the horde has no reference for; 1536x1536 is
	// over max_pixels.
	if out.Skipped["step_count"] != 2 || out.Skipped["max_pixels"] != 1 {
		t.Errorf("skipped = %v, want step_count 2 and max_pixels 1", out.Skipped)
	}

	for i, id := range out.IDs {
		wantStatus(t, e.do("PUT", out.R2Uploads[i], "", pngImage(t, uint8(i))), http.StatusOK)
		r := e.do("POST", "/api/v2/generate/submit", key, map[string]any{
			"id": id, "generation": "R2", "state": "ok", "seed": 1000 + i,
		})
		wantStatus(t, r, http.StatusOK)
	}
	var status struct {
		Done        bool `json:"done"`
		Finished    int  `json:"finished"`
		Generations []struct {
			ID   string `json:"id"`
			Seed string `json:"seed"`
		} `json:"generations"`
	}
	e.do("GET", "/api/v2/generate/status/"+want, "", nil).json(t, &status)
	if !status.Done || status.Finished != 4 || len(status.Generations) != 4 {
		t.Fatalf("after four submits: done %v finished %d generations %d", status.Done, status.Finished, len(status.Generations))
	}
	for _, g := range status.Generations {
		if !slices.Contains(out.IDs, g.ID) {
			t.Errorf("generation %s is not one of the popped ids", g.ID)
		}
	}

	// The same worker without limit_max_steps takes the long request, as
	// many of its items as asked for.
	r = e.do("POST", "/api/v2/generate/pop", key, regenPop("regen-1", map[string]any{"limit_max_steps": false}))
	r.json(t, &out)
	if len(out.IDs) != 4 || out.Payload.NIter != 4 || out.Payload.Steps != 40 {
		t.Errorf("without limit_max_steps: ids %v n_iter %d steps %d, want the 4 items of the 40-step request %s",
			out.IDs, out.Payload.NIter, out.Payload.Steps, long)
	}
	_, _ = big, second
}

// TestPopBatchSize checks the AI Horde's safe amount: a batch is bounded by
// the worker's max_pixels over the request's size, and disable_batching
// gives one item a pop.
func TestPopBatchSize(t *testing.T) {
	tests := []struct {
		name    string
		request map[string]any
		ids     int
	}{
		{"512x512 batches as asked", map[string]any{"params": map[string]any{"width": 512, "height": 512, "n": 4}}, 4},
		{"1024x1024 fills max_pixels alone", map[string]any{"params": map[string]any{"width": 1024, "height": 1024, "n": 4}}, 1},
		{"768x768 two at a time", map[string]any{"params": map[string]any{"width": 768, "height": 768, "n": 4}}, 2},
		{"disable_batching", map[string]any{"disable_batching": true, "params": map[string]any{"width": 512, "height": 512, "n": 4}}, 1},
		{"heavy post-processing", map[string]any{"params": map[string]any{"width": 512, "height": 512, "n": 4, "post_processing": []string{"RealESRGAN_x4plus"}}}, 2},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, api.Options{})
			_, key := e.user("owner")
			params := tt.request["params"].(map[string]any)
			params["steps"] = 20
			e.asyncImage("", tt.request)
			r := e.do("POST", "/api/v2/generate/pop", key, regenPop("rig-"+strconv.Itoa(i), nil))
			var out struct {
				IDs     []string `json:"ids"`
				Payload struct {
					NIter int `json:"n_iter"`
				} `json:"payload"`
			}
			r.json(t, &out)
			if len(out.IDs) != tt.ids || out.Payload.NIter != tt.ids {
				t.Errorf("ids %d n_iter %d, want %d: %s", len(out.IDs), out.Payload.NIter, tt.ids, r.body)
			}
		})
	}
}

// TestPopWorkerSpeedChoices checks extra_slow_worker against a request's
// extra_slow_workers, and the "performance" skip count.
func TestPopWorkerSpeedChoices(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	e.asyncImage("", nil)
	slow := regenPop("very-slow", map[string]any{"extra_slow_worker": true})

	var out struct {
		IDs     []string       `json:"ids"`
		Skipped map[string]int `json:"skipped"`
	}
	e.do("POST", "/api/v2/generate/pop", key, slow).json(t, &out)
	if len(out.IDs) != 0 || out.Skipped["performance"] != 1 {
		t.Fatalf("extra slow worker: ids %v skipped %v, want no job and performance 1", out.IDs, out.Skipped)
	}
	e.asyncImage("", map[string]any{"extra_slow_workers": true})
	e.do("POST", "/api/v2/generate/pop", key, slow).json(t, &out)
	if len(out.IDs) != 1 {
		t.Fatalf("extra slow worker and a request allowing it: ids %v skipped %v, want the job", out.IDs, out.Skipped)
	}
}

// TestCheckIsPossible checks is_possible over HTTP: false with no worker
// online (the AI Horde's wp_has_valid_workers), true once one that can
// serve it pops.
func TestCheckIsPossible(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	id := e.asyncImage("", nil)
	var check struct {
		IsPossible bool `json:"is_possible"`
	}
	e.do("GET", "/api/v2/generate/check/"+id, "", nil).json(t, &check)
	if check.IsPossible {
		t.Errorf("is_possible true with no worker online")
	}
	e.do("POST", "/api/v2/generate/pop", key, imagePop("small", map[string]any{"max_pixels": 256 * 256, "amount": 1}))
	e.clock.Advance(11e9) // past the is_possible cache
	e.do("GET", "/api/v2/generate/check/"+id, "", nil).json(t, &check)
	if check.IsPossible {
		t.Errorf("is_possible true with only a worker too small for it")
	}
	e.do("POST", "/api/v2/generate/pop", key, imagePop("big", map[string]any{"amount": 1}))
	e.do("GET", "/api/v2/generate/check/"+id, "", nil).json(t, &check)
	if !check.IsPossible {
		t.Errorf("is_possible false while its job is processing")
	}
}

// batchCounter is the procedural backend, counting its calls.
type batchCounter struct {
	*worker.Procedural
	mu      sync.Mutex
	single  int
	batches []int
}

func (b *batchCounter) Generate(ctx context.Context, job worker.Job) (worker.Result, error) {
	b.mu.Lock()
	b.single++
	b.mu.Unlock()
	return b.Procedural.Generate(ctx, job)
}

func (b *batchCounter) GenerateBatch(ctx context.Context, job worker.Job, n int) ([]worker.Result, error) {
	b.mu.Lock()
	b.batches = append(b.batches, n)
	b.mu.Unlock()
	return b.Procedural.GenerateBatch(ctx, job, n)
}

// TestReferenceWorkerBatches runs the reference worker with MaxBatch 4
// against the API: a request of 4 images is one pop of 4 ids, made in one
// backend call, and each id is submitted with its own image and seed: seed,
// seed+1, ... or, with seed_variation v, the AI Horde's seed + v*items-left
// of each item (512, 509, 506, 503 for seed 500 and v 3).
func TestReferenceWorkerBatches(t *testing.T) {
	for _, tc := range []struct {
		name  string
		extra map[string]any
		want  []string
	}{
		{"consecutive seeds", map[string]any{}, []string{"500", "501", "502", "503"}},
		{"seed_variation 3", map[string]any{"seed_variation": 3}, []string{"503", "506", "509", "512"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			params := map[string]any{"steps": 20, "width": 512, "height": 512, "n": 4, "seed": "500"}
			for k, v := range tc.extra {
				params[k] = v
			}
			e := newEnv(t, api.Options{})
			_, key := e.user("owner")
			id := e.asyncImage("", map[string]any{"params": params})
			backend := &batchCounter{Procedural: worker.NewProcedural()}
			status := runWorkerUntilDone(t, e, key, backend, id)
			backend.mu.Lock()
			defer backend.mu.Unlock()
			if !slices.Equal(backend.batches, []int{4}) || backend.single != 0 {
				t.Errorf("backend calls: batches %v, single %d; want one batch of 4", backend.batches, backend.single)
			}
			var seeds []string
			imgs := map[string]bool{}
			for _, g := range status.Generations {
				seeds = append(seeds, g.Seed)
				imgs[g.Img] = true
			}
			slices.SortFunc(seeds, func(a, b string) int { x, _ := strconv.Atoi(a); y, _ := strconv.Atoi(b); return x - y })
			if !slices.Equal(seeds, tc.want) || len(imgs) != 4 {
				t.Errorf("generations: seeds %v, %d distinct images; want seeds %v, 4 images", seeds, len(imgs), tc.want)
			}
		})
	}
}

// workerStatus is what TestReferenceWorkerBatches reads of a request.
type workerStatus struct {
	Done        bool `json:"done"`
	Generations []struct {
		ID   string `json:"id"`
		Seed string `json:"seed"`
		Img  string `json:"img"`
	} `json:"generations"`
}

// runWorkerUntilDone runs the reference worker (MaxBatch 4) on backend
// until request id is done, and returns its status.
func runWorkerUntilDone(t *testing.T, e *env, key string, backend worker.Backend, id string) workerStatus {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- worker.Run(ctx, worker.Config{
			BaseURL: e.srv.URL, APIKey: key, Name: "batcher", Kind: aihorde.KindImage, Models: []string{"stable_diffusion"},
			Backend: backend, MaxBatch: 4, PopInterval: 10 * time.Millisecond, Logger: quietLogger(),
		})
	}()
	var status workerStatus
	for !status.Done {
		select {
		case err := <-done:
			t.Fatalf("worker stopped: %v", err)
		default:
		}
		e.do("GET", "/api/v2/generate/status/"+id, "", nil).json(t, &status)
		time.Sleep(5 * time.Millisecond) // a poll, not a timed assertion
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("worker: %v", err)
	}
	return status
}

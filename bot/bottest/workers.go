package bottest

import (
	"context"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/worker"
)

// Names of the workers StartProceduralWorkers runs.
const (
	ProceduralWorkerName    = "procedural-gpu"
	ProceduralAlchemistName = "procedural-alchemist"
)

// ProceduralWorkers are the reference worker and alchemist the harness
// runs over the AI Horde API, as volunteers' machines would.
type ProceduralWorkers struct {
	// API is the horde API's address (http://127.0.0.1:port).
	API string
	// Key is the API key of the workers' owner.
	Key string
}

// StartProceduralWorkers serves the horde API on 127.0.0.1 and runs
// against it, until the test ends, the reference worker with the
// procedural backend (img2img and painting allowed, NSFW, 2 threads) and
// an alchemist with the procedural alchemy backend (every form), both
// owned by a fresh API user and popping every 10 ms. Their images are PNGs,
// encoded in milliseconds (WebP's encoder takes seconds under -race). Results then come
// from real pops and submits of the AI Horde protocol: an img2img really
// blends its source, a 2x upscale really is twice the size.
func (h *Harness) StartProceduralWorkers() *ProceduralWorkers {
	h.T.Helper()
	srv := httptest.NewServer(api.New(h.Horde, api.Options{
		Clock: h.Clock, Logger: QuietLogger(), Previews: h.Previews,
		KeyLimit: api.RateLimit{Rate: 1e6, Burst: 1e6}, IPLimit: api.RateLimit{Rate: 1e6, Burst: 1e6},
	}))
	h.T.Cleanup(srv.Close)
	_, key, err := h.Horde.CreateUser(h.Ctx, "volunteer")
	Must(h.T, err)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	h.T.Cleanup(func() { cancel(); wg.Wait() }) // before the server and the store close
	retry := worker.RetryPolicy{MaxAttempts: 40, BaseDelay: 10 * time.Millisecond, MaxDelay: 200 * time.Millisecond}
	wg.Add(2)
	go func() {
		defer wg.Done()
		err := worker.Run(ctx, worker.Config{
			BaseURL: srv.URL, APIKey: key, Name: ProceduralWorkerName, Kind: aihorde.KindImage,
			Backend: &worker.Procedural{Format: "png"}, MaxPixels: 2048 * 2048, NSFW: true, AllowImg2Img: true, AllowPainting: true,
			Threads: 2, PopInterval: 10 * time.Millisecond, Retry: retry, Logger: QuietLogger(),
		})
		if err != nil && ctx.Err() == nil {
			h.T.Errorf("procedural worker stopped: %v", err)
		}
	}()
	go func() {
		defer wg.Done()
		err := worker.RunAlchemist(ctx, worker.AlchemistConfig{
			BaseURL: srv.URL, APIKey: key, Name: ProceduralAlchemistName, Backend: worker.ProceduralAlchemy{Format: "png"},
			MaxTiles: aihorde.MaxTiles, PopInterval: 10 * time.Millisecond, Retry: retry, Logger: QuietLogger(),
		})
		if err != nil && ctx.Err() == nil {
			h.T.Errorf("procedural alchemist stopped: %v", err)
		}
	}()
	return &ProceduralWorkers{API: srv.URL, Key: key}
}

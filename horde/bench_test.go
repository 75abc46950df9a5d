package horde

import (
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// Benchmark sizes: the design target of 100k waiting requests and 10k workers.
const (
	benchRequests = 100_000
	benchModels   = 50
	benchWorkers  = 10_000
)

func benchModel(i int) string { return fmt.Sprintf("model-%02d", i) }

// benchQueue builds a horde in memory (no store: only the pop decision is
// measured) holding n waiting requests over benchModels models and w
// registered workers with realistic variety: some requests name no model or
// two, some are nsfw, large or need img2img; some workers are sfw-only,
// small, or have a blacklist.
func benchQueue(tb testing.TB, n, w int) (*Horde, []*workerState) {
	tb.Helper()
	cfg := Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}.withDefaults()
	h := &Horde{
		cfg: cfg, clock: cfg.Clock, log: cfg.Logger, q: newQueueIndex(),
		reqs: make(map[string]*openRequest), jobs: make(map[string]*openJob),
		workers: make(map[string]*workerState), workerNames: make(map[string]*workerState),
		balances: make(map[int64]int64), pendingEnds: make(map[*openRequest]pendingEnd),
	}
	h.cond = sync.NewCond(&h.mu)
	rng := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < n; i++ {
		req := Request{
			ID: fmt.Sprintf("req-%06d", i), Kind: KindImage, UserID: int64(1 + rng.IntN(5000)),
			Prompt: "a detailed painting of a lighthouse at dusk ### blurry",
			Image:  &ImageParams{Width: 512, Height: 512, Steps: 30, Seed: "1"},
			N:      1 + rng.IntN(2), Kudos: 20, Priority: rng.Int64N(1000),
			CreatedAt: base.Add(time.Duration(i) * 10 * time.Millisecond),
		}
		switch x := rng.IntN(100); {
		case x < 10: // any model
		case x < 15:
			req.Models = []string{benchModel(rng.IntN(benchModels)), benchModel(rng.IntN(benchModels))}
		default:
			req.Models = []string{benchModel(rng.IntN(benchModels))}
		}
		if rng.IntN(10) == 0 {
			req.NSFW = true
		}
		if rng.IntN(20) == 0 {
			req.Image.Width, req.Image.Height = 1024, 1024
		}
		if rng.IntN(50) == 0 {
			req.Image.SourceImage = "x"
		}
		r := h.newOpenRequest(req)
		r.waiting = len(r.items)
		h.reqs[req.ID] = r
		h.q.add(r)
		h.balances[req.UserID] = req.Priority
	}
	workers := make([]*workerState, w)
	for i := range workers {
		ws := &workerState{w: Worker{
			ID: fmt.Sprintf("worker-%05d", i), Name: fmt.Sprintf("rig-%05d", i), OwnerID: int64(10_000 + i),
			Kind: KindImage, MaxPixels: 1024 * 1024, NSFW: rng.IntN(2) == 0, Threads: 1,
			AllowImg2Img: rng.IntN(2) == 0, LastPop: base,
		}}
		for m := 0; m < 1+rng.IntN(3); m++ {
			ws.w.Models = append(ws.w.Models, benchModel(rng.IntN(benchModels)))
		}
		if rng.IntN(4) == 0 {
			ws.w.MaxPixels = 512 * 512
		}
		if rng.IntN(10) == 0 {
			ws.setBlacklist([]string{"lighthouse"})
		}
		workers[i] = ws
		h.workers[ws.w.ID] = ws
		h.workerNames[ws.w.Name] = ws
	}
	return h, workers
}

// BenchmarkPop measures the in-memory pop decision (choose a request, take
// its item) among 100,000 waiting requests over 50 models and 10,000
// registered workers, and reports its p50 and p99 latency. The item is put
// back after each pop (untimed) so that the queue stays the same size.
func BenchmarkPop(b *testing.B) {
	h, workers := benchQueue(b, benchRequests, benchWorkers)
	p := &PopRequest{}
	lat := make([]time.Duration, 0, b.N)
	now := time.Date(2025, 1, 1, 1, 0, 0, 0, time.UTC)
	empty := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ws := workers[i%len(workers)]
		start := time.Now()
		h.mu.Lock()
		var jobs []*openJob
		if r := h.choose(ws, p, Skipped{}); r != nil {
			jobs = h.take(r, ws, 1, now)
		}
		h.mu.Unlock()
		lat = append(lat, time.Since(start))

		b.StopTimer()
		if len(jobs) == 0 {
			empty++
		}
		h.mu.Lock()
		h.untake(jobs)
		h.mu.Unlock()
		b.StartTimer()
	}
	b.StopTimer()
	reportLatency(b, lat)
	b.ReportMetric(float64(empty)/float64(b.N), "empty/op")
}

// reportLatency reports the p50 and p99 of per-op latencies.
func reportLatency(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}

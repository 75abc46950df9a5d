package horde_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// benchSize reads a size from the environment (HORDE_BENCH_REQUESTS,
// HORDE_BENCH_WORKERS) so that the full-size store benchmark, whose setup
// writes every request to SQLite, can be run on demand.
func benchSize(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkPopStored measures a whole Pop, including the durable StartJob
// write to SQLite, and reports p50 and p99. The queue holds
// HORDE_BENCH_REQUESTS waiting requests (default 20,000; set 100000 for the
// design target) over 50 models with HORDE_BENCH_WORKERS workers (default
// 2,000). Each request has 20 items so the queue does not run dry.
func BenchmarkPopStored(b *testing.B) {
	nReq := benchSize("HORDE_BENCH_REQUESTS", 20_000)
	nWork := benchSize("HORDE_BENCH_WORKERS", 2_000)
	e := newEnv(b, horde.Config{})
	owner := e.user("owner", 0)
	requesters := make([]horde.Credential, 50)
	for i := range requesters {
		requesters[i] = e.user(fmt.Sprintf("req%d", i), int64(i*20))
	}

	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for i := g; i < nReq; i += 8 {
				nr := imageRequest("a lighthouse at dusk", fmt.Sprintf("model-%02d", rng.IntN(50)))
				nr.N = aihorde.MaxN
				if _, _, err := e.h.Submit(e.ctx, requesters[rng.IntN(len(requesters))].User, nr); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	pops := make([]horde.PopRequest, nWork)
	for i := range pops {
		pops[i] = imagePop(fmt.Sprintf("rig-%05d", i), fmt.Sprintf("model-%02d", i%50), fmt.Sprintf("model-%02d", (i*7)%50))
		if _, _, err := e.h.Pop(e.ctx, owner, horde.PopRequest{Kind: horde.KindImage, Name: pops[i].Name, Models: []string{"none"}}); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("setup: %d requests, %d workers in %v", nReq, nWork, time.Since(start))

	lat := make([]time.Duration, 0, b.N)
	empty := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		as, _, err := e.h.Pop(e.ctx, owner, pops[i%len(pops)])
		lat = append(lat, time.Since(t0))
		if err != nil {
			b.Fatal(err)
		}
		if len(as) == 0 {
			empty++
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(empty)/float64(b.N), "empty/op")
}

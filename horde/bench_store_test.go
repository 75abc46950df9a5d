package horde_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// No concurrency or worker limit, and kudos enough: the queue is measured.
	e := newEnv(b, horde.Config{Concurrency: 1 << 30, Trust: horde.TrustConfig{MaxWorkersUntrusted: 1 << 20, MaxWorkersTrusted: 1 << 20}})
	owner := e.user("owner", 0)
	// A thousand members, a hundred requests each at 100,000: a member's
	// admission reads what their open work holds, so fifty members holding
	// 2,000 requests each made the setup quadratic (over 18 minutes on
	// PostgreSQL at 100,000).
	requesters := make([]horde.Credential, 1000)
	for i := range requesters {
		requesters[i] = e.user(fmt.Sprintf("req%d", i), 1_000_000_000+int64(i*20))
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

	// The pops are a sub-benchmark so that the setup runs once: testing
	// runs a benchmark's function once with b.N = 1 before the real run,
	// and a function with sub-benchmarks only once.
	next := 0
	b.Run(fmt.Sprintf("waiting=%d", nReq), func(b *testing.B) {
		lat := make([]time.Duration, 0, b.N)
		empty := 0
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			t0 := time.Now()
			as, _, err := e.h.Pop(e.ctx, owner, pops[next%len(pops)])
			next++
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
	})
}

// benchModelNames are model names as clients send them.
var benchModelNames = []string{"stable_diffusion", "AlbedoBase XL (SDXL)", "Deliberate", "Dreamshaper",
	"Juggernaut XL", "Anything Diffusion", "ICBINP - I Can't Believe It's Not Photography", "Realistic Vision"}

// BenchmarkWaitingMemory measures what waiting requests cost in memory: it
// submits HORDE_BENCH_WAITING (default 100,000) ordinary image requests (a
// prompt of about 160 characters with a negative part, one model, default
// parameters, each string freshly allocated as a decoded HTTP body's would
// be) to a horde over a real SQLite store in a temp dir, from 32 callers,
// and reports the Go heap in use after a GC (heap-MiB), its growth per
// waiting request (B/request) and the process's resident set (rss-MiB).
// It runs once, whatever b.N says.
func BenchmarkWaitingMemory(b *testing.B) {
	n := benchSize("HORDE_BENCH_WAITING", 100_000)
	const members = 100
	e := newEnv(b, horde.Config{Concurrency: n})
	creds := make([]horde.Credential, members)
	for i := range creds {
		creds[i] = e.user(fmt.Sprintf("member%03d", i), 1<<40)
	}
	heap0 := heapInUse()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	var next atomic.Int64
	errs := make(chan error, 32)
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)); i <= n; i = int(next.Add(1)) {
				nr := horde.NewRequest{
					Kind: horde.KindImage, N: 1, R2: true, Source: "api",
					Prompt: fmt.Sprintf("A detailed oil painting of the Lighthouse of Alexandria on a rocky coast at dusk (%d), "+
						"dramatic clouds, volumetric light, highly detailed ### blurry, lowres, watermark", i),
					Models:      []string{strings.Clone(benchModelNames[i%len(benchModelNames)])},
					ClientAgent: strings.Clone("hordebot-loadgen:1:none"),
				}
				if _, _, err := e.h.Submit(e.ctx, creds[i%members].User, nr); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	heap := heapInUse()
	perf, err := e.h.Performance(e.ctx)
	if err != nil {
		b.Fatal(err)
	}
	if perf.QueuedRequests != n {
		b.Fatalf("%d items waiting, want %d", perf.QueuedRequests, n)
	}
	b.Logf("%d requests accepted in %v", n, elapsed)
	b.ReportMetric(float64(heap)/(1<<20), "heap-MiB")
	b.ReportMetric(float64(int64(heap)-int64(heap0))/float64(n), "B/request")
	b.ReportMetric(float64(residentBytes())/(1<<20), "rss-MiB")
	b.ReportMetric(float64(n)/elapsed.Seconds(), "accepts/s")
	runtime.KeepAlive(e)
}

// heapInUse is the Go heap in use after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// residentBytes is the process's resident set size (0 where /proc is missing).
func residentBytes() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

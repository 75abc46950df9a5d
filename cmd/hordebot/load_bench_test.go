package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/worker"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// Load generator sizes: how many fake workers and clients hit the server at
// once, and how long one benchmark run may take before it gives up.
const (
	loadWorkers  = 32
	loadClients  = 32
	loadDeadline = 3 * time.Minute
)

// loadEnv is the real App serving on 127.0.0.1 over a real SQLite store in
// a temp dir, plus a keep-alive HTTP client sized for the load.
type loadEnv struct {
	app  *runningApp
	base string
	hc   *http.Client
}

func newLoadEnv(b *testing.B, conns int) *loadEnv {
	b.Helper()
	return newLoadEnvOn(b, conns, "")
}

// newLoadEnvOn is newLoadEnv on the database database ("": SQLite in the
// benchmark's data directory).
func newLoadEnvOn(b *testing.B, conns int, database string) *loadEnv {
	b.Helper()
	cfg := testConfig(b, b.TempDir())
	cfg.Database.URL = database
	// The fake workers answer at once, which the speed check would rightly
	// find suspicious and pause them for.
	cfg.Moderation.MaxMegapixelStepsPerSecond = 0
	// One key runs every fake worker, more than an untrusted owner may.
	cfg.Moderation.MaxWorkersUntrusted = -1
	// The garbage collector as the hordebot binary sets it (main).
	b.Cleanup(tuneGC(os.Getenv))
	app := startApp(b, cfg, nil)
	b.Cleanup(func() { app.shutdown(b) })
	return &loadEnv{app: app, base: "http://" + app.Addr(), hc: loadClient(b, conns)}
}

// loadClient is the load generator's keep-alive HTTP client for conns
// concurrent callers, the same for the server and for the trivial handler
// it is measured against.
func loadClient(b *testing.B, conns int) *http.Client {
	tr := &http.Transport{MaxIdleConns: conns, MaxIdleConnsPerHost: conns, IdleConnTimeout: time.Minute}
	b.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// post sends a pre-encoded JSON body and decodes a 2xx answer into out.
func (e *loadEnv) post(ctx context.Context, path, key string, body []byte, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Client-Agent", "hordebot-loadgen:1:none")
	req.Header.Set("apikey", key)
	resp, err := e.hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("POST %s: status %d: %s", path, resp.StatusCode, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("POST %s: decode %q: %w", path, data, err)
		}
	}
	return resp.StatusCode, nil
}

// richUser creates an API user holding enough kudos never to hit the floor.
func (e *loadEnv) richUser(b *testing.B, name string) (horde.User, string) {
	b.Helper()
	ctx := context.Background()
	u, key, err := e.app.Horde.CreateUser(ctx, name)
	if err != nil {
		b.Fatal(err)
	}
	grant := kudos.Entry{UserID: u.ID, Delta: 1 << 40, Kind: kudos.KindAdmin, Reason: "load benchmark",
		Key: "bench-grant-" + name, Floor: kudos.NoFloor, At: time.Now()}
	if _, err := e.app.Store.Apply(ctx, grant); err != nil {
		b.Fatal(err)
	}
	return u, key
}

// fill queues n one-item 64x64 image requests of u, concurrently, straight
// through the horde (the setup is not what is measured).
func (e *loadEnv) fill(b *testing.B, u horde.User, n int) {
	b.Helper()
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				nr := horde.NewRequest{Kind: horde.KindImage, Prompt: fmt.Sprintf("load %d: a lighthouse at dusk", i), N: 1, R2: false,
					Image: &horde.ImageParams{Width: 64, Height: 64, Steps: 10, SamplerName: "k_euler_a", CFGScale: 7}, Source: "api"}
				if _, _, err := e.app.Horde.Submit(context.Background(), u, nr); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	if err := <-errc; err != nil {
		b.Fatalf("fill the queue: %v", err)
	}
}

// tinyWebP is a pre-encoded 64x64 WebP, what a fake worker submits inline.
func tinyWebP(b *testing.B) string {
	b.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			img.Set(x, y, color.NRGBA{uint8(4 * x), uint8(4 * y), 128, 255})
		}
	}
	data, err := worker.EncodeWebP(img)
	if err != nil {
		b.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(data)
}

// popAnswer is what a fake worker reads of a pop.
type popAnswer struct {
	ID      *string        `json:"id"`
	Skipped map[string]int `json:"skipped"`
}

// maxEmptyPops bounds the pops in a row that find no job, while the queue
// still holds the items the worker's ticket stands for, before the load
// generator gives up (only other workers' pops in flight can cause them).
const maxEmptyPops = 1000

// BenchmarkHTTPLifecycles is the load generator for whole job lifecycles
// over real HTTP: loadWorkers fake workers (keep-alive connections) each
// loop pop -> submit (a tiny WebP inline) against a queue pre-filled with
// b.N one-item requests, until b.N jobs are done. It reports full
// lifecycles per second and the p50/p99 of one pop+submit round trip.
// Every pop and every submit is durable before it is answered.
func BenchmarkHTTPLifecycles(b *testing.B) {
	benchmarkHTTPLifecycles(b, newLoadEnv(b, loadWorkers))
}

// BenchmarkHTTPLifecyclesPostgres is BenchmarkHTTPLifecycles on PostgreSQL
// (HORDEBOT_TEST_POSTGRES_URL; skipped, saying so, without it).
func BenchmarkHTTPLifecyclesPostgres(b *testing.B) {
	benchmarkHTTPLifecycles(b, newLoadEnvOn(b, loadWorkers, storetest.PostgresDatabase(b, b.TempDir())))
}

// benchmarkHTTPLifecycles runs the lifecycles of BenchmarkHTTPLifecycles on e.
func benchmarkHTTPLifecycles(b *testing.B, e *loadEnv) {
	requester, _ := e.richUser(b, "requester")
	_, volKey := e.richUser(b, "volunteer")
	e.fill(b, requester, b.N)
	img := tinyWebP(b)
	bodies := popBodies()
	commits, stmts := e.app.Store.Commits(), e.app.Store.Statements()
	b.Cleanup(func() {
		// How well the pops' and submits' writes share commits (2 writes a lifecycle).
		b.ReportMetric(float64(e.app.Store.Commits()-commits)/float64(b.N), "commits/lifecycle")
		if e.app.Store.Engine() == store.EnginePostgres {
			// Each a round trip to the server (reads included).
			b.ReportMetric(float64(e.app.Store.Statements()-stmts)/float64(b.N), "statements/lifecycle")
		}
	})
	runLoad(b, loadWorkers, "lifecycles/s", func(ctx context.Context, w int) error {
		var got popAnswer
		for empty := 0; got.ID == nil; empty++ { // another worker may hold the last items for a moment
			if empty == maxEmptyPops {
				return fmt.Errorf("%d pops in a row found no job; skipped: %v", empty, got.Skipped)
			}
			if _, err := e.post(ctx, "/api/v2/generate/pop", volKey, bodies[w], &got); err != nil {
				return fmt.Errorf("pop: %w", err)
			}
		}
		sub, _ := json.Marshal(map[string]any{"id": *got.ID, "generation": img, "seed": 42, "state": "ok"})
		if _, err := e.post(ctx, "/api/v2/generate/submit", volKey, sub, nil); err != nil {
			return fmt.Errorf("submit %s: %w", *got.ID, err)
		}
		return nil
	})
}

// BenchmarkHTTPRoundTrip is the limit BenchmarkHTTPLifecycles is measured
// against: the same load generator (loadWorkers callers, the same client
// and pop bodies, keep-alive loopback connections) against a trivial
// handler that reads the body and answers an empty pop, on a plain
// net/http server. It reports round trips per second; a lifecycle is two
// (pop and submit), so lifecycles/s can be at most half of it.
func BenchmarkHTTPRoundTrip(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	empty := []byte(`{"id":null,"ids":[],"payload":{},"skipped":{}}`)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(empty)
	})}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	e := &loadEnv{base: "http://" + ln.Addr().String(), hc: loadClient(b, loadWorkers)}
	bodies := popBodies()
	runLoad(b, loadWorkers, "roundtrips/s", func(ctx context.Context, w int) error {
		var got popAnswer
		if _, err := e.post(ctx, "/api/v2/generate/pop", "0000000000", bodies[w], &got); err != nil {
			return err
		}
		return nil
	})
}

// popBodies are the pop bodies of the loadWorkers fake workers.
func popBodies() [][]byte {
	bodies := make([][]byte, loadWorkers)
	for w := range bodies {
		bodies[w], _ = json.Marshal(map[string]any{"name": fmt.Sprintf("load-rig-%02d", w), "models": []string{},
			"max_pixels": 512 * 512, "nsfw": true, "threads": 1, "amount": 1, "bridge_agent": "hordebot-loadgen:1:none"})
	}
	return bodies
}

// BenchmarkHTTPAsync is the load generator for new requests: loadClients
// clients, each with its own member key, POST /generate/async over
// keep-alive connections. A 202 means the request was stored (committed to
// SQLite) and queued. It reports accepted requests per second and the
// p50/p99 latency of one POST.
func BenchmarkHTTPAsync(b *testing.B) {
	e := newLoadEnv(b, loadClients)
	keys := make([]string, loadClients)
	for i := range keys {
		_, keys[i] = e.richUser(b, fmt.Sprintf("client-%02d", i))
	}
	body, _ := json.Marshal(map[string]any{"prompt": "a lighthouse at dusk ### blurry",
		"params": map[string]any{"width": 512, "height": 512, "steps": 20, "n": 1}, "r2": true})
	runLoad(b, loadClients, "requests/s", func(ctx context.Context, c int) error {
		var out struct {
			ID string `json:"id"`
		}
		code, err := e.post(ctx, "/api/v2/generate/async", keys[c], body, &out)
		if err != nil || code != http.StatusAccepted || out.ID == "" {
			return fmt.Errorf("async: status %d, id %q: %v", code, out.ID, err)
		}
		return nil
	})
}

// runLoad runs b.N operations on n goroutines, op(ctx, g) once per
// operation on goroutine g, until they are all done or one fails, which
// fails the benchmark. It reports operations per second as unit, the
// process CPU per operation and the p50/p99 latency of one operation.
func runLoad(b *testing.B, n int, unit string, op func(ctx context.Context, g int) error) {
	ctx, cancel := context.WithTimeout(context.Background(), loadDeadline)
	defer cancel()
	var (
		tickets atomic.Int64 // operations still to run
		mu      sync.Mutex
		lat     = make([]time.Duration, 0, b.N)
		wg      sync.WaitGroup
		errOnce sync.Once
		failure error
	)
	tickets.Store(int64(b.N))
	fail := func(err error) { errOnce.Do(func() { failure = err; cancel() }) }
	b.ReportAllocs()
	b.ResetTimer()
	if path := os.Getenv("HORDEBOT_BENCH_CPUPROFILE"); path != "" {
		// The measured loop alone (go test -cpuprofile covers the setup too).
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			b.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	cpu0 := processCPU()
	start := time.Now()
	for g := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, b.N/n+1)
			defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
			for tickets.Add(-1) >= 0 {
				t0 := time.Now()
				if err := op(ctx, g); err != nil {
					fail(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	if failure != nil {
		b.Fatal(failure)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), unit)
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	reportLatencyMS(b, lat)
}

// reportLatencyMS reports the p50 and p99 of per-operation latencies in ms.
func reportLatencyMS(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(lat[len(lat)/2]), "p50-ms")
	b.ReportMetric(ms(lat[len(lat)*99/100]), "p99-ms")
}

// processCPU is the user+system CPU time this process used so far. Per
// operation it is a figure that other load on the machine does not skew,
// unlike wall-clock throughput; it includes the load generator's own share.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

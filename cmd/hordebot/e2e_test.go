package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/gen2brain/webp" // registers the WebP decoder for image.Decode

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/worker"
)

// offsetClock is the real time plus an offset the test can advance, so that
// job TTLs pass without sleeping while workers and HTTP run in real time.
type offsetClock struct{ off atomic.Int64 }

func (c *offsetClock) Now() time.Time            { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *offsetClock) Advance(d time.Duration)   { c.off.Add(int64(d)) }
func testLogger(t testing.TB) *slog.Logger       { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
func testConfig(t testing.TB, dir string) Config { return testConfigAt(t, dir, "127.0.0.1:0") }

func testConfigAt(t testing.TB, dir, listen string) Config {
	t.Helper()
	cfg, err := LoadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Data = dir
	cfg.API.Listen = listen
	cfg.API.RatePerKey, cfg.API.BurstPerKey = 100000, 100000
	cfg.API.RatePerIP, cfg.API.BurstPerIP = 100000, 100000
	cfg.Horde.Concurrency, cfg.Horde.AnonymousConcurrency = 100000, 100000 // a load test, not a test of the caps
	return cfg
}

// runningApp is an App serving on loopback in the background.
type runningApp struct {
	*App
	stop context.CancelFunc
	done chan error
}

func startApp(t testing.TB, cfg Config, clock horde.Clock) *runningApp {
	t.Helper()
	app, err := OpenApp(context.Background(), cfg, testLogger(t), clock)
	if err != nil {
		t.Fatal(err)
	}
	var lerr error
	for i := 0; i < 50; i++ { // after a restart the port may take a moment to free
		if lerr = app.Listen(); lerr == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if lerr != nil {
		app.Close()
		t.Fatal(lerr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ra := &runningApp{App: app, stop: cancel, done: make(chan error, 1)}
	go func() { ra.done <- app.Serve(ctx) }()
	return ra
}

// shutdown drains and closes the app, as SIGTERM does.
func (ra *runningApp) shutdown(t testing.TB) {
	t.Helper()
	ra.stop()
	if err := <-ra.done; err != nil {
		t.Errorf("serve: %v", err)
	}
	if err := ra.Close(); err != nil {
		t.Errorf("close: %v", err)
	}
}

// apiClient is a minimal AI Horde client for the tests.
type apiClient struct {
	base string
	key  string
	hc   *http.Client
}

func (c apiClient) do(t testing.TB, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Client-Agent", "e2e-test:1:none")
	if c.key != "" {
		req.Header.Set("apikey", c.key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0 // the server may be restarting; callers retry
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %q: %v", method, path, b, err)
		}
	}
	return resp.StatusCode
}

// blockingBackend runs its inner backend until kill, after which its next
// job blocks until release: the worker process "dies" mid-job.
type blockingBackend struct {
	inner   worker.Backend
	kill    atomic.Bool
	stuck   chan string // receives the job id it got stuck on
	release chan struct{}
}

func (b *blockingBackend) Generate(ctx context.Context, j worker.Job) (worker.Result, error) {
	if b.kill.Load() {
		select {
		case b.stuck <- j.ID:
		default:
		}
		<-b.release
		return worker.Result{}, fmt.Errorf("killed")
	}
	return b.inner.Generate(ctx, j)
}

func TestEndToEndMixedLoadSurvivesWorkerKillAndServerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	dir := t.TempDir()
	clock := &offsetClock{}
	// A load test, not a test of the floor: 200 requests at the AI Horde's
	// prices are held at once, far past the default floor.
	cfg := testConfig(t, dir)
	cfg.Horde.MemberFloor = -1_000_000
	app := startApp(t, cfg, clock)
	addr := app.Addr()
	base := "http://" + addr
	cfgAt := testConfigAt(t, dir, addr)
	cfgAt.Horde.MemberFloor = cfg.Horde.MemberFloor

	// Users: three requesters and one volunteer who runs the workers.
	var keys []string
	for _, name := range []string{"ann", "ben", "cat", "vol"} {
		_, key, err := app.Horde.CreateUser(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, key)
	}
	volKey := keys[3]

	wctx, stopWorkers := context.WithCancel(context.Background())
	defer stopWorkers()
	var wg sync.WaitGroup
	runWorker := func(ctx context.Context, name string, kind horde.RequestKind, b worker.Backend) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := worker.Run(ctx, worker.Config{
				BaseURL: base, APIKey: volKey, Name: name, Kind: aihorde.Kind(kind), Backend: b, Models: []string{worker.ProceduralModel},
				Threads: 2, PopInterval: 50 * time.Millisecond, Logger: testLogger(t),
				Retry: worker.RetryPolicy{MaxAttempts: 40, BaseDelay: 50 * time.Millisecond, MaxDelay: 500 * time.Millisecond},
			})
			if err != nil {
				t.Errorf("worker %s: %v", name, err)
			}
		}()
	}
	victim := &blockingBackend{inner: worker.NewProcedural(), stuck: make(chan string, 1), release: make(chan struct{})}
	victim.kill.Store(true)
	release := sync.OnceFunc(func() { close(victim.release) })
	t.Cleanup(release)
	victimCtx, killVictim := context.WithCancel(wctx)
	defer killVictim()
	runWorker(victimCtx, "victim", horde.KindImage, victim)
	runWorker(wctx, "survivor", horde.KindImage, worker.NewProcedural())
	runWorker(wctx, "scribe", horde.KindText, worker.NewProcedural())

	// 200 mixed requests from three users.
	type submitted struct {
		id   string
		text bool
		key  string
	}
	var reqs []submitted
	for i := 0; i < 200; i++ {
		c := apiClient{base: base, key: keys[i%3], hc: http.DefaultClient}
		var out struct {
			ID string `json:"id"`
		}
		if i%4 == 3 {
			body := map[string]any{"prompt": fmt.Sprintf("story %d about a lighthouse", i), "params": map[string]any{"max_length": 40, "max_context_length": 512}}
			if code := c.do(t, "POST", "/api/v2/generate/text/async", body, &out); code != http.StatusAccepted {
				t.Fatalf("text async %d: status %d", i, code)
			}
			reqs = append(reqs, submitted{out.ID, true, c.key})
			continue
		}
		side := []int{64, 128, 192}[i%3]
		body := map[string]any{"prompt": fmt.Sprintf("picture %d of a lighthouse", i), "params": map[string]any{"width": side, "height": side, "steps": 10}, "r2": i%5 != 0}
		if code := c.do(t, "POST", "/api/v2/generate/async", body, &out); code != http.StatusAccepted {
			t.Fatalf("image async %d: status %d", i, code)
		}
		reqs = append(reqs, submitted{out.ID, false, c.key})
	}

	// The victim worker "dies" in the middle of its first job (it was set to
	// from the start, so that fast workers cannot drain the queue before).
	var stuckJob string
	select {
	case stuckJob = <-victim.stuck:
	case <-time.After(60 * time.Second):
		t.Fatal("victim never took a job")
	}
	killVictim() // it stops popping; its stuck job is left processing, as after kill -9

	// Restart the server mid-run: drain, close, reopen on the same address.
	app.shutdown(t)
	app = startApp(t, cfgAt, clock)
	defer app.shutdown(t)

	// The stuck job's TTL passes; the sweep re-queues it for the survivor.
	clock.Advance(10 * time.Minute)
	if err := app.Horde.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}

	// Every request finishes, every result downloads.
	deadline := time.Now().Add(3 * time.Minute)
	for _, r := range reqs {
		path := "/api/v2/generate/status/" + r.id
		if r.text {
			path = "/api/v2/generate/text/status/" + r.id
		}
		var st struct {
			Done        bool `json:"done"`
			Faulted     bool `json:"faulted"`
			Generations []struct {
				Img        string `json:"img"`
				Text       string `json:"text"`
				WorkerName string `json:"worker_name"`
				ID         string `json:"id"`
			} `json:"generations"`
		}
		for {
			st.Done = false
			code := apiClient{base: base, hc: http.DefaultClient}.do(t, "GET", path, nil, &st)
			if code == http.StatusOK && st.Done {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("request %s not done in time (status %d)", r.id, code)
			}
			time.Sleep(100 * time.Millisecond)
		}
		if st.Faulted || len(st.Generations) != 1 {
			t.Fatalf("request %s: faulted=%v generations=%d", r.id, st.Faulted, len(st.Generations))
		}
		g := st.Generations[0]
		if g.ID == stuckJob {
			t.Errorf("the killed worker's job %s counted as a result", stuckJob)
		}
		if r.text {
			if strings.TrimSpace(g.Text) == "" {
				t.Errorf("text request %s: empty text", r.id)
			}
			continue
		}
		if g.WorkerName == "victim" && g.ID == stuckJob {
			t.Errorf("stuck job finished by its dead worker")
		}
		var data []byte
		if strings.HasPrefix(g.Img, "http") {
			resp, err := http.Get(g.Img)
			if err != nil {
				t.Fatalf("download %s: %v", g.Img, err)
			}
			data, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		} else {
			var err error
			if data, err = base64.StdEncoding.DecodeString(g.Img); err != nil {
				t.Fatalf("request %s: img neither URL nor base64: %v", r.id, err)
			}
		}
		if _, _, err := image.Decode(bytes.NewReader(data)); err != nil {
			t.Errorf("request %s: result does not decode: %v", r.id, err)
		}
	}

	// The books balance.
	bad, err := app.Store.Verify(context.Background())
	if err != nil || len(bad) > 0 {
		t.Fatalf("kudos verify: %v %v", bad, err)
	}
	stopWorkers()
	release()
	wg.Wait()
}

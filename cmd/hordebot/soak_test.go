package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/time/rate"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/worker"
	"github.com/hordebot/hordebot/kudos"
)

// Soak test shape. The run is cut into soakTicks equal periods; at every
// tick the clock jumps soakClockJump ahead (so the jobs of crashed workers
// pass their TTL and are re-queued) and at every soakRestartEvery-th tick the
// server is shut down and reopened on the same port.
const (
	soakTicks        = 12
	soakRestartEvery = 3
	soakClockJump    = 3 * time.Minute
	soakClients      = 4
	soakRequestRate  = 40 // valid new requests per second, all clients together
	soakCrashOneIn   = 15 // a crashing worker dies on about one job in this many
	soakDrainTimeout = 3 * time.Minute
	soakHeapSlack    = 8 << 20
	soakGoroutineCap = 400 // above the baseline, at any tick
)

// TestSoak runs the whole server under random valid and invalid API traffic,
// procedural workers that crash mid-job and come back, clock jumps and a few
// server restarts, for the duration in HORDEBOT_SOAK (e.g. 60s, 10m; unset:
// skipped). At the end every accepted request must be done with all its
// results, or faulted with a reason, or cancelled by the test; the kudos
// ledger must verify; heap and goroutines must be back where they started.
func TestSoak(t *testing.T) {
	v := os.Getenv("HORDEBOT_SOAK")
	if v == "" {
		t.Skip("set HORDEBOT_SOAK to a duration (e.g. 60s) to run the soak test")
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 10*time.Second {
		t.Fatalf("HORDEBOT_SOAK=%q: want a duration of at least 10s", v)
	}
	s := newSoak(t)
	s.run(d)
}

// soak is one soak run: the server (replaced on restarts), its users, the
// traffic's record and the outcome counters.
type soak struct {
	t     *testing.T
	clock *offsetClock
	cfg   Config // with the port fixed after the first start
	base  string

	appMu sync.Mutex
	app   *runningApp

	hc     *http.Client
	keys   []string // requesters' keys (index 0: the anonymous key)
	volKey string   // the volunteer's key, who runs the workers

	// The attackers (soak_attacks_test.go) and their victim.
	poorKey, floodKey, malloryKey string
	poorID, malloryID, annID      int64
	annName                       string
	baseGorou                     int

	mu        sync.Mutex
	accepted  map[string]soakRequest
	cancelled map[string]bool
	outcomes  map[string]int // "action status" -> count
	bad       []string       // unexpected answers, for the failure message

	crashes atomic.Int64
}

// soakRequest is an accepted request: what the test expects of it.
type soakRequest struct {
	text  bool
	n     int
	flood bool // the flooder's: no worker serves it
}

func newSoak(t *testing.T) *soak {
	s := &soak{
		t: t, clock: &offsetClock{},
		accepted: map[string]soakRequest{}, cancelled: map[string]bool{}, outcomes: map[string]int{},
		baseGorou: runtime.NumGoroutine(),
	}
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.API.MaxBodyMiB = 1
	// Procedural workers are far faster than any GPU: the speed check would
	// pause them and flag their owner, which is not what this test is about.
	cfg.Moderation.MaxMegapixelStepsPerSecond = 0
	// Caps low enough for the flooder to reach; honest clients may meet them too (429 is fine).
	cfg.Horde.Concurrency, cfg.Horde.AnonymousConcurrency = 300, 300
	cfg.Horde.MemberFloor = soakPoorFloor
	// The one volunteer runs six workers, more than an untrusted owner may.
	cfg.Moderation.MaxWorkersUntrusted = 6
	s.app = startApp(t, cfg, s.clock)
	cfg.API.Listen = s.app.Addr() // restarts reopen the same port
	s.cfg, s.base = cfg, "http://"+s.app.Addr()
	tr := &http.Transport{MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}
	s.hc = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	t.Cleanup(tr.CloseIdleConnections)

	ctx := context.Background()
	s.keys = []string{horde.AnonymousKey}
	for _, name := range []string{"ann", "ben", "vol"} {
		u, key, err := s.app.Horde.CreateUser(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		grant := kudos.Entry{UserID: u.ID, Delta: 1 << 40, Kind: kudos.KindAdmin, Reason: "soak test",
			Key: "soak-grant-" + name, Floor: kudos.NoFloor, At: s.clock.Now()}
		if _, err := s.app.Store.Apply(ctx, grant); err != nil {
			t.Fatal(err)
		}
		if name == "vol" {
			s.volKey = key
		} else {
			s.keys = append(s.keys, key)
		}
		if name == "ann" {
			s.annID, s.annName = u.ID, fmt.Sprintf("ann#%d", u.ID)
		}
	}
	for _, a := range []struct {
		name string
		key  *string
		id   *int64
	}{{"poor", &s.poorKey, &s.poorID}, {"flooder", &s.floodKey, nil}, {"mallory", &s.malloryKey, &s.malloryID}} {
		u, key, err := s.app.Horde.CreateUser(ctx, a.name)
		if err != nil {
			t.Fatal(err)
		}
		*a.key = key
		if a.id != nil {
			*a.id = u.ID
		}
		if a.name == "flooder" { // rich: only the cap stops them
			grant := kudos.Entry{UserID: u.ID, Delta: 1 << 40, Kind: kudos.KindAdmin, Reason: "soak test",
				Key: "soak-grant-flooder", Floor: kudos.NoFloor, At: s.clock.Now()}
			if _, err := s.app.Store.Apply(ctx, grant); err != nil {
				t.Fatal(err)
			}
		}
	}
	return s
}

// current is the server now serving.
func (s *soak) current() *runningApp {
	s.appMu.Lock()
	defer s.appMu.Unlock()
	return s.app
}

// run drives the soak for d, then drains and checks.
func (s *soak) run(d time.Duration) {
	t := s.t
	trafficCtx, stopTraffic := context.WithCancel(context.Background())
	defer stopTraffic()
	crashCtx, stopCrashing := context.WithCancel(context.Background())
	defer stopCrashing()
	workCtx, stopWorkers := context.WithCancel(context.Background())
	defer stopWorkers()

	var traffic, crashy, stable sync.WaitGroup
	limiter := rate.NewLimiter(soakRequestRate, soakClients)
	for c := range soakClients {
		traffic.Go(func() { s.client(trafficCtx, uint64(c), limiter) })
	}
	for i, kind := range []horde.RequestKind{horde.KindImage, horde.KindImage, horde.KindText} {
		crashy.Go(func() { s.crashingWorker(crashCtx, fmt.Sprintf("crashy-%d", i), kind, uint64(i)) })
	}
	for i, kind := range []horde.RequestKind{horde.KindImage, horde.KindImage, horde.KindText} {
		stable.Go(func() { s.stableWorker(workCtx, fmt.Sprintf("steady-%d", i), kind) })
	}
	traffic.Go(func() { s.mallory(trafficCtx) })

	period := d / soakTicks
	var heapStart uint64
	maxGoroutines, restarts := 0, 0
	for tick := 1; tick <= soakTicks; tick++ {
		time.Sleep(period)
		s.jumpClock()
		if tick == 1 { // after a warm-up period: codecs, pools and connections exist
			heapStart = heapInuse()
		}
		maxGoroutines = max(maxGoroutines, runtime.NumGoroutine())
		if tick%soakRestartEvery == 0 && tick < soakTicks {
			s.restart()
			restarts++
		}
	}

	// Drain: no new traffic, no more crashes; the steady workers finish the queue.
	stopTraffic()
	traffic.Wait()
	s.cancelFloods()
	stopCrashing()
	crashy.Wait()
	pending := s.drain()
	stopWorkers()
	stable.Wait()
	s.hc.CloseIdleConnections()

	s.checkRequests(pending)
	s.checkAttacks()
	app := s.current()
	if bad, err := app.Kudos.Verify(context.Background()); err != nil || len(bad) > 0 {
		t.Errorf("kudos verify: %v %+v", err, bad)
	}
	heapEnd := heapInuse()
	s.checkTraffic()
	if restarts == 0 || s.crashes.Load() == 0 {
		t.Errorf("the soak did not exercise its faults: %d restarts, %d worker crashes", restarts, s.crashes.Load())
	}
	if heapEnd > 2*heapStart+soakHeapSlack {
		t.Errorf("heap in use grew from %d KiB to %d KiB", heapStart>>10, heapEnd>>10)
	}
	if maxGoroutines > s.baseGorou+soakGoroutineCap {
		t.Errorf("goroutines peaked at %d (baseline %d)", maxGoroutines, s.baseGorou)
	}
	app.shutdown(t)
	s.checkGoroutinesBack()
	t.Logf("soak %v: %d requests accepted, %d cancelled, %d worker crashes, %d restarts; heap in use %d KiB -> %d KiB; goroutines baseline %d, peak %d",
		d, len(s.accepted), len(s.cancelled), s.crashes.Load(), restarts, heapStart>>10, heapEnd>>10, s.baseGorou, maxGoroutines)
}

// jumpClock moves the clock past every job's TTL and sweeps, so that the
// jobs of crashed workers go back to the queue.
func (s *soak) jumpClock() {
	s.appMu.Lock()
	defer s.appMu.Unlock()
	s.clock.Advance(soakClockJump)
	if err := s.app.Horde.Sweep(context.Background()); err != nil {
		s.t.Errorf("sweep: %v", err)
	}
}

// restart drains and closes the server, then reopens it on the same port
// over the same data directory, as a deploy or a SIGTERM and start does.
func (s *soak) restart() {
	s.appMu.Lock()
	defer s.appMu.Unlock()
	s.app.shutdown(s.t)
	s.app = startApp(s.t, s.cfg, s.clock)
}

// drain waits until every accepted request is finished and returns those
// that are not (none, if all went well).
func (s *soak) drain() map[string]soakRequest {
	s.mu.Lock()
	pending := make(map[string]soakRequest, len(s.accepted))
	for id, r := range s.accepted {
		pending[id] = r
	}
	s.mu.Unlock()
	ctx := context.Background()
	deadline := time.Now().Add(soakDrainTimeout)
	lastJump := time.Time{}
	for len(pending) > 0 && time.Now().Before(deadline) {
		if time.Since(lastJump) > 20*time.Second {
			s.jumpClock() // jobs the last crashes left behind
			lastJump = time.Now()
		}
		app := s.current()
		for id := range pending {
			req, err := app.Store.Request(ctx, id)
			if err != nil {
				s.t.Fatalf("accepted request %s: %v", id, err)
			}
			if req.State.Finished() {
				delete(pending, id)
			}
		}
		if len(pending) > 0 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	return pending
}

// checkRequests checks the final state of every accepted request.
func (s *soak) checkRequests(pending map[string]soakRequest) {
	t := s.t
	if len(pending) > 0 {
		t.Errorf("%d accepted requests never finished, e.g. %v", len(pending), someKeys(pending, 5))
	}
	ctx := context.Background()
	app := s.current()
	states := map[horde.RequestState]int{}
	problems := 0
	for id, want := range s.accepted {
		req, err := app.Store.Request(ctx, id)
		if err != nil {
			t.Fatalf("request %s: %v", id, err)
		}
		states[req.State]++
		var problem string
		switch req.State {
		case horde.RequestDone:
			gens, err := app.Store.Generations(ctx, id)
			if err != nil {
				t.Fatalf("generations of %s: %v", id, err)
			}
			if len(gens) != want.n {
				problem = fmt.Sprintf("done with %d of %d results", len(gens), want.n)
			}
		case horde.RequestFaulted:
			if strings.TrimSpace(req.Reason) == "" {
				problem = "faulted without a reason"
			}
		case horde.RequestCancelled:
			if !s.cancelled[id] {
				problem = "cancelled, but nobody cancelled it"
			}
		default:
			problem = "still " + string(req.State)
		}
		if problem != "" {
			if problems++; problems <= 10 {
				t.Errorf("request %s (%+v): %s", id, want, problem)
			}
		}
	}
	if problems > 10 {
		t.Errorf("... and %d more requests with problems", problems-10)
	}
	t.Logf("final request states: %v", states)
}

// checkTraffic fails on unexpected answers and on invalid-traffic kinds
// that never got their expected status (so that the checks really ran).
func (s *soak) checkTraffic() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, b := range s.bad {
		if i == 10 {
			s.t.Errorf("... and %d more unexpected answers", len(s.bad)-10)
			break
		}
		s.t.Errorf("unexpected answer: %s", b)
	}
	for _, a := range slices.Concat(soakActions, soakAttackActions) {
		if s.outcomes[fmt.Sprintf("%s %d", a.name, a.want)] == 0 {
			s.t.Errorf("action %s never got its expected status %d", a.name, a.want)
		}
	}
	lines := make([]string, 0, len(s.outcomes))
	for k, n := range s.outcomes {
		lines = append(lines, fmt.Sprintf("%s: %d", k, n))
	}
	sort.Strings(lines)
	s.t.Logf("answers by action and status:\n  %s", strings.Join(lines, "\n  "))
}

// checkGoroutinesBack waits until the goroutines this test started are gone.
func (s *soak) checkGoroutinesBack() {
	const slack = 5 // runtime and net/http background goroutines that come and go
	deadline := time.Now().Add(15 * time.Second)
	for runtime.NumGoroutine() > s.baseGorou+slack {
		if time.Now().After(deadline) {
			var buf bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
			s.t.Errorf("%d goroutines left (baseline %d):\n%s", runtime.NumGoroutine(), s.baseGorou, buf.String())
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// heapInuse is HeapInuse after a full collection.
func heapInuse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

func someKeys[V any](m map[string]V, n int) []string {
	var out []string
	for k := range m {
		if len(out) == n {
			break
		}
		out = append(out, k)
	}
	return out
}

// soakAction is one kind of API call the clients make, with the status a
// healthy server answers. Any call may also fail to connect (0) or get 503
// while the server restarts.
type soakAction struct {
	name   string
	weight int
	want   int
	also   []int // other statuses a healthy server may answer (a cap reached, a first request that fits)
	do     func(s *soak, rng *rand.Rand) (status int, body []byte, accepted string, req soakRequest)
}

// soakActions is the traffic mix: valid requests, polls and cancels of
// known ones, and invalid calls of every kind.
var soakActions = []soakAction{
	{"image async", 20, http.StatusAccepted, []int{http.StatusTooManyRequests}, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		side := 64 * (1 + rng.IntN(4))
		n := 1 + rng.IntN(3)
		body := map[string]any{"prompt": fmt.Sprintf("soak %d: a lighthouse at dusk", rng.IntN(1e6)),
			"params": map[string]any{"width": side, "height": side, "steps": 5 + rng.IntN(10), "n": n}, "r2": rng.IntN(2) == 0}
		return s.asyncCall(rng, "/api/v2/generate/async", body, soakRequest{n: n})
	}},
	{"text async", 8, http.StatusAccepted, []int{http.StatusTooManyRequests}, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		body := map[string]any{"prompt": fmt.Sprintf("soak %d: a story about a lighthouse", rng.IntN(1e6)),
			"params": map[string]any{"max_length": 16 + rng.IntN(48), "max_context_length": 512}}
		return s.asyncCall(rng, "/api/v2/generate/text/async", body, soakRequest{text: true, n: 1})
	}},
	{"check known", 15, http.StatusOK, nil, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		id, req, ok := s.someAccepted(rng)
		if !ok {
			return s.call("GET", "/api/v2/status/heartbeat", "", nil)
		}
		path := "/api/v2/generate/check/" + id
		if req.text {
			path = "/api/v2/generate/text/status/" + id
		}
		return s.call("GET", path, "", nil)
	}},
	{"cancel known", 1, http.StatusOK, nil, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		id, req, ok := s.someAccepted(rng)
		if !ok {
			return s.call("GET", "/api/v2/status/heartbeat", "", nil)
		}
		path := "/api/v2/generate/status/" + id
		if req.text {
			path = "/api/v2/generate/text/status/" + id
		}
		status, body, _, _ := s.call("DELETE", path, "", nil)
		if status == http.StatusOK {
			s.mu.Lock()
			s.cancelled[id] = true
			s.mu.Unlock()
		}
		return status, body, "", soakRequest{}
	}},
	{"bad json", 4, http.StatusBadRequest, nil, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		return s.callRaw("POST", "/api/v2/generate/async", s.keys[1], []byte(`{"prompt": "unterminated`))
	}},
	{"bad params", 4, http.StatusBadRequest, nil, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		return s.call("POST", "/api/v2/generate/async", s.keys[1],
			map[string]any{"prompt": "too wide", "params": map[string]any{"width": 99999, "height": 64}})
	}},
	{"wrong key async", 4, http.StatusUnauthorized, nil, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		return s.call("POST", "/api/v2/generate/async", "not-a-key-"+uuid.NewString(), map[string]any{"prompt": "x"})
	}},
	{"wrong key pop", 4, http.StatusUnauthorized, nil, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		return s.call("POST", "/api/v2/generate/pop", "not-a-key-"+uuid.NewString(), map[string]any{"name": "intruder"})
	}},
	{"oversized", 1, http.StatusBadRequest, nil, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		big := `{"prompt": "` + strings.Repeat("a", 3<<19) + `"}`
		return s.callRaw("POST", "/api/v2/generate/async", s.keys[2], []byte(big))
	}},
	{"unknown check", 4, http.StatusNotFound, nil, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		return s.call("GET", "/api/v2/generate/check/"+uuid.NewString(), "", nil)
	}},
	{"unknown status", 3, http.StatusNotFound, nil, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		return s.call("GET", "/api/v2/generate/text/status/"+uuid.NewString(), "", nil)
	}},
	{"unknown cancel", 2, http.StatusNotFound, nil, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		return s.call("DELETE", "/api/v2/generate/status/"+uuid.NewString(), "", nil)
	}},
	{"unknown submit", 3, http.StatusNotFound, nil, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		return s.call("POST", "/api/v2/generate/submit", s.volKey,
			map[string]any{"id": uuid.NewString(), "generation": "R2", "seed": 1, "state": "ok"})
	}},
	{"unknown route", 2, http.StatusNotFound, nil, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		return s.call("GET", "/api/v2/no/such/thing", "", nil)
	}},
	{"find user", 3, http.StatusOK, nil, func(s *soak, rng *rand.Rand) (int, []byte, string, soakRequest) {
		return s.call("GET", "/api/v2/find_user", s.keys[1+rng.IntN(len(s.keys)-1)], nil)
	}},
}

// asyncCall submits a new request as a random requester (possibly
// anonymous) and records it when accepted.
func (s *soak) asyncCall(rng *rand.Rand, path string, body any, req soakRequest) (int, []byte, string, soakRequest) {
	status, data, _, _ := s.call("POST", path, s.keys[rng.IntN(len(s.keys))], body)
	if status != http.StatusAccepted {
		return status, data, "", req
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.ID == "" {
		return -1, data, "", req // recorded as unexpected
	}
	return status, data, out.ID, req
}

// someAccepted picks an accepted request at random.
func (s *soak) someAccepted(rng *rand.Rand) (string, soakRequest, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.accepted) == 0 {
		return "", soakRequest{}, false
	}
	skip := rng.IntN(len(s.accepted))
	for id, r := range s.accepted {
		if skip == 0 {
			return id, r, true
		}
		skip--
	}
	return "", soakRequest{}, false
}

// client makes random calls until ctx ends. New requests are paced by
// limiter; the other calls by a short random pause.
func (s *soak) client(ctx context.Context, seed uint64, limiter *rate.Limiter) {
	rng := rand.New(rand.NewPCG(seed, 42))
	actions := slices.Concat(soakActions, soakAttackActions)
	total := 0
	for _, a := range actions {
		total += a.weight
	}
	for ctx.Err() == nil {
		pick := rng.IntN(total)
		var a soakAction
		for _, a = range actions {
			if pick -= a.weight; pick < 0 {
				break
			}
		}
		if a.want == http.StatusAccepted {
			if err := limiter.Wait(ctx); err != nil {
				return
			}
		}
		status, body, id, req := a.do(s, rng)
		s.record(a, status, body, id, req)
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(2+rng.IntN(8)) * time.Millisecond):
		}
	}
}

// record counts an answer, remembers an accepted request and keeps
// unexpected answers for the failure message.
func (s *soak) record(a soakAction, status int, body []byte, id string, req soakRequest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.outcomes[fmt.Sprintf("%s %d", a.name, status)]++
	if id != "" {
		s.accepted[id] = req
	}
	// 0: no connection (restarting); 503: draining. Both are fine for a client to retry.
	if status == a.want || slices.Contains(a.also, status) || status == 0 || status == http.StatusServiceUnavailable {
		return
	}
	if len(body) > 200 {
		body = body[:200]
	}
	s.bad = append(s.bad, fmt.Sprintf("%s: status %d: %s", a.name, status, body))
}

// call sends body as JSON (nil: no body) with key (empty: none).
func (s *soak) call(method, path, key string, body any) (int, []byte, string, soakRequest) {
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return -1, []byte(err.Error()), "", soakRequest{}
		}
	}
	return s.callRaw(method, path, key, data)
}

// callRaw sends data as the body; status 0 means no answer.
func (s *soak) callRaw(method, path, key string, data []byte) (int, []byte, string, soakRequest) {
	var rd io.Reader
	if data != nil {
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		return -1, []byte(err.Error()), "", soakRequest{}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Client-Agent", "hordebot-soak:1:none")
	if key != "" {
		req.Header.Set("apikey", key)
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		return 0, nil, "", soakRequest{}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, "", soakRequest{}
	}
	return resp.StatusCode, b, "", soakRequest{}
}

// workerConfig is the configuration shared by the soak's workers.
func (s *soak) workerConfig(name string, kind horde.RequestKind, threads int) worker.Config {
	return worker.Config{
		BaseURL: s.base, APIKey: s.volKey, Name: name, Kind: aihorde.Kind(kind), Models: []string{worker.ProceduralModel},
		MaxPixels: 256 * 256, Threads: threads, PopInterval: 50 * time.Millisecond, SubmitTimeout: 20 * time.Second,
		Logger: testLogger(s.t),
		Retry:  worker.RetryPolicy{MaxAttempts: 4, BaseDelay: 50 * time.Millisecond, MaxDelay: time.Second},
	}
}

// stableWorker runs a procedural worker until ctx ends; it rides out the
// server's restarts by retrying.
func (s *soak) stableWorker(ctx context.Context, name string, kind horde.RequestKind) {
	cfg := s.workerConfig(name, kind, 2)
	cfg.Backend = worker.NewProcedural()
	tr := &http.Transport{MaxIdleConnsPerHost: 4}
	defer tr.CloseIdleConnections()
	cfg.HTTPClient = &http.Client{Transport: tr, Timeout: 30 * time.Second}
	if err := worker.Run(ctx, cfg); err != nil {
		s.t.Errorf("worker %s: %v", name, err)
	}
}

// crashingWorker runs a procedural worker process that dies abruptly now
// and then in the middle of a job, as under kill -9: its network goes dead
// at once (its job is neither submitted nor reported faulted and stays
// processing on the server until its TTL), and it is started again shortly
// after under the same name.
func (s *soak) crashingWorker(ctx context.Context, name string, kind horde.RequestKind, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	var rngMu sync.Mutex
	inner := worker.NewProcedural()
	for ctx.Err() == nil {
		life, die := context.WithCancel(ctx)
		tr := &deadableTransport{base: &http.Transport{MaxIdleConnsPerHost: 2}}
		cfg := s.workerConfig(name, kind, 1)
		cfg.HTTPClient = &http.Client{Transport: tr, Timeout: 30 * time.Second}
		cfg.Backend = &crashingBackend{inner: inner, crash: func() bool {
			rngMu.Lock()
			defer rngMu.Unlock()
			if rng.IntN(soakCrashOneIn) != 0 {
				return false
			}
			tr.dead.Store(true)
			die()
			return true
		}}
		if err := worker.Run(life, cfg); err != nil {
			s.t.Errorf("worker %s: %v", name, err)
		}
		crashed := tr.dead.Load()
		die()
		tr.base.CloseIdleConnections()
		if !crashed {
			return // stopped, not crashed
		}
		s.crashes.Add(1)
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond): // the time a supervisor takes to restart it
		}
	}
}

// errCrashed is what a crashing backend's last job ends with.
var errCrashed = errors.New("worker process killed")

// crashingBackend runs inner, except when crash says the process dies now.
type crashingBackend struct {
	inner worker.Backend
	crash func() bool
}

// Generate runs the job, or dies in the middle of it.
func (b *crashingBackend) Generate(ctx context.Context, j worker.Job) (worker.Result, error) {
	if b.crash() {
		return worker.Result{}, errCrashed
	}
	return b.inner.Generate(ctx, j)
}

// deadableTransport is a worker process's network: once dead, every request
// fails at once, as it does for a killed process.
type deadableTransport struct {
	base *http.Transport
	dead atomic.Bool
}

// RoundTrip sends r unless the process is dead.
func (t *deadableTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if t.dead.Load() {
		return nil, errCrashed
	}
	return t.base.RoundTrip(r)
}

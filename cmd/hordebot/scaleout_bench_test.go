package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hordebot/hordebot/store/storetest"
)

// scaleRoundsEnv sets how many times BenchmarkHTTPLifecyclesProcesses
// measures each of its two set-ups (default 3; it reports the medians).
const scaleRoundsEnv = "HORDEBOT_BENCH_ROUNDS"

// scaleMembersEnv sets how many requesters and how many worker owners
// BenchmarkHTTPLifecyclesProcesses spreads its requests and its workers
// over (default 1: every finish charges one member and pays another).
const scaleMembersEnv = "HORDEBOT_BENCH_MEMBERS"

// BenchmarkHTTPLifecyclesProcesses is the scale-out figure on PostgreSQL
// (HORDEBOT_TEST_POSTGRES_URL; skipped, saying so, without it): two
// `hordebot api` child processes on one database, and the load generator of
// BenchmarkHTTPLifecycles (loadWorkers fake workers, each looping pop ->
// submit of a tiny WebP, keep-alive connections) against them. Each round
// measures b.N lifecycles with every worker on the first process, then b.N
// with the workers spread over both (worker w on process w%2), each on a
// queue filled with b.N one-item requests beforehand (not measured). It runs
// HORDEBOT_BENCH_ROUNDS rounds (default 3) and reports the medians:
// lifecycles/s with one process (procs1-lifecycles/s) and with two
// (procs2-lifecycles/s), their ratio (procs2/procs1; the goal is >= 1.6),
// and where the CPU went per lifecycle in each set-up: the hordebot
// processes', PostgreSQL's (when the server is the local test cluster,
// PGTEST_DIR: every process of its postmaster) and the load generator's
// (this process). The machine's cores are shared by all three: when they
// are busy, a second hordebot process cannot make lifecycles faster, and
// the CPU per lifecycle says which of them would need fewer cycles. The
// requests come from one requester and the workers have one owner, whose
// balances every finish changes; HORDEBOT_BENCH_MEMBERS=n spreads them
// over n requesters (request i from requester i%n) and n owners (worker w
// owned by owner w%n).
func BenchmarkHTTPLifecyclesProcesses(b *testing.B) {
	url := storetest.PostgresDatabase(b, b.TempDir())
	rounds := 3
	if n, err := strconv.Atoi(os.Getenv(scaleRoundsEnv)); err == nil && n > 0 {
		rounds = n
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	dir := b.TempDir()
	keyOf := func(name string) string {
		b.Helper()
		var out strings.Builder
		if err := run(ctx, []string{"user", "add", name, "--database", url}, &out, io.Discard, func(string) string { return "" }); err != nil {
			b.Fatalf("user add %s: %v", name, err)
		}
		return strings.TrimSpace(out.String())
	}
	members := 1
	if n, err := strconv.Atoi(os.Getenv(scaleMembersEnv)); err == nil && n > 0 {
		members = n
	}
	requesterKeys, volunteerKeys := make([]string, members), make([]string, members)
	for i := range members {
		suffix := ""
		if i > 0 {
			suffix = strconv.Itoa(i)
		}
		requesterKeys[i], volunteerKeys[i] = keyOf("requester"+suffix), keyOf("volunteer"+suffix)
	}
	conf := filepath.Join(dir, "hordebot.yaml")
	if err := os.WriteFile(conf, []byte(`api:
  rate_per_key: 1000000
  burst_per_key: 1000000
  rate_per_ip: 1000000
  burst_per_ip: 1000000
horde:
  member_floor: -1000000000000   # a load test, not a test of the floor
  concurrency: 10000000
moderation:
  max_workers_untrusted: -1
  max_megapixelsteps_per_second: 0
`), 0o600); err != nil {
		b.Fatal(err)
	}
	var procs []*child
	for i := range 2 {
		addr := benchFreeAddr(b)
		procs = append(procs, &child{name: fmt.Sprintf("api%d", i), addr: addr, log: filepath.Join(dir, fmt.Sprintf("api%d.log", i)),
			args: []string{"api", "--config", conf, "--database", url, "--data", filepath.Join(dir, fmt.Sprintf("api%d", i)), "--listen", addr}})
	}
	b.Cleanup(func() { // before the schema is dropped (cleanups run last first)
		for _, p := range procs {
			p.kill()
		}
	})
	for _, p := range procs {
		if err := p.start(ctx); err != nil {
			b.Fatal(err)
		}
	}
	pg := postgresPIDs(os.Getenv("PGTEST_DIR"))
	img := tinyWebP(b)
	bodies := popBodies()
	reqBody, _ := json.Marshal(map[string]any{"prompt": "a lighthouse at dusk",
		"params": map[string]any{"width": 64, "height": 64, "steps": 10, "n": 1}, "r2": false})

	var figures [2][]scaleFigure
	b.ResetTimer()
	for range rounds {
		for np := 1; np <= 2; np++ {
			envs := make([]*loadEnv, np)
			for i := range envs {
				envs[i] = &loadEnv{base: "http://" + procs[i].addr, hc: loadClient(b, loadWorkers)}
			}
			b.StopTimer()
			fillOver(ctx, b, envs, requesterKeys, reqBody)
			b.StartTimer()
			f := measureLifecycles(ctx, b, envs, procs[:np], pg, volunteerKeys, img, bodies)
			figures[np-1] = append(figures[np-1], f)
			b.Logf("round with %d process(es): %.0f lifecycles/s; CPU a lifecycle: hordebot %.0f µs, PostgreSQL %.0f µs, load generator %.0f µs",
				np, f.rate, f.hordebot, f.postgres, f.loadgen)
		}
	}
	b.StopTimer()
	for np, fs := range figures {
		m := medianFigure(fs)
		p := fmt.Sprintf("procs%d-", np+1)
		b.ReportMetric(m.rate, p+"lifecycles/s")
		b.ReportMetric(m.hordebot, p+"hordebot-cpu-µs")
		if pg.ok() {
			b.ReportMetric(m.postgres, p+"pg-cpu-µs")
		}
		b.ReportMetric(m.loadgen, p+"loadgen-cpu-µs")
	}
	ratios := make([]float64, rounds)
	for i := range ratios {
		ratios[i] = figures[1][i].rate / figures[0][i].rate
	}
	b.ReportMetric(median(ratios), "procs2/procs1")
}

// scaleFigure is one measurement of BenchmarkHTTPLifecyclesProcesses:
// lifecycles/s and the CPU of one lifecycle, in µs, by whom.
type scaleFigure struct{ rate, hordebot, postgres, loadgen float64 }

// medianFigure is the median of each figure of fs, on its own.
func medianFigure(fs []scaleFigure) scaleFigure {
	pick := func(get func(scaleFigure) float64) float64 {
		v := make([]float64, len(fs))
		for i, f := range fs {
			v[i] = get(f)
		}
		return median(v)
	}
	return scaleFigure{
		rate:     pick(func(f scaleFigure) float64 { return f.rate }),
		hordebot: pick(func(f scaleFigure) float64 { return f.hordebot }),
		postgres: pick(func(f scaleFigure) float64 { return f.postgres }),
		loadgen:  pick(func(f scaleFigure) float64 { return f.loadgen }),
	}
}

// median is the median of v (the mean of the middle two when even).
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// fillOver queues b.N one-item requests over the processes of envs, from
// loadClients clients, request i with keys[i%len(keys)] (the setup of a
// measurement, not measured).
func fillOver(ctx context.Context, b *testing.B, envs []*loadEnv, keys []string, body []byte) {
	b.Helper()
	var sent atomic.Int64
	runLoadQuiet(ctx, b, loadClients, func(ctx context.Context, c int) error {
		var out struct {
			ID string `json:"id"`
		}
		key := keys[int(sent.Add(1)-1)%len(keys)]
		code, err := envs[c%len(envs)].post(ctx, "/api/v2/generate/async", key, body, &out)
		if err != nil || code != http.StatusAccepted || out.ID == "" {
			return fmt.Errorf("async: status %d, id %q: %v", code, out.ID, err)
		}
		return nil
	})
}

// measureLifecycles runs b.N lifecycles, worker w on envs[w%len(envs)]
// with keys[w%len(keys)], and returns their rate and CPU.
func measureLifecycles(ctx context.Context, b *testing.B, envs []*loadEnv, procs []*child, pg pgProcesses,
	keys []string, img string, bodies [][]byte) scaleFigure {
	b.Helper()
	hordebotCPU := func() time.Duration {
		var sum time.Duration
		for _, p := range procs {
			sum += procCPU(p.cmd.Process.Pid)
		}
		return sum
	}
	h0, pg0, self0 := hordebotCPU(), pg.cpu(), processCPU()
	start := time.Now()
	runLoadQuiet(ctx, b, loadWorkers, func(ctx context.Context, w int) error {
		e, key := envs[w%len(envs)], keys[w%len(keys)]
		var got popAnswer
		for empty := 0; got.ID == nil; empty++ {
			if empty == maxEmptyPops {
				return fmt.Errorf("%d pops in a row found no job; skipped: %v", empty, got.Skipped)
			}
			if _, err := e.post(ctx, "/api/v2/generate/pop", key, bodies[w], &got); err != nil {
				return fmt.Errorf("pop: %w", err)
			}
		}
		sub, _ := json.Marshal(map[string]any{"id": *got.ID, "generation": img, "seed": 42, "state": "ok"})
		if _, err := e.post(ctx, "/api/v2/generate/submit", key, sub, nil); err != nil {
			return fmt.Errorf("submit %s: %w", *got.ID, err)
		}
		return nil
	})
	elapsed := time.Since(start)
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(b.N) }
	return scaleFigure{
		rate:     float64(b.N) / elapsed.Seconds(),
		hordebot: per(hordebotCPU() - h0),
		postgres: per(pg.cpu() - pg0),
		loadgen:  per(processCPU() - self0),
	}
}

// runLoadQuiet runs b.N operations on n goroutines, op(ctx, g) once per
// operation on goroutine g, until all are done; the first error fails b.
func runLoadQuiet(ctx context.Context, b *testing.B, n int, op func(ctx context.Context, g int) error) {
	b.Helper()
	ctx, cancel := context.WithTimeout(ctx, loadDeadline)
	defer cancel()
	tickets := make(chan struct{}, b.N)
	for range b.N {
		tickets <- struct{}{}
	}
	close(tickets)
	errc := make(chan error, n)
	for g := range n {
		go func() {
			for range tickets {
				if err := op(ctx, g); err != nil {
					cancel()
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}
	var first error
	for range n {
		if err := <-errc; err != nil && first == nil {
			first = err
		}
	}
	if first != nil {
		b.Fatal(first)
	}
}

// pgProcesses finds the processes of the local test cluster in dir
// (scripts/pg-test-cluster.sh's PGTEST_DIR): its postmaster, whose pid is
// the first line of postmaster.pid, and every process it started.
type pgProcesses struct{ postmaster int }

// postgresPIDs is the test cluster in dir; a zero pgProcesses (nothing
// measured) when dir is empty or holds none.
func postgresPIDs(dir string) pgProcesses {
	if dir == "" {
		return pgProcesses{}
	}
	data, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid"))
	if err != nil {
		return pgProcesses{}
	}
	first, _, _ := strings.Cut(string(data), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return pgProcesses{}
	}
	return pgProcesses{postmaster: pid}
}

func (p pgProcesses) ok() bool { return p.postmaster > 0 }

// cpu is the CPU time the postmaster and its living children have used.
// A backend that exited meanwhile takes its time with it, so the pools of
// the processes measured, which keep their connections, are what counts.
func (p pgProcesses) cpu() time.Duration {
	if !p.ok() {
		return 0
	}
	sum := procCPU(p.postmaster)
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return sum
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if procParent(pid) == p.postmaster {
			sum += procCPU(pid)
		}
	}
	return sum
}

// procParent is the parent pid of process pid (-1 if unknown).
func procParent(pid int) int {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	i := strings.LastIndexByte(string(data), ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(string(data[i+1:]))
	if len(f) < 2 {
		return -1
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return -1
	}
	return ppid
}

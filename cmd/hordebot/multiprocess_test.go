package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/worker"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// The multi-process test: several hordebot processes on one PostgreSQL
// database, each killed with SIGKILL once under load and restarted on its
// address. Its counts come from the environment, for a longer run by hand:
const (
	// multiRequestsEnv: API requests (image and text; default 500).
	multiRequestsEnv = "HORDEBOT_MULTIPROCESS_REQUESTS"
	// multiImaginesEnv: /imagine commands through the fake Discord (default 20).
	multiImaginesEnv = "HORDEBOT_MULTIPROCESS_IMAGINES"
	// multiLoadEnv: how long the requests are spread over (default 16s).
	multiLoadEnv = "HORDEBOT_MULTIPROCESS_LOAD"
	// multiDirEnv: a directory for the config and the processes' logs, kept
	// after the test (default: a temporary one).
	multiDirEnv = "HORDEBOT_MULTIPROCESS_DIR"
)

// TestMultiProcessSurvivesSIGKILL runs three `hordebot api` processes and
// one `hordebot run` (its Discord is the fake, reached through
// discord.rest_url) on one PostgreSQL schema. Procedural workers (the
// reference worker, in this process) pop from all four, one URL after the
// other; API clients spread their requests (image and text) over the api
// processes and members run /imagine in the fake Discord. While the load
// runs, each process is killed with SIGKILL once and started again on its
// address. Then: every request finished done (or faulted, with its reason),
// no item was served by two jobs at once and no job id went to two
// workers (an item has a second job only after its first was aborted, past
// its deadline, or faulted), every /imagine whose progress the member saw
// got its images in Discord, the processes stop cleanly on SIGTERM and
// `hordebot kudos verify` exits 0.
//
// One thing is done by hand: a pop whose answer was lost when its process
// died leaves a job that no worker has, which the horde aborts and
// re-queues at its deadline (at least 150 s, as on the AI Horde). Rather
// than wait, the test moves such jobs' deadlines to now once it is sure no
// worker got them; a process's sweep then aborts them as it would later.
func TestMultiProcessSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	url := storetest.PostgresDatabase(t, t.TempDir()) // skips, saying why, without HORDEBOT_TEST_POSTGRES_URL
	nRequests := envInt(t, multiRequestsEnv, 500)
	nImagines := envInt(t, multiImaginesEnv, 20)
	load := envDuration(t, multiLoadEnv, 16*time.Second)
	began := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	if d := os.Getenv(multiDirEnv); d != "" {
		dir = d // the processes' logs stay there
	}

	// The fake Discord: a guild, a channel, two members.
	srv := discordtest.New(discordtest.WithLogger(testLogger(t)), discordtest.WithInteractionTimeout(20*time.Second))
	t.Cleanup(srv.Close)
	guild := srv.AddGuild(discordgo.Guild{Name: "gpus"})
	general, err := srv.AddChannel(discordgo.Channel{GuildID: guild.ID, Name: "general", Type: discordgo.ChannelTypeGuildText})
	if err != nil {
		t.Fatal(err)
	}
	var members []*discordgo.User
	for _, name := range []string{"ada", "ben"} {
		u := srv.AddUser(discordgo.User{Username: name})
		if _, err := srv.AddMember(guild.ID, discordgo.Member{User: u, JoinedAt: time.Now().Add(-30 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		members = append(members, u)
	}

	// Users: three requesters, two worker owners.
	keyOf := func(name string) string {
		t.Helper()
		var out strings.Builder
		if err := run(ctx, []string{"user", "add", name, "--database", url}, &out, io.Discard, func(string) string { return "" }); err != nil {
			t.Fatalf("user add %s: %v", name, err)
		}
		return strings.TrimSpace(out.String())
	}
	clientKeys := []string{keyOf("ann"), keyOf("cat"), keyOf("dan")}
	ownerKeys := []string{keyOf("vol"), keyOf("wes")}

	conf := filepath.Join(dir, "hordebot.yaml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(`api:
  rate_per_key: 100000
  burst_per_key: 100000
  rate_per_ip: 100000
  burst_per_ip: 100000
database:
  max_conns: 6
horde:
  member_floor: -1000000000   # a load test, not a test of the floor
  concurrency: 100000
  anonymous_concurrency: 100000
  drops_for_maintenance: 100000
moderation:
  max_workers_untrusted: -1
  max_megapixelsteps_per_second: 0
discord:
  guild_ids: [%q]
  commands_per_minute: -1
  guild_commands_per_minute: -1
`, guild.ID)), 0o600); err != nil {
		t.Fatal(err)
	}

	// The processes: api0..api2 and run, each on an address of its own.
	var procs []*child
	for i := range 3 {
		addr := freeAddr(t)
		procs = append(procs, &child{name: fmt.Sprintf("api%d", i), addr: addr, log: filepath.Join(dir, fmt.Sprintf("api%d.log", i)),
			args: []string{"api", "--config", conf, "--database", url, "--data", filepath.Join(dir, fmt.Sprintf("api%d", i)), "--listen", addr}})
	}
	runAddr := freeAddr(t)
	procs = append(procs, &child{name: "run", addr: runAddr, log: filepath.Join(dir, "run.log"),
		args: []string{"run", "--config", conf, "--database", url, "--data", filepath.Join(dir, "run")},
		env: []string{"DISCORD_TOKEN=" + srv.Token(), "HORDEBOT_DISCORD_REST_URL=" + srv.URL(),
			"HORDEBOT_LISTEN=" + runAddr, "HORDEBOT_PUBLIC_URL=http://" + runAddr}})
	t.Cleanup(func() { // before the schema is emptied (cleanups run last first)
		for _, p := range procs {
			p.kill()
		}
	})
	for _, p := range procs {
		if err := p.start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	runProc := procs[3]
	var bases []string
	for _, p := range procs {
		bases = append(bases, "http://"+p.addr)
	}

	// Workers: every request they send goes to the next process, and the
	// answers to their pops are counted by job id.
	pops := &popLog{jobs: map[string][]string{}}
	wctx, stopWorkers := context.WithCancel(context.Background())
	defer stopWorkers()
	var wwg sync.WaitGroup
	startWorker := func(name string, kind aihorde.Kind, key string) {
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			hc := &http.Client{Timeout: 20 * time.Second, Transport: &roundRobin{bases: bases, pops: pops, worker: name, next: http.DefaultTransport}}
			err := worker.Run(wctx, worker.Config{
				BaseURL: bases[0], APIKey: key, Name: name, Kind: kind, Backend: worker.NewProcedural(),
				Threads: 2, MaxPixels: 512 * 512, PopInterval: 100 * time.Millisecond, HTTPClient: hc, Logger: testLogger(t),
				Retry: worker.RetryPolicy{MaxAttempts: 40, BaseDelay: 50 * time.Millisecond, MaxDelay: 500 * time.Millisecond},
			})
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("worker %s: %v", name, err)
			}
		}()
	}
	startWorker("img-1", aihorde.KindImage, ownerKeys[0])
	startWorker("img-2", aihorde.KindImage, ownerKeys[1])
	startWorker("img-3", aihorde.KindImage, ownerKeys[0])
	startWorker("txt-1", aihorde.KindText, ownerKeys[1])

	// The load: API clients, /imagine, and the kills, all over `load`.
	var (
		mu        sync.Mutex
		accepted  = map[string]string{} // request id -> what it is, for the log
		refused   = map[string]int{}    // why a submit got no 202, counted
		imagineTk []string
		noSession int
	)
	var lwg sync.WaitGroup
	const clients = 6
	loadStart := time.Now()
	// due is when request i is sent: evenly over the load, whatever each
	// answer takes.
	due := func(i, n int) time.Time { return loadStart.Add(load * time.Duration(i) / time.Duration(max(n, 1))) }
	for c := range clients {
		lwg.Add(1)
		go func() {
			defer lwg.Done()
			hc := &http.Client{Timeout: 10 * time.Second}
			for i := c; i < nRequests; i += clients {
				time.Sleep(time.Until(due(i, nRequests)))
				path, body, what := "/api/v2/generate/async", map[string]any{
					"prompt": fmt.Sprintf("picture %d of a lighthouse", i),
					"params": map[string]any{"width": 64, "height": 64, "steps": 5, "n": 1 + i%2}, "r2": i%3 != 0,
				}, "image"
				if i%4 == 3 {
					path, body, what = "/api/v2/generate/text/async", map[string]any{
						"prompt": fmt.Sprintf("story %d about a lighthouse", i), "params": map[string]any{"max_length": 16, "max_context_length": 256},
					}, "text"
				}
				// To the api processes, the next one when one gives no
				// answer (as behind a load balancer): a request that was
				// stored before its process died is then stored twice,
				// and served twice, but accepted once.
				var id, why string
				for try := range 3 {
					if id, why = submitRequest(ctx, hc, bases[(i+try)%3]+path, clientKeys[i%3], body); id != "" || !strings.HasPrefix(why, "no answer") {
						break
					}
				}
				mu.Lock()
				if id != "" {
					accepted[id] = what
				} else {
					refused[why]++
				}
				mu.Unlock()
			}
		}()
	}
	lwg.Add(1)
	go func() {
		defer lwg.Done()
		for i := range nImagines {
			time.Sleep(time.Until(due(i, nImagines)))
			tok, err := srv.SendInteraction(discordtest.Interaction{GuildID: guild.ID, ChannelID: general.ID, UserID: members[i%2].ID,
				Command: "imagine", Options: discordtest.Opts(discordtest.Opt("prompt", fmt.Sprintf("a lighthouse, take %d", i)),
					discordtest.Opt("count", 1+i%2), discordtest.Opt("steps", 5))})
			mu.Lock()
			if err != nil {
				noSession++
			} else {
				imagineTk = append(imagineTk, tok)
			}
			mu.Unlock()
		}
	}()
	// The kills: api0, run, api1, api2, one after the other under load.
	kills := []*child{procs[0], runProc, procs[1], procs[2]}
	gap := load / time.Duration(len(kills)+1)
	for _, p := range kills {
		time.Sleep(gap)
		p.kill()
		if err := p.start(ctx); err != nil {
			t.Fatal(err)
		}
	}
	lwg.Wait()
	loadDone := time.Now()

	// Orphans of lost pop answers: processing jobs no worker got, a while
	// after they started, have their deadline moved to now.
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var orphans atomic.Int64
	orphanCtx, stopOrphans := context.WithCancel(ctx)
	orphansDone := make(chan struct{})
	go func() {
		defer close(orphansDone)
		for orphanCtx.Err() == nil {
			now := time.Now()
			res, err := db.ExecContext(orphanCtx, `UPDATE jobs SET deadline = $1
WHERE state = 'processing' AND started_at < $2 AND deadline > $1 AND NOT (id = ANY($3::text[]))`,
				now.UnixNano(), now.Add(-3*time.Second).UnixNano(), pops.ids())
			if err == nil {
				n, _ := res.RowsAffected()
				orphans.Add(n)
			}
			select {
			case <-orphanCtx.Done():
			case <-time.After(time.Second):
			}
		}
	}()

	// Every request finishes, those whose 202 was lost in a kill too.
	var states map[string]requestRow
	deadline := time.Now().Add(90 * time.Second)
	lastLog := time.Now()
	for {
		states, err = requestRows(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		open := 0
		for _, r := range states {
			if !r.finished() {
				open++
			}
		}
		if open == 0 {
			break
		}
		if time.Since(lastLog) > 2*time.Second {
			lastLog = time.Now()
			t.Logf("%v after the load: %d of %d requests open", time.Since(loadDone).Round(time.Second), open, len(states))
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d requests still open 90 s after the load ended", open, len(states))
		}
		time.Sleep(250 * time.Millisecond)
	}
	finished := time.Now()
	mu.Lock()
	defer mu.Unlock()
	if len(accepted) < nRequests*9/10 {
		t.Errorf("only %d of %d requests were accepted (%v)", len(accepted), nRequests, refused)
	}
	faulted := map[string]int{}
	for id, what := range accepted {
		r, ok := states[id]
		switch {
		case !ok:
			t.Errorf("accepted %s request %s is lost: not in the database", what, id)
		case r.state == "faulted" && r.reason == "":
			t.Errorf("accepted %s request %s faulted without a reason", what, id)
		case r.state == "faulted":
			faulted[r.reason]++
		case r.state != "done":
			t.Errorf("accepted %s request %s ended %s (%s), want done", what, id, r.state, r.reason)
		}
	}

	// Every /imagine whose progress the member saw gets its images, and so
	// does every one the member saw deferred: a process that died before
	// queuing it left it recorded, and the restarted `run` process takes
	// it up once the dead one's claim lapsed (15 s).
	shown, deferredOnly, unanswered := 0, 0, 0
	for _, tok := range imagineTk {
		if !sawProgress(srv, tok) {
			// Its process died before it showed the request queued: the
			// member saw "thinking…", or no answer at all (killed before
			// the deferral: Discord says the application did not respond).
			if _, ok := srv.Callback(tok); !ok {
				unanswered++
				continue
			}
			deferredOnly++
		} else {
			shown++
		}
		wctx, wcancel := context.WithTimeout(ctx, 60*time.Second)
		m, err := srv.WaitForOriginal(wctx, tok, func(m discordtest.Message) bool { return len(m.Files) > 0 })
		wcancel()
		if err != nil {
			cur, _ := srv.Original(tok)
			t.Errorf("an /imagine the member saw deferred or queued got no images: %v (message: %q)", err, cur.Content)
			continue
		}
		if !strings.Contains(m.Content, "lighthouse") {
			t.Errorf("the /imagine result says %q", m.Content)
		}
	}
	if shown < nImagines/2 {
		t.Errorf("only %d of %d /imagine were answered", shown, nImagines)
	}
	stopOrphans()
	<-orphansDone
	stopWorkers()
	wwg.Wait()

	// No job id went to two workers; an item's jobs follow one another,
	// each but the last aborted or faulted before the next started.
	jobs, err := jobRows(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]jobRow{}
	items := map[string][]jobRow{}
	for _, j := range jobs {
		byID[j.id] = j
		k := j.request + "/" + strconv.Itoa(j.item)
		items[k] = append(items[k], j)
	}
	requeued := 0
	for id, workers := range pops.snapshot() {
		if len(workers) != 1 {
			t.Errorf("job %s was handed to %d workers: %v", id, len(workers), workers)
		}
		if _, ok := byID[id]; !ok {
			t.Errorf("job %s a worker popped is not in the database", id)
		}
	}
	seen := pops.snapshot()
	unseen := 0
	for _, j := range jobs {
		if _, ok := seen[j.id]; !ok {
			unseen++
			if j.state != "aborted" {
				t.Errorf("job %s no worker got ended %s, want aborted at its deadline", j.id, j.state)
			}
		}
	}
	for k, js := range items {
		sort.Slice(js, func(a, b int) bool { return js[a].started < js[b].started })
		done := 0
		for i, j := range js {
			if j.state == "done" {
				done++
			}
			if i == len(js)-1 {
				break
			}
			requeued++
			if j.state != "aborted" && j.state != "faulted" {
				t.Errorf("item %s: job %s ended %s and another job was started for the item", k, j.id, j.state)
			}
			if j.finished == 0 || j.finished > js[i+1].started {
				t.Errorf("item %s served twice at once: job %s (ended %d) and job %s (started %d)", k, j.id, j.finished, js[i+1].id, js[i+1].started)
			}
		}
		if done > 1 {
			t.Errorf("item %s has %d results", k, done)
		}
	}

	// Every process listens for the others' events (one connection each,
	// named for the schema's channel), the restarted ones included.
	st, err := store.Open(ctx, url, store.Options{Logger: testLogger(t), MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	channel := st.EventsChannel()
	st.Close()
	for listening := 0; listening != len(procs); {
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`,
			"hordebot events "+channel).Scan(&listening); err != nil {
			t.Fatal(err)
		}
		if listening != len(procs) && time.Since(finished) > 20*time.Second {
			t.Fatalf("%d event listeners on channel %s, want one per process (%d)", listening, channel, len(procs))
		}
		time.Sleep(100 * time.Millisecond)
	}

	// SIGTERM drains every process; the books balance.
	for _, p := range procs {
		if err := p.term(); err != nil {
			t.Errorf("%s after SIGTERM: %v, want a clean exit", p.name, err)
		}
	}
	verify := exec.Command(os.Args[0], "kudos", "verify", "--database", url)
	verify.Env = append(os.Environ(), "HORDEBOT_AS_MAIN=1", "HORDEBOT_LOG_LEVEL=error")
	if out, err := verify.CombinedOutput(); err != nil {
		t.Errorf("hordebot kudos verify: %v\n%s", err, out)
	}
	starts := map[string][]time.Duration{}
	var childCPU time.Duration
	for _, p := range procs {
		p.scanLog(t)
		starts[p.name] = p.took
		childCPU += p.cpu
	}
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	selfCPU := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	t.Logf("starts, until the API answered: %v; CPU: the processes %v, this test (workers, clients, the fake Discord) %v",
		starts, childCPU.Round(time.Millisecond), selfCPU.Round(time.Millisecond))
	t.Logf("%d processes, %d kills; %d of %d requests accepted (%d in the database; refused: %v), faulted: %v; "+
		"%d /imagine sent (%d with no gateway session), %d shown queued and %d deferred only (their process died), all delivered; %d unanswered (their process died before the deferral); %d jobs, %d items re-queued, "+
		"%d jobs no worker got (lost pop answers, aborted at their deadline: %d moved); load %v, drained %v after, total %v",
		len(procs), len(kills), len(accepted), nRequests, len(states), refused, faulted,
		len(imagineTk), noSession, shown, deferredOnly, unanswered, len(jobs), requeued, unseen, orphans.Load(),
		loadDone.Sub(began).Round(time.Millisecond), finished.Sub(loadDone).Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// envInt reads a positive count from the environment, or def.
func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		t.Fatalf("%s=%q: want a positive count", name, v)
	}
	return n
}

// envDuration reads a positive duration from the environment, or def.
func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 30s", name, v)
	}
	return d
}

// child is one hordebot process of the test, started again after a kill
// with the same arguments and address; its output goes to its log file.
type child struct {
	name, addr string
	args, env  []string
	log        string

	cmd  *exec.Cmd
	done chan struct{} // closed once cmd has exited
	err  error         // cmd's exit, once done
	// took is how long each start took, until the API answered; cpu the
	// CPU time of its runs that have ended.
	took []time.Duration
	cpu  time.Duration
}

// start runs the process and waits until its API answers.
func (c *child) start(ctx context.Context) error {
	f, err := os.OpenFile(c.log, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	cmd := exec.Command(os.Args[0], c.args...)
	cmd.Env = append(append(os.Environ(), "HORDEBOT_AS_MAIN=1", "HORDEBOT_LOG_LEVEL=warn"), c.env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", c.name, err)
	}
	c.cmd, c.done = cmd, make(chan struct{})
	done := c.done
	go func() {
		c.err = cmd.Wait()
		if ps := cmd.ProcessState; ps != nil {
			c.cpu += ps.UserTime() + ps.SystemTime()
		}
		f.Close()
		close(done)
	}()
	began := time.Now()
	deadline := began.Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + c.addr + "/api/v2/status/heartbeat")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				c.took = append(c.took, time.Since(began).Round(10*time.Millisecond))
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("%s exited while starting: %v\n%s", c.name, c.err, tail(c.log))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.kill()
			return fmt.Errorf("%s did not answer within 60 s\n%s", c.name, tail(c.log))
		}
	}
}

// kill ends the process with SIGKILL (if it runs) and waits for it.
func (c *child) kill() {
	if c.cmd == nil {
		return
	}
	select {
	case <-c.done:
		return
	default:
	}
	_ = c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.done
}

// term ends the process with SIGTERM and returns its exit.
func (c *child) term() error {
	select {
	case <-c.done:
		return fmt.Errorf("%s had exited already: %v", c.name, c.err)
	default:
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	select {
	case <-c.done:
		return c.err
	case <-time.After(60 * time.Second):
		c.kill()
		return fmt.Errorf("%s did not exit within 60 s of SIGTERM", c.name)
	}
}

// scanLog fails the test for a data race or a panic in the process's log.
func (c *child) scanLog(t *testing.T) {
	t.Helper()
	f, err := os.Open(c.log)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "WARNING: DATA RACE") || strings.HasPrefix(line, "panic:") {
			t.Errorf("%s: %s\n%s", c.name, line, tail(c.log))
			return
		}
	}
}

// tail is the end of a log file, for a failure's message.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// submitRequest POSTs a request and returns its id on a 202, or why not.
func submitRequest(ctx context.Context, hc *http.Client, url, key string, body any) (id, why string) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return "", err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Client-Agent", "multiprocess-test:1:none")
	req.Header.Set("apikey", key)
	resp, err := hc.Do(req)
	if err != nil {
		return "", "no answer (its process was down or died)"
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusAccepted {
		return "", fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(data))
	}
	var out struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(data, &out); err != nil || out.ID == "" {
		return "", fmt.Sprintf("202 without an id: %s", data)
	}
	return out.ID, ""
}

// sawProgress reports whether the bot showed the member their /imagine
// queued or in progress (an edit of its message), or its result.
func sawProgress(srv *discordtest.Server, tok string) bool {
	if m, ok := srv.Original(tok); ok && (len(m.Files) > 0 || strings.Contains(m.Content, "position") || strings.Contains(m.Content, "generating")) {
		return true
	}
	for _, r := range srv.Requests() {
		if r.Params["token"] != tok || r.Method != http.MethodPatch || r.Status >= 300 {
			continue
		}
		var edit struct {
			Content string `json:"content"`
		}
		if r.Decode(&edit) == nil && (strings.Contains(edit.Content, "position") || strings.Contains(edit.Content, "generating")) {
			return true
		}
	}
	return false
}

// popLog counts, by job id, the workers whose pops were answered with it.
type popLog struct {
	mu   sync.Mutex
	jobs map[string][]string
}

func (l *popLog) add(worker string, ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, id := range ids {
		l.jobs[id] = append(l.jobs[id], worker)
	}
}

func (l *popLog) ids() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.jobs))
	for id := range l.jobs {
		out = append(out, id)
	}
	return out
}

func (l *popLog) snapshot() map[string][]string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string][]string, len(l.jobs))
	for id, ws := range l.jobs {
		out[id] = slices.Clone(ws)
	}
	return out
}

// roundRobin sends each request of a worker to the next of bases (the
// processes), whatever host it named (the API, or a process's r2_upload
// URL: every process takes every job's upload), and logs the job ids of the
// pops it answers.
type roundRobin struct {
	bases  []string
	n      atomic.Uint64
	pops   *popLog
	worker string
	next   http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (rr *roundRobin) RoundTrip(req *http.Request) (*http.Response, error) {
	base := rr.bases[rr.n.Add(1)%uint64(len(rr.bases))]
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = "http", strings.TrimPrefix(base, "http://"), ""
	resp, err := rr.next.RoundTrip(out)
	if err != nil || resp.StatusCode != http.StatusOK || !strings.HasSuffix(req.URL.Path, "/pop") {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var pop struct {
		ID  *string  `json:"id"`
		IDs []string `json:"ids"`
	}
	if json.Unmarshal(body, &pop) == nil {
		ids := pop.IDs
		if len(ids) == 0 && pop.ID != nil {
			ids = []string{*pop.ID}
		}
		rr.pops.add(rr.worker, ids)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// requestRow is a request's end as the database has it.
type requestRow struct{ state, reason string }

func (r requestRow) finished() bool {
	return r.state == "done" || r.state == "faulted" || r.state == "cancelled"
}

func requestRows(ctx context.Context, db *sql.DB) (map[string]requestRow, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, state, reason FROM requests`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]requestRow{}
	for rows.Next() {
		var id string
		var r requestRow
		if err := rows.Scan(&id, &r.state, &r.reason); err != nil {
			return nil, err
		}
		out[id] = r
	}
	return out, rows.Err()
}

// jobRow is a job as the database has it (times in unix nanoseconds).
type jobRow struct {
	id, request, state string
	item               int
	started, finished  int64
}

func jobRows(ctx context.Context, db *sql.DB) ([]jobRow, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, request_id, item, state, started_at, COALESCE(finished_at, 0) FROM jobs`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []jobRow
	for rows.Next() {
		var j jobRow
		if err := rows.Scan(&j.id, &j.request, &j.item, &j.state, &j.started, &j.finished); err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

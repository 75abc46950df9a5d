package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
)

// TestMain lets a test run this very binary as `hordebot ...` in a child
// process, so that the child can be killed with SIGKILL.
func TestMain(m *testing.M) {
	if os.Getenv("HORDEBOT_AS_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startChild runs `hordebot api` in a child process.
func startChild(t *testing.T, dir, addr string) *exec.Cmd {
	t.Helper()
	conf := dir + "/test-config.yaml"
	limits := "api:\n  rate_per_key: 100000\n  burst_per_key: 100000\n  rate_per_ip: 100000\n  burst_per_ip: 100000\n"
	if err := os.WriteFile(conf, []byte(limits), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "api", "--config", conf, "--listen", addr, "--data", dir)
	cmd.Env = append(os.Environ(), "HORDEBOT_AS_MAIN=1", "HORDEBOT_LOG_LEVEL=error")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/api/v2/status/heartbeat")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("child did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestKill9LosesNothing kills `hordebot api` with SIGKILL while clients submit
// requests and a worker submits results, restarts it, and checks that every
// acknowledged request and result is still there and the ledger balances.
func TestKill9LosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir := t.TempDir()
	var stdout strings.Builder
	if err := run(context.Background(), []string{"migrate", "--data", dir}, io.Discard, io.Discard, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	if err := run(context.Background(), []string{"user", "add", "alice", "--data", dir}, &stdout, io.Discard, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(stdout.String())
	if strings.Contains(key, "\n") || len(key) < 16 {
		t.Fatalf("user add printed %q, want the key alone on a line", key)
	}
	addr := freeAddr(t)
	child := startChild(t, dir, addr)
	c := apiClient{base: "http://" + addr, key: key, hc: &http.Client{Timeout: 5 * time.Second}}

	var (
		mu       sync.Mutex
		accepted []string           // request ids answered 202
		rewarded = map[string]int{} // job id -> reward, for submits answered 200
	)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { // a client submitting requests
		defer wg.Done()
		for i := 0; ctx.Err() == nil; i++ {
			var out struct {
				ID string `json:"id"`
			}
			body := map[string]any{"prompt": fmt.Sprintf("kill test %d", i), "params": map[string]any{"width": 64, "height": 64, "steps": 5}}
			if c.do(t, "POST", "/api/v2/generate/async", body, &out) == http.StatusAccepted {
				mu.Lock()
				accepted = append(accepted, out.ID)
				mu.Unlock()
			}
		}
	}()
	go func() { // a worker popping and submitting tiny inline images
		defer wg.Done()
		img := tinyPNGBase64(t)
		for ctx.Err() == nil {
			var job struct {
				ID *string `json:"id"`
			}
			if c.do(t, "POST", "/api/v2/generate/pop", map[string]any{"name": "killtest", "models": []string{}, "max_pixels": 262144}, &job) != http.StatusOK || job.ID == nil {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			var rw struct {
				Reward float64 `json:"reward"`
			}
			if c.do(t, "POST", "/api/v2/generate/submit", map[string]any{"id": *job.ID, "generation": img, "state": "ok", "seed": 1}, &rw) == http.StatusOK {
				mu.Lock()
				rewarded[*job.ID] = int(rw.Reward)
				mu.Unlock()
			}
		}
	}()

	for round := 0; round < 3; round++ {
		time.Sleep(700 * time.Millisecond)
		if err := child.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		child.Wait()
		child = startChild(t, dir, addr)
	}
	time.Sleep(300 * time.Millisecond)
	stop()
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	if len(accepted) == 0 || len(rewarded) == 0 {
		t.Fatalf("the load did not run: %d accepted, %d rewarded", len(accepted), len(rewarded))
	}
	for _, id := range accepted {
		if code := c.do(t, "GET", "/api/v2/generate/status/"+id, nil, nil); code != http.StatusOK {
			t.Fatalf("accepted request %s lost after kill -9: status %d", id, code)
		}
	}
	// Look at the store itself for the results: a request may be durable
	// although its 202 never reached the client (killed in between), so not
	// every rewarded job belongs to a request in accepted.
	// SIGTERM drains and exits cleanly.
	if err := child.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := child.Wait(); err != nil {
		t.Fatalf("hordebot api after SIGTERM: %v, want a clean exit", err)
	}
	st, err := store.Open(context.Background(), dir, store.Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for jobID := range rewarded {
		j, err := st.Job(context.Background(), jobID)
		if err != nil || j.State != horde.JobDone {
			t.Errorf("acknowledged result of job %s lost after kill -9: %+v %v", jobID, j, err)
			continue
		}
		gens, err := st.Generations(context.Background(), j.RequestID)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, g := range gens {
			found = found || g.JobID == jobID
		}
		if !found {
			t.Errorf("job %s is done but its generation is missing", jobID)
		}
	}
	var verify strings.Builder
	if err := run(context.Background(), []string{"kudos", "verify", "--data", dir}, &verify, io.Discard, func(string) string { return "" }); err != nil {
		t.Fatalf("kudos verify after kill -9: %v\n%s", err, verify.String())
	}
	t.Logf("%d requests accepted, %d results acknowledged, 3 kills", len(accepted), len(rewarded))
}

// tinyPNGBase64 is a 1x1 PNG, base64: the smallest result a worker can submit.
func tinyPNGBase64(t *testing.T) string {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64)) // the size the kill test's requests ask for
	for i := range img.Pix {
		img.Pix[i] = uint8(i)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes())
}

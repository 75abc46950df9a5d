package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// waitingRequests is how many requests BenchmarkWaitingRSS queues
// (HORDEBOT_BENCH_WAITING, default 100,000).
func waitingRequests() int {
	if n, err := strconv.Atoi(os.Getenv("HORDEBOT_BENCH_WAITING")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// BenchmarkWaitingRSS is the memory a waiting request costs the server:
// `hordebot api` in a child process over a real SQLite store takes
// waitingRequests() ordinary image requests (a prompt of about 160
// characters with a negative part, one of eight models, default
// parameters) on POST /generate/async from 32 keep-alive clients, and
// nothing pops them. It reports the child's resident set before (rss-rest-MB)
// and after (rss-MB), its peak (rss-peak-MB), the growth per waiting request
// (rss-B/request) and accepted requests per second. Target: under 250 MB
// with 100,000 waiting. It runs once, whatever b.N says.
func BenchmarkWaitingRSS(b *testing.B) {
	n := waitingRequests()
	models := []string{"stable_diffusion", "AlbedoBase XL (SDXL)", "Deliberate", "Dreamshaper",
		"Juggernaut XL", "Anything Diffusion", "ICBINP - I Can't Believe It's Not Photography", "Realistic Vision"}
	// The anonymous key, as most of the AI Horde's traffic: no kudos floor,
	// and its cap on open items raised for the load.
	addr, cmd := apiChild(b, fmt.Sprintf("horde:\n  anonymous_concurrency: %d\n  anonymous_floor: -1000000000000\n", n+1))
	pid := cmd.Process.Pid
	rest := procStatusKB(pid, "VmRSS")
	tr := &http.Transport{MaxIdleConns: 32, MaxIdleConnsPerHost: 32}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), loadDeadline)
	defer cancel()
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, 32)
	b.ResetTimer()
	start := time.Now()
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)); i <= n; i = int(next.Add(1)) {
				body, _ := json.Marshal(map[string]any{
					"prompt": fmt.Sprintf("A detailed oil painting of the Lighthouse of Alexandria on a rocky coast at dusk (%d), "+
						"dramatic clouds, volumetric light, highly detailed ### blurry, lowres, watermark", i),
					"models": []string{models[i%len(models)]},
				})
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/v2/generate/async", bytes.NewReader(body))
				if err != nil {
					errc <- err
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Client-Agent", "hordebot-loadgen:1:none")
				req.Header.Set("apikey", "0000000000")
				resp, err := hc.Do(req)
				if err != nil {
					errc <- err
					return
				}
				data, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusAccepted {
					errc <- fmt.Errorf("request %d: status %d: %s", i, resp.StatusCode, data)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	close(errc)
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	rss, peak := procStatusKB(pid, "VmRSS"), procStatusKB(pid, "VmHWM")
	b.ReportMetric(float64(rest)/1024, "rss-rest-MB")
	b.ReportMetric(float64(rss)/1024, "rss-MB")
	b.ReportMetric(float64(peak)/1024, "rss-peak-MB")
	b.ReportMetric(float64(rss-rest)*1024/float64(n), "rss-B/request")
	b.ReportMetric(float64(n)/elapsed.Seconds(), "requests/s")
	b.Logf("%d requests waiting after %v; RSS %d MB at rest, %d MB after, peak %d MB", n, elapsed, rest/1024, rss/1024, peak/1024)
}

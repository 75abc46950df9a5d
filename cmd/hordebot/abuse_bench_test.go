package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
)

// The abuse benchmarks run one attack each against `hordebot api` in a
// child process on 127.0.0.1 and report the child's peak RSS (VmHWM, from
// /proc/<pid>/status) and the p99 latency of heartbeats a well-behaved
// client sends from another loopback address meanwhile. Targets: RSS under
// 200 MB, heartbeat p99 under 50 ms. They are benchmarks, not tests: the
// figures depend on the machine; scripts/bench.sh prints them beside the
// targets. HORDEBOT_ABUSE_SECONDS sets how long each attack lasts (default 5).

// attackFor is how long each attack runs.
func attackFor() time.Duration {
	if s, err := strconv.ParseFloat(os.Getenv("HORDEBOT_ABUSE_SECONDS"), 64); err == nil && s > 0 {
		return time.Duration(s * float64(time.Second))
	}
	return 5 * time.Second
}

// abuseChild runs `hordebot api` with rate limits out of the way (the
// attacks are about memory and connections, not request rates) and returns
// its address and process.
func abuseChild(b *testing.B) (string, *exec.Cmd) {
	return apiChild(b, "")
}

// apiChild runs `hordebot api` in a child process with the API's rate
// limits out of the way and extra configuration (YAML, beside the "api:"
// section), and returns its address and process once it answers.
func apiChild(b *testing.B, extra string) (string, *exec.Cmd) {
	b.Helper()
	dir := b.TempDir()
	addr := benchFreeAddr(b)
	conf := dir + "/abuse-config.yaml"
	limits := "api:\n  rate_per_key: 100000\n  burst_per_key: 100000\n  rate_per_ip: 100000\n  burst_per_ip: 100000\n" + extra
	if err := os.WriteFile(conf, []byte(limits), 0o600); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "api", "--config", conf, "--listen", addr, "--data", dir)
	cmd.Env = append(os.Environ(), "HORDEBOT_AS_MAIN=1", "HORDEBOT_LOG_LEVEL=error")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/api/v2/status/heartbeat")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr, cmd
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("hordebot api did not come up: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func benchFreeAddr(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// procStatusKB reads a "Vm..." line of /proc/<pid>/status, in kB.
func procStatusKB(pid int, field string) int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			v, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return v
		}
	}
	return -1
}

// procCPU is the user+system CPU time a process has used (from
// /proc/<pid>/stat, in clock ticks of 10 ms).
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The command name (field 2) may hold spaces: count from the ')'.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 13 {
		return -1
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	sy, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+sy) * 10 * time.Millisecond
}

// attacker is a dialer from 127.0.0.2, so that the attack and the
// well-behaved client are two addresses, as they would be in the wild.
var attacker = &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 5 * time.Second}

// runAttack starts the child, measures its resting RSS, runs attack for
// attackFor() while a client polls the heartbeat, and reports the figures.
func runAttack(b *testing.B, attack func(ctx context.Context, addr string) string) {
	for range b.N {
		addr, cmd := abuseChild(b)
		pid := cmd.Process.Pid
		rest := procStatusKB(pid, "VmRSS")
		cpu0 := procCPU(pid)

		ctx, cancel := context.WithTimeout(context.Background(), attackFor())
		var lat []time.Duration
		var hbErrs int
		done := make(chan struct{})
		go func() {
			defer close(done)
			client := &http.Client{Timeout: 10 * time.Second}
			for ctx.Err() == nil {
				start := time.Now()
				resp, err := client.Get("http://" + addr + "/api/v2/status/heartbeat")
				if err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode == http.StatusOK {
						lat = append(lat, time.Since(start))
					} else {
						hbErrs++
					}
				} else {
					hbErrs++
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
		summary := attack(ctx, addr)
		cancel()
		<-done
		peak := procStatusKB(pid, "VmHWM")
		cpu := procCPU(pid) - cpu0
		alive := cmd.ProcessState == nil
		slices.Sort(lat)
		p99 := time.Duration(-1)
		if len(lat) > 0 {
			p99 = lat[min(len(lat)-1, len(lat)*99/100)]
		}
		b.ReportMetric(float64(rest)/1024, "rss-rest-MB")
		b.ReportMetric(float64(peak)/1024, "rss-peak-MB")
		b.ReportMetric(float64(p99.Microseconds())/1000, "hb-p99-ms")
		b.ReportMetric(float64(hbErrs), "hb-errors")
		b.ReportMetric(cpu.Seconds(), "server-cpu-s")
		b.Logf("%s; resting RSS %d MB, peak %d MB; heartbeat p99 %v over %d (%d failed); server CPU %v in %v; server alive %v",
			summary, rest/1024, peak/1024, p99, len(lat), hbErrs, cpu, attackFor(), alive)
	}
}

// zeros is an endless reader of one byte value, so that a 19 MB body
// costs the attacker no memory and little CPU.
type zeros struct{}

var zeroBlock = bytes.Repeat([]byte{'R'}, 64<<10)

func (zeros) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		n += copy(p[n:], zeroBlock)
	}
	return n, nil
}

// BenchmarkAbuseUploads: 40 clients PUT 19 MB bodies to r2 upload URLs of
// jobs that do not exist (no key needed), over and over.
func BenchmarkAbuseUploads(b *testing.B) {
	runAttack(b, func(ctx context.Context, addr string) string {
		const clients, size = 40, 19 << 20
		tr := &http.Transport{DialContext: attacker.DialContext, MaxConnsPerHost: clients, MaxIdleConnsPerHost: clients}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		var sent, statuses [600]atomic.Int64
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for ctx.Err() == nil {
					req, _ := http.NewRequestWithContext(ctx, http.MethodPut,
						"http://"+addr+"/api/v2/r2/"+uuid.NewString()+".webp", io.LimitReader(zeros{}, size))
					req.ContentLength = size
					resp, err := client.Do(req)
					sent[0].Add(1)
					if err != nil {
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					statuses[min(resp.StatusCode, 599)].Add(1)
				}
			})
		}
		wg.Wait()
		return fmt.Sprintf("%d PUTs of 19 MB, %d answered 404", sent[0].Load(), statuses[404].Load())
	})
}

// BenchmarkAbuseJSONBodies: 40 clients POST 10 MB JSON bodies (the
// largest an image request may be) to /generate/async, over and over.
func BenchmarkAbuseJSONBodies(b *testing.B) {
	runAttack(b, func(ctx context.Context, addr string) string {
		const clients = 40
		body := []byte(`{"prompt":"` + strings.Repeat("a", 10<<20-100) + `"}`)
		tr := &http.Transport{DialContext: attacker.DialContext, MaxConnsPerHost: clients, MaxIdleConnsPerHost: clients}
		defer tr.CloseIdleConnections()
		client := &http.Client{Transport: tr}
		var sent atomic.Int64
		var statuses [600]atomic.Int64
		var wg sync.WaitGroup
		for range clients {
			wg.Go(func() {
				for ctx.Err() == nil {
					req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/api/v2/generate/async", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					resp, err := client.Do(req)
					sent.Add(1)
					if err != nil {
						continue
					}
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					statuses[min(resp.StatusCode, 599)].Add(1)
				}
			})
		}
		wg.Wait()
		return fmt.Sprintf("%d POSTs of 10 MB: %d answered 400, %d 503", sent.Load(), statuses[400].Load(), statuses[503].Load())
	})
}

// BenchmarkAbuseTrickle: 1,500 connections each send a request's headers,
// then its body, one byte a second; a closed one dials again.
func BenchmarkAbuseTrickle(b *testing.B) {
	runAttack(b, func(ctx context.Context, addr string) string {
		const conns = 1500
		var opened, closed atomic.Int64
		var wg sync.WaitGroup
		for i := range conns {
			wg.Go(func() {
				for ctx.Err() == nil {
					c, err := attacker.DialContext(ctx, "tcp", addr)
					if err != nil {
						time.Sleep(100 * time.Millisecond)
						continue
					}
					opened.Add(1)
					go func() { // notice the server closing the connection
						_, _ = io.Copy(io.Discard, bufio.NewReader(c))
						c.Close()
					}()
					msg := "POST /api/v2/generate/pop HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\nX-Slow-" + strconv.Itoa(i) + ": "
					for j := 0; ctx.Err() == nil; j++ {
						if _, err := c.Write([]byte{msg[j%len(msg)]}); err != nil {
							closed.Add(1)
							break
						}
						select {
						case <-ctx.Done():
						case <-time.After(time.Second):
						}
					}
					c.Close()
				}
			})
		}
		wg.Wait()
		return fmt.Sprintf("%d trickling connections opened, %d cut off by the server", opened.Load(), closed.Load())
	})
}

package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

// scrape fetches /metrics from addr and returns the text exposition.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("read scrape: %v", err)
	}
	if res.StatusCode != http.StatusOK {
		t.Fatalf("scrape: status %d: %s", res.StatusCode, body)
	}
	return string(body)
}

// TestMetricsEndpoint boots the app with metrics_listen, makes one API
// request and finds it, the queue it filled and the runtime in a scrape of
// /metrics; the metrics server stops with the rest.
func TestMetricsEndpoint(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	cfg.MetricsListen = "127.0.0.1:0"
	app := startApp(t, cfg, nil)
	maddr := app.MetricsAddr()
	if maddr == "" || maddr == app.Addr() {
		app.shutdown(t)
		t.Fatalf("metrics address %q (API on %s)", maddr, app.Addr())
	}

	c := apiClient{base: "http://" + app.Addr(), key: "0000000000", hc: http.DefaultClient}
	body := map[string]any{"prompt": "a lighthouse at dusk", "params": map[string]any{"width": 512, "height": 512, "steps": 20}}
	var out struct {
		ID string `json:"id"`
	}
	if code := c.do(t, "POST", "/api/v2/generate/async", body, &out); code != http.StatusAccepted || out.ID == "" {
		app.shutdown(t)
		t.Fatalf("async: status %d, id %q", code, out.ID)
	}
	if code := c.do(t, "GET", "/api/v2/generate/check/"+out.ID, nil, nil); code != http.StatusOK {
		app.shutdown(t)
		t.Fatalf("check: status %d", code)
	}

	text := scrape(t, maddr)
	for _, want := range []string{
		`hordebot_api_requests_total{code="202",method="POST",route="/api/v2/generate/async"} 1`,
		`hordebot_api_requests_total{code="200",method="GET",route="/api/v2/generate/check/{id}"} 1`,
		`hordebot_api_request_duration_seconds_count{method="POST",route="/api/v2/generate/async"} 1`,
		`hordebot_queue_requests{kind="image"} 1`,
		`hordebot_queue_requests{kind="text"} 0`,
		`hordebot_requests_submitted_total{kind="image"} 1`,
		`hordebot_workers_online{kind="image"} 0`,
		`hordebot_kudos_transfers_total 0`,
		`hordebot_build_info{version="` + version + `"} 1`,
		"go_goroutines ",
		"process_start_time_seconds ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("scrape lacks %q", want)
		}
	}
	if strings.Contains(text, out.ID) {
		t.Errorf("a request id is a label value")
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", text)
	}
	// Names, types and help follow the Prometheus conventions (promlint).
	problems, err := testutil.GatherAndLint(app.metrics.reg)
	if err != nil {
		t.Errorf("lint: %v", err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "hordebot_") {
			t.Errorf("lint %s: %s", p.Metric, p.Text)
		}
	}

	app.shutdown(t)
	d := net.Dialer{Timeout: 5 * time.Second}
	if conn, err := d.DialContext(context.Background(), "tcp", maddr); err == nil {
		conn.Close()
		t.Fatalf("the metrics server still answers on %s after shutdown", maddr)
	}
}

// TestMetricsOffByDefault checks that without metrics_listen nothing is
// bound for metrics.
func TestMetricsOffByDefault(t *testing.T) {
	cfg := testConfig(t, t.TempDir())
	if cfg.MetricsListen != "" {
		t.Fatalf("default metrics_listen = %q, want empty", cfg.MetricsListen)
	}
	app := startApp(t, cfg, nil)
	defer app.shutdown(t)
	if got := app.MetricsAddr(); got != "" {
		t.Fatalf("MetricsAddr = %q with metrics off", got)
	}
}

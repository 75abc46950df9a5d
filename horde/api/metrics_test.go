package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"golang.org/x/time/rate"

	"github.com/hordebot/hordebot/horde/api"
)

// TestMetricsLabelRoutePatterns checks that every answered request is
// counted under the route pattern it matched, never its raw path: two ids
// share one series, unknown paths share the catch-all's or "unmatched",
// and an unknown method is "OTHER".
func TestMetricsLabelRoutePatterns(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, api.Options{Metrics: reg})

	requests := []struct {
		method, path string
		status       int
	}{
		{"GET", "/api/v2/generate/check/aaaaaaaa-0001", http.StatusNotFound},
		{"GET", "/api/v2/generate/check/bbbbbbbb-0002", http.StatusNotFound},
		{"GET", "/api/v2/status/heartbeat", http.StatusOK},
		{"GET", "/api/v2/no/such/endpoint/12345", http.StatusNotFound},
		{"GET", "/favicon-67890.ico", http.StatusNotFound},
		{"BREW", "/api/v2/status/heartbeat", http.StatusMethodNotAllowed},
		{"OPTIONS", "/api/v2/generate/async", http.StatusNoContent},
	}
	for _, r := range requests {
		wantStatus(t, e.do(r.method, r.path, "", nil), r.status)
	}

	want := `
# HELP hordebot_api_requests_total AI Horde API requests answered, by route pattern, method and HTTP status code.
# TYPE hordebot_api_requests_total counter
hordebot_api_requests_total{code="200",method="GET",route="/api/v2/status/heartbeat"} 1
hordebot_api_requests_total{code="404",method="GET",route="/api/v2/generate/check/{id}"} 2
hordebot_api_requests_total{code="404",method="GET",route="/api/v2/"} 1
hordebot_api_requests_total{code="404",method="GET",route="unmatched"} 1
hordebot_api_requests_total{code="405",method="OTHER",route="/api/v2/"} 1
hordebot_api_requests_total{code="204",method="OPTIONS",route="preflight"} 1
# HELP hordebot_api_requests_in_flight AI Horde API requests being answered now.
# TYPE hordebot_api_requests_in_flight gauge
hordebot_api_requests_in_flight 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), api.MetricRequests, api.MetricInFlight); err != nil {
		t.Fatal(err)
	}
	// One latency histogram per (route, method): 6, not one per path.
	if n, err := testutil.GatherAndCount(reg, api.MetricRequestDuration); err != nil || n != 6 {
		t.Fatalf("latency series = %d (err %v), want 6", n, err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				for _, raw := range []string{"aaaaaaaa", "12345", "67890", "BREW"} {
					if strings.Contains(l.GetValue(), raw) {
						t.Errorf("%s: a raw path or method leaked into label %s=%q", f.GetName(), l.GetName(), l.GetValue())
					}
				}
			}
		}
	}
}

// TestMetricsRateLimitedKeepsItsRoute checks that a request refused by the
// rate limit, before routing, is still labelled with its route.
func TestMetricsRateLimitedKeepsItsRoute(t *testing.T) {
	reg := prometheus.NewRegistry()
	e := newEnv(t, api.Options{Metrics: reg, IPLimit: api.RateLimit{Rate: rate.Every(1 << 40), Burst: 1}})
	wantStatus(t, e.do("GET", "/api/v2/generate/check/first-id", "", nil), http.StatusNotFound)
	wantStatus(t, e.do("GET", "/api/v2/generate/check/second-id", "", nil), http.StatusTooManyRequests)

	want := `
# HELP hordebot_api_requests_total AI Horde API requests answered, by route pattern, method and HTTP status code.
# TYPE hordebot_api_requests_total counter
hordebot_api_requests_total{code="404",method="GET",route="/api/v2/generate/check/{id}"} 1
hordebot_api_requests_total{code="429",method="GET",route="/api/v2/generate/check/{id}"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), api.MetricRequests); err != nil {
		t.Fatal(err)
	}
}

// TestMetricsShareOneRegistry checks that two APIs on one registry (a test
// process, a second listener) share the metrics instead of failing, and
// that without a registry nothing is recorded.
func TestMetricsShareOneRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := newEnv(t, api.Options{Metrics: reg})
	b := newEnv(t, api.Options{Metrics: reg})
	off := newEnv(t, api.Options{})
	for _, e := range []*env{a, b, off} {
		wantStatus(t, e.do("GET", "/api/v2/status/heartbeat", "", nil), http.StatusOK)
	}
	want := `
# HELP hordebot_api_requests_total AI Horde API requests answered, by route pattern, method and HTTP status code.
# TYPE hordebot_api_requests_total counter
hordebot_api_requests_total{code="200",method="GET",route="/api/v2/status/heartbeat"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), api.MetricRequests); err != nil {
		t.Fatal(err)
	}
}

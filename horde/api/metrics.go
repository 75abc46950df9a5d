package api

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metric names of the API (Options.Metrics).
const (
	MetricRequests        = "hordebot_api_requests_total"
	MetricRequestDuration = "hordebot_api_request_duration_seconds"
	MetricInFlight        = "hordebot_api_requests_in_flight"
)

// Labels of the API's request metrics. route is the route table's pattern
// without its method (e.g. "/api/v2/generate/check/{id}"), never the raw
// path: ids would give every request its own series.
const (
	labelRoute  = "route"
	labelMethod = "method"
	labelCode   = "code"
)

// Route labels for requests no route of the table matched.
const (
	routeUnmatched = "unmatched" // outside /api/v2: the mux's plain 404
	routePreflight = "preflight" // a CORS OPTIONS request, answered before routing
)

// httpMetrics records every request the API answers: a counter by route,
// method and status code, a latency histogram by route and method, and the
// requests in flight.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
}

// newHTTPMetrics registers the API's metrics with reg. A collector already
// registered (a second API on one registry) is shared rather than refused.
func newHTTPMetrics(reg prometheus.Registerer) (*httpMetrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: MetricRequests,
		Help: "AI Horde API requests answered, by route pattern, method and HTTP status code.",
	}, []string{labelRoute, labelMethod, labelCode})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    MetricRequestDuration,
		Help:    "Time to answer an AI Horde API request, by route pattern and method.",
		Buckets: prometheus.DefBuckets,
	}, []string{labelRoute, labelMethod})
	inFlight := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: MetricInFlight,
		Help: "AI Horde API requests being answered now.",
	})
	var err error
	if requests, err = register(reg, requests); err != nil {
		return nil, err
	}
	if duration, err = register(reg, duration); err != nil {
		return nil, err
	}
	if inFlight, err = register(reg, inFlight); err != nil {
		return nil, err
	}
	return &httpMetrics{requests: requests, duration: duration, inFlight: inFlight}, nil
}

// register registers c, or returns the identical collector registered before.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// observe records one answered request.
func (m *httpMetrics) observe(route, method string, status int, took time.Duration) {
	method = methodLabel(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(took.Seconds())
}

// routeLabel is the route label of a request: the pattern the mux matched,
// without its method. A request answered before routing (rate limited) is
// labelled with the pattern the mux would have matched.
func routeLabel(mux *http.ServeMux, r *http.Request) string {
	pattern := r.Pattern
	if pattern == "" {
		if r.Method == http.MethodOptions {
			return routePreflight
		}
		_, pattern = mux.Handler(r)
	}
	if pattern == "" {
		return routeUnmatched
	}
	if _, path, ok := strings.Cut(pattern, " "); ok {
		return path
	}
	return pattern
}

// methodLabel bounds the method label to the standard methods: a client
// can send any token as a method.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodConnect, http.MethodOptions, http.MethodTrace:
		return m
	}
	return "OTHER"
}

// withMetrics returns the metrics of opt.Metrics, or nil (off). A failed
// registration is logged and turns the metrics off: the API serves anyway.
func withMetrics(opt Options, log *slog.Logger) *httpMetrics {
	if opt.Metrics == nil {
		return nil
	}
	m, err := newHTTPMetrics(opt.Metrics)
	if err != nil {
		log.Error("register API metrics; serving without them", "err", err)
		return nil
	}
	return m
}

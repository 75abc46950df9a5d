// Package api serves the AI Horde v2-compatible HTTP API on net/http, so
// that clients and workers written for the AI Horde work against hordebot
// unchanged. It parses and validates the wire shapes, authenticates API
// keys, rate-limits per key and per client IP, and calls the scheduler
// (*horde.Horde) for everything else.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hordebot/hordebot/horde"
)

// Transferer moves kudos between members. The kudos engine implements it.
type Transferer interface {
	// Transfer moves amount kudos from the user from to the user toUserID.
	// key makes it idempotent: a retried call with the same key transfers
	// once. A rule saying no is a *kudos.Refusal; an unknown receiver is a
	// horde KindNotFound error.
	Transfer(ctx context.Context, from horde.User, toUserID int64, amount int64, key string) error
}

// Options configure the API. Zero values take the defaults.
type Options struct {
	// BaseURL is the public URL of this server (e.g. "https://horde.example.org"),
	// used for r2 upload and result image links. Empty: taken from each
	// request's Host.
	BaseURL string
	// Transfers serves /kudos/transfer; nil answers it 503.
	Transfers Transferer
	Logger    *slog.Logger
	// MaxBodyBytes caps JSON bodies (default 10 MiB); MaxUploadBytes caps the
	// raw image of an r2 PUT (default 20 MiB).
	MaxBodyBytes   int64
	MaxUploadBytes int64
	// KeyLimit limits requests per API key, IPLimit per client IP.
	KeyLimit RateLimit
	IPLimit  RateLimit
	// ClientIPHeader, when set (e.g. "X-Forwarded-For" behind a trusted
	// reverse proxy), names the header holding the client IP; its first
	// address is used. Otherwise the connection's remote address is.
	ClientIPHeader string
	Clock          horde.Clock
	// Version is reported by /status/heartbeat.
	Version string
	// Metrics, when set, receives the request metrics (see metrics.go:
	// MetricRequests, MetricRequestDuration, MetricInFlight); nil: none.
	Metrics prometheus.Registerer
}

// Defaults for Options.
const (
	DefaultMaxBodyBytes   = 10 << 20
	DefaultMaxUploadBytes = 20 << 20
)

// Prefix is the path prefix of every route.
const Prefix = "/api/v2"

// server holds the dependencies of the handlers.
type server struct {
	h       *horde.Horde
	opt     Options
	log     *slog.Logger
	clock   horde.Clock
	keyRate *limiters
	ipRate  *limiters
	metrics *httpMetrics // nil: metrics off
}

// New returns the API handler serving every route under /api/v2.
func New(h *horde.Horde, opt Options) http.Handler {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Clock == nil {
		opt.Clock = horde.SystemClock{}
	}
	if opt.MaxBodyBytes <= 0 {
		opt.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opt.MaxUploadBytes <= 0 {
		opt.MaxUploadBytes = DefaultMaxUploadBytes
	}
	opt.BaseURL = strings.TrimRight(opt.BaseURL, "/")
	s := &server{
		h:       h,
		opt:     opt,
		log:     opt.Logger,
		clock:   opt.Clock,
		keyRate: newLimiters(opt.KeyLimit, DefaultKeyLimit),
		ipRate:  newLimiters(opt.IPLimit, DefaultIPLimit),
		metrics: withMetrics(opt, opt.Logger),
	}
	return s.middleware(s.routes())
}

// routes is the one route table.
func (s *server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	handle := func(pattern string, fn func(http.ResponseWriter, *http.Request)) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.HandleFunc(method+" "+Prefix+path, fn)
	}

	handle("POST /generate/async", s.imageAsync)
	handle("GET /generate/check/{id}", s.imageCheck)
	handle("GET /generate/status/{id}", s.imageStatus)
	handle("DELETE /generate/status/{id}", s.imageCancel)
	handle("POST /generate/pop", s.imagePop)
	handle("POST /generate/submit", s.imageSubmit)

	handle("POST /generate/text/async", s.textAsync)
	handle("GET /generate/text/status/{id}", s.textStatus)
	handle("DELETE /generate/text/status/{id}", s.textCancel)
	handle("POST /generate/text/pop", s.textPop)
	handle("POST /generate/text/submit", s.textSubmit)

	handle("PUT /r2/{file}", s.r2Upload)
	handle("GET /results/{ref}", s.result)

	handle("GET /find_user", s.findUser)
	handle("GET /users/{id}", s.user)

	handle("GET /workers", s.workers)
	handle("GET /workers/{id}", s.worker)
	handle("PUT /workers/{id}", s.updateWorker)
	handle("DELETE /workers/{id}", s.deleteWorker)
	handle("GET /workers/name/{name}", s.workerByName)

	handle("POST /kudos/transfer", s.transfer)

	handle("GET /status/heartbeat", s.heartbeat)
	handle("GET /status/models", s.models)
	handle("GET /status/performance", s.performance)

	// Anything else under the prefix is a JSON 404, not the mux's text one.
	mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, horde.NotFoundf("NotFound", "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// quietRoutes are polled constantly, or are the workers' once-per-job
// submits: thousands a second on a busy horde. Their successes are logged
// at debug level; their failures as any other.
var quietRoutes = map[string]bool{
	"POST " + Prefix + "/generate/pop":             true,
	"POST " + Prefix + "/generate/text/pop":        true,
	"POST " + Prefix + "/generate/submit":          true,
	"POST " + Prefix + "/generate/text/submit":     true,
	"GET " + Prefix + "/generate/check/{id}":       true,
	"GET " + Prefix + "/generate/text/status/{id}": true,
	"GET " + Prefix + "/status/heartbeat":          true,
}

// middleware wraps every route: panic recovery, CORS, rate limits, a log
// line and the request metrics.
func (s *server) middleware(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		if s.metrics != nil {
			s.metrics.inFlight.Inc()
			defer s.metrics.inFlight.Dec()
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.log.ErrorContext(r.Context(), "panic in handler", "method", r.Method, "path", r.URL.Path,
					"panic", p, "stack", string(debug.Stack()))
				if !rec.wroteHeader {
					writeJSON(rec, s.log, http.StatusInternalServerError,
						errorBody{Message: horde.MessageOf(errors.New("panic")), RC: "InternalServerError"})
				}
			}
			took := time.Since(start)
			s.logRequest(r, rec, took)
			if s.metrics != nil {
				s.metrics.observe(routeLabel(mux, r), r.Method, rec.statusCode(), took)
			}
		}()

		h := rec.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		if r.Method == http.MethodOptions {
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, DELETE, OPTIONS")
			// X-Fields: AI Horde clients (the npm package @zeldafan0225/ai_horde)
			// send it to ask for a subset of fields; the full answer is a superset.
			h.Set("Access-Control-Allow-Headers", "apikey, Client-Agent, Content-Type, Idempotency-Key, X-Fields")
			h.Set("Access-Control-Max-Age", "86400")
			rec.WriteHeader(http.StatusNoContent)
			return
		}
		if !s.allow(rec, r) {
			return
		}
		mux.ServeHTTP(rec, r)
	})
}

// allow applies the per-IP and per-key rate limits, answering 429 with
// Retry-After when one is exhausted.
func (s *server) allow(w http.ResponseWriter, r *http.Request) bool {
	now := s.clock.Now()
	ok, wait := s.ipRate.allow(s.clientIP(r), now)
	if ok {
		// The anonymous key is shared by everyone; the IP limit covers it.
		if key := r.Header.Get("apikey"); key != "" && key != horde.AnonymousKey {
			ok, wait = s.keyRate.allow(horde.HashKey(key), now)
		}
	}
	if ok {
		return true
	}
	secs := retryAfterSeconds(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	s.writeError(w, r, horde.Errorf(horde.KindRateLimited, "TooManyRequests",
		"too many requests; retry in %d s", secs))
	return false
}

// clientIP is the address rate limits and logs use.
func (s *server) clientIP(r *http.Request) string {
	if s.opt.ClientIPHeader != "" {
		if v := r.Header.Get(s.opt.ClientIPHeader); v != "" {
			first, _, _ := strings.Cut(v, ",")
			if ip := strings.TrimSpace(first); ip != "" {
				return ip
			}
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *server) logRequest(r *http.Request, rec *statusRecorder, took time.Duration) {
	status := rec.statusCode()
	level := slog.LevelInfo
	switch {
	case status >= 500:
		level = slog.LevelError
	case status < 400 && quietRoutes[r.Pattern]:
		level = slog.LevelDebug
	}
	if !s.log.Enabled(r.Context(), level) {
		return // the common case for pops and submits: skip building the line
	}
	route := r.Pattern
	if route == "" {
		route = r.URL.Path
	}
	s.log.Log(r.Context(), level, "http request", "method", r.Method, "route", route, "status", status,
		"bytes", rec.bytes, "took", took, "ip", s.clientIP(r), "agent", clientAgent(r))
}

// statusRecorder remembers the status and size of a response for the log line.
type statusRecorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

// statusCode is the status answered: 200 when the handler wrote nothing.
func (w *statusRecorder) statusCode() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader = true
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writeJSON answers v as JSON with the given status.
func writeJSON(w http.ResponseWriter, log *slog.Logger, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		log.Error("encode response", "err", err)
		status = http.StatusInternalServerError
		data = []byte(`{"message":"internal error; it has been logged","rc":"InternalServerError"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

// ok answers v as JSON with status 200.
func (s *server) ok(w http.ResponseWriter, v any) { writeJSON(w, s.log, http.StatusOK, v) }

// clientAgent is the AI Horde's Client-Agent header, "name:version:contact".
func clientAgent(r *http.Request) string {
	a := r.Header.Get("Client-Agent")
	if a == "" {
		a = r.Header.Get("User-Agent")
	}
	if len(a) > 200 {
		a = a[:200]
	}
	return a
}

// apiKey is the request's API key; none is the anonymous key, as on the AI Horde.
func apiKey(r *http.Request) string {
	if k := strings.TrimSpace(r.Header.Get("apikey")); k != "" {
		return k
	}
	return horde.AnonymousKey
}

// authenticate resolves the request's API key.
func (s *server) authenticate(r *http.Request) (horde.Credential, error) {
	c, err := s.h.Authenticate(r.Context(), apiKey(r))
	if err != nil {
		return horde.Credential{}, err
	}
	return c, nil
}

// requestUser authenticates a user acting as themself: worker keys, which
// may only act as their worker, are refused.
func (s *server) requestUser(r *http.Request) (horde.User, error) {
	c, err := s.authenticate(r)
	if err != nil {
		return horde.User{}, err
	}
	if c.WorkerID != "" {
		return horde.User{}, horde.Errorf(horde.KindForbidden, "WrongCredentials", "a worker key can only pop and submit jobs for its worker")
	}
	return c.User, nil
}

// baseURL is the public URL of this server as seen by the request.
func (s *server) baseURL(r *http.Request) string {
	if s.opt.BaseURL != "" {
		return s.opt.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// decodeBody reads and decodes a JSON body into v, returning the unknown-field warnings.
func (s *server) decodeBody(w http.ResponseWriter, r *http.Request, v any) ([]string, error) {
	data, err := readBody(w, r, s.opt.MaxBodyBytes)
	if err != nil {
		return nil, err
	}
	return decodeJSON(data, v)
}

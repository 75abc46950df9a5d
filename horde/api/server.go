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
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// Transferer moves kudos between members. The kudos engine implements it.
type Transferer interface {
	// Transfer moves amount kudos from the user from to the user toUserID.
	// key makes it idempotent: a retried call with the same key transfers
	// once. A rule saying no is a refusal (kudos.Refuse, an error of its
	// kind whose code is the rc); an unknown receiver is a
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
	// Awards serves /kudos/award (moderators); nil answers it 403 AwardsDisabled.
	Awards Awarder
	// IPTimeouts serves /operations/ipaddr and refuses addresses in
	// timeout on every other route; nil: no timeouts.
	IPTimeouts *horde.IPTimeouts
	// Filter is the prompt filter POST /filters checks prompts with, and
	// FilterLists its lists as GET /filters shows them; nil: none.
	Filter      horde.PromptFilter
	FilterLists []FilterList
	// Ratings serves /generate/rate/{id}; nil answers it 403 FeatureDisabled.
	Ratings *horde.Ratings
	// SharedKeys serves /sharedkeys and lets generation requests be made
	// with a shared key; nil answers /sharedkeys 403 FeatureDisabled.
	SharedKeys *horde.SharedKeys
	// Teams serves /teams and the team of PUT /workers/{id}; nil answers
	// /teams 403 FeatureDisabled and any team but "" 404 TeamNotFound.
	Teams *horde.Teams
	// Modes are the horde's modes (GET and PUT /status/modes); in
	// maintenance, new generation requests are 503 MaintenanceMode. nil:
	// all off, and PUT /status/modes 403 FeatureDisabled.
	Modes  *horde.Modes
	Logger *slog.Logger
	// MaxBodyBytes caps the JSON body of an image request, the largest a
	// client sends (a base64 source image; default 10 MiB); every other
	// route has a smaller cap sized to its largest valid body (bodyLimits),
	// never above this one except an inline image submit. MaxUploadBytes
	// caps the raw image of an r2 PUT (default 20 MiB).
	MaxBodyBytes   int64
	MaxUploadBytes int64
	// BodyBudgetBytes bounds the bytes of large bodies (over 256 KiB) read
	// and decoded at once; others wait their turn (default 12 MiB).
	BodyBudgetBytes int64
	// Timeouts sets how long each route may take to read its body and to
	// write its answer; zero fields take the defaults (see Timeouts).
	Timeouts Timeouts
	// KeyLimit limits requests per API key, IPLimit per client IP.
	KeyLimit RateLimit
	IPLimit  RateLimit
	// ClientIPHeader, when set (e.g. "X-Real-IP" or "X-Forwarded-For"
	// behind a trusted reverse proxy), names the header holding the client
	// IP; its last address is used: the one the nearest proxy wrote (a
	// proxy appends to X-Forwarded-For what the client sent, which the
	// client chooses). Otherwise the connection's remote address is.
	ClientIPHeader string
	Clock          horde.Clock
	// Version is reported by /status/heartbeat.
	Version string
	// News is what /status/news answers, newest first; nil: an empty list.
	News []aihorde.Newspiece
	// Models is the model reference: requirement warnings on image
	// requests, hires_fix limits, /status/models?model_state. nil knows no
	// model (every model is "custom").
	Models *horde.ModelReference
	// Styles holds the image and text styles and their collections
	// (/styles, /collections, a request's "style"); nil answers those
	// routes 403 StylesDisabled and a request naming a style 404.
	Styles horde.StyleStore
	// Previews takes the workers' live previews and serves them (hordebot's
	// extension, previews.go); nil answers both routes 404, as a horde
	// without them does.
	Previews *horde.Previews
	// SourceURLs says what an alchemy request's source_image URL may be:
	// "" or SourceURLsPublic fetches public addresses (source_image.go),
	// SourceURLsOff refuses every URL but this server's own result links.
	// SourceAddrAllowed, if set, replaces the public-address rule of the
	// fetch (tests; a horde on a private network).
	SourceURLs        string
	SourceAddrAllowed func(netip.Addr) bool
	// Metrics, when set, receives the request metrics (see metrics.go:
	// MetricRequests, MetricRequestDuration, MetricInFlight); nil: none.
	Metrics prometheus.Registerer
}

// The Options.SourceURLs policies.
const (
	SourceURLsPublic = "public"
	SourceURLsOff    = "off"
)

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
	bodies  *bodyBudget
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
	opt.Timeouts = opt.Timeouts.withDefaults()
	s := &server{
		h:       h,
		opt:     opt,
		log:     opt.Logger,
		clock:   opt.Clock,
		keyRate: newLimiters(opt.KeyLimit, DefaultKeyLimit),
		ipRate:  newLimiters(opt.IPLimit, DefaultIPLimit),
		bodies:  newBodyBudget(opt.BodyBudgetBytes),
		metrics: withMetrics(opt, opt.Logger),
	}
	return s.middleware(s.routes())
}

// routes is the one route table. Each route names its class: how long its
// body may take to arrive and its answer to leave (routeClass). A known path
// asked with another method is 405 JSON with Allow; an unknown path is 404
// JSON.
func (s *server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	allowed := map[string][]string{} // path pattern -> its methods
	var paths []string
	handle := func(pattern string, class routeClass, fn func(http.ResponseWriter, *http.Request)) {
		method, path, _ := strings.Cut(pattern, " ")
		path = Prefix + path
		read, write := s.opt.Timeouts.of(class)
		mux.HandleFunc(method+" "+path, func(w http.ResponseWriter, r *http.Request) {
			rc := http.NewResponseController(w)
			now := time.Now()
			// The http.Server's own timeouts are the short ones; routes that
			// take large bodies or send large answers get theirs here.
			_ = rc.SetReadDeadline(now.Add(read))
			_ = rc.SetWriteDeadline(now.Add(write))
			fn(w, r)
		})
		if _, ok := allowed[path]; !ok {
			paths = append(paths, path)
		}
		allowed[path] = append(allowed[path], method)
		if method == http.MethodGet {
			allowed[path] = append(allowed[path], http.MethodHead)
		}
	}

	handle("POST /generate/async", classLargeBody, s.unlessMaintenance(s.imageAsync))
	handle("GET /generate/check/{id}", classDefault, s.imageCheck)
	handle("GET /generate/status/{id}", classLargeAnswer, s.imageStatus)
	handle("DELETE /generate/status/{id}", classLargeAnswer, s.imageCancel)
	handle("POST /generate/pop", classDefault, s.imagePop)
	handle("POST /generate/submit", classLargeBody, s.imageSubmit)
	handle("POST /generate/rate/{id}", classDefault, s.rate)
	// hordebot's live previews (previews.go); not AI Horde routes.
	handle("PUT /generate/preview/{id}", classDefault, s.previewPut)
	handle("GET /generate/status/{id}/preview", classDefault, s.previewGet)

	handle("POST /generate/text/async", classDefault, s.unlessMaintenance(s.textAsync))
	handle("GET /generate/text/status/{id}", classDefault, s.textStatus)
	handle("DELETE /generate/text/status/{id}", classDefault, s.textCancel)
	handle("POST /generate/text/pop", classDefault, s.textPop)
	handle("POST /generate/text/submit", classDefault, s.textSubmit)

	handle("POST /interrogate/async", classLargeBody, s.unlessMaintenance(s.interrogateAsync))
	handle("GET /interrogate/status/{id}", classDefault, s.interrogateStatus)
	handle("DELETE /interrogate/status/{id}", classDefault, s.interrogateCancel)
	handle("POST /interrogate/pop", classDefault, s.interrogatePop)
	handle("POST /interrogate/submit", classLargeBody, s.interrogateSubmit)
	handle("PUT /r2/alchemy/{file}", classUpload, s.r2AlchemyUpload)

	handle("PUT /r2/{file}", classUpload, s.r2Upload)
	handle("GET /results/{ref}", classLargeAnswer, s.result)

	handle("PUT /sharedkeys", classDefault, s.createSharedKey)
	handle("POST /sharedkeys", classDefault, s.createSharedKey)
	handle("GET /sharedkeys/{id}", classDefault, s.sharedKey)
	handle("PATCH /sharedkeys/{id}", classDefault, s.updateSharedKey)
	handle("DELETE /sharedkeys/{id}", classDefault, s.deleteSharedKey)

	handle("GET /find_user", classDefault, s.findUser)
	handle("GET /users", classLargeAnswer, s.users)
	handle("GET /users/{id}", classDefault, s.user)
	handle("PUT /users/{id}", classDefault, s.updateUser)

	handle("GET /teams", classLargeAnswer, s.listTeams)
	handle("POST /teams", classDefault, s.createTeam)
	handle("GET /teams/{id}", classDefault, s.team)
	handle("PATCH /teams/{id}", classDefault, s.updateTeam)
	handle("DELETE /teams/{id}", classDefault, s.deleteTeam)

	handle("GET /workers", classLargeAnswer, s.workers)
	handle("GET /workers/{id}", classDefault, s.worker)
	handle("PUT /workers/{id}", classDefault, s.updateWorker)
	handle("DELETE /workers/{id}", classDefault, s.deleteWorker)
	handle("GET /workers/name/{name}", classDefault, s.workerByName)
	handle("GET /workers/messages", classLargeAnswer, s.workerMessages)
	handle("POST /workers/messages", classDefault, s.postWorkerMessage)
	handle("GET /workers/messages/{id}", classDefault, s.workerMessage)
	handle("DELETE /workers/messages/{id}", classDefault, s.deleteWorkerMessage)

	handle("POST /kudos/transfer", classDefault, s.transfer)
	handle("POST /kudos/award", classDefault, s.kudosAward)

	handle("GET /operations/ipaddr", classDefault, s.listIPTimeouts)
	handle("POST /operations/ipaddr", classDefault, s.addIPTimeout)
	handle("DELETE /operations/ipaddr", classDefault, s.deleteIPTimeout)
	handle("GET /operations/ipaddr/{ipaddr}", classDefault, s.ipTimeout)
	handle("GET /filters", classLargeAnswer, s.filters)
	handle("POST /filters", classDefault, s.checkFilter)
	handle("PUT /filters", classDefault, s.filtersInConfig("GET, POST"))
	handle("GET /filters/regex", classLargeAnswer, s.filterRegex)
	handle("GET /filters/{id}", classDefault, s.filter)
	handle("PATCH /filters/{id}", classDefault, s.filtersInConfig("GET"))
	handle("DELETE /filters/{id}", classDefault, s.filtersInConfig("GET"))

	handle("GET /styles/image", classDefault, s.listStyles(horde.KindImage))
	handle("POST /styles/image", classDefault, s.createStyle(horde.KindImage))
	handle("GET /styles/image/{id}", classDefault, s.getStyle(horde.KindImage))
	handle("PATCH /styles/image/{id}", classDefault, s.patchStyle(horde.KindImage))
	handle("DELETE /styles/image/{id}", classDefault, s.deleteStyle(horde.KindImage))
	handle("GET /styles/image_by_name/{name}", classDefault, s.getStyleByName(horde.KindImage))
	handle("POST /styles/image/{id}/example", classDefault, s.addStyleExample)
	handle("PATCH /styles/image/{id}/example/{example}", classDefault, s.patchStyleExample)
	handle("DELETE /styles/image/{id}/example/{example}", classDefault, s.deleteStyleExample)
	handle("GET /styles/text", classDefault, s.listStyles(horde.KindText))
	handle("POST /styles/text", classDefault, s.createStyle(horde.KindText))
	handle("GET /styles/text/{id}", classDefault, s.getStyle(horde.KindText))
	handle("PATCH /styles/text/{id}", classDefault, s.patchStyle(horde.KindText))
	handle("DELETE /styles/text/{id}", classDefault, s.deleteStyle(horde.KindText))
	handle("GET /styles/text_by_name/{name}", classDefault, s.getStyleByName(horde.KindText))
	handle("GET /collections", classDefault, s.listCollections)
	handle("POST /collections", classDefault, s.createCollection)
	handle("GET /collections/{id}", classDefault, s.getCollection)
	handle("PATCH /collections/{id}", classDefault, s.patchCollection)
	handle("DELETE /collections/{id}", classDefault, s.deleteCollection)
	handle("GET /collection_by_name/{name}", classDefault, s.getCollectionByName)

	handle("GET /status/heartbeat", classDefault, s.heartbeat)
	handle("GET /status/models", classDefault, s.models)
	handle("GET /status/models/{name...}", classDefault, s.model)
	handle("GET /status/performance", classDefault, s.performance)
	handle("GET /status/modes", classDefault, s.modes)
	handle("PUT /status/modes", classDefault, s.setModes)
	handle("GET /status/news", classDefault, s.news)

	handle("GET /stats/img/totals", classDefault, s.imageTotals)
	handle("GET /stats/img/models", classLargeAnswer, s.imageModels)
	handle("GET /stats/text/totals", classDefault, s.textTotals)
	handle("GET /stats/text/models", classLargeAnswer, s.textModels)

	// A method-less mux of the same paths tells which path a request with
	// the wrong method meant, for its 405 and Allow header.
	byPath := http.NewServeMux()
	for _, p := range paths {
		byPath.HandleFunc(p, func(http.ResponseWriter, *http.Request) {})
	}
	// Anything else under the prefix is JSON, not the mux's text 404 or
	// 405. A method-less pattern is less specific than a method one for the
	// same path, so the routes above win whenever the method matches.
	mux.HandleFunc(Prefix+"/", func(w http.ResponseWriter, r *http.Request) {
		if _, p := byPath.Handler(r); p != "" {
			methods := allowed[p]
			w.Header().Set("Allow", strings.Join(methods, ", "))
			writeJSON(w, s.log, http.StatusMethodNotAllowed, errorBody{
				Message: fmt.Sprintf("%s is not allowed here; use %s", horde.QuoteInput(r.Method), strings.Join(methods, " or ")),
				RC:      "MethodNotAllowed",
			})
			return
		}
		s.writeError(w, r, horde.NotFoundf("NotFound", "no such endpoint: %s %s", horde.QuoteInput(r.Method), horde.QuoteInput(r.URL.Path)))
	})
	return mux
}

// quietRoutes are polled constantly, or are the workers' once-per-job
// submits: thousands a second on a busy horde. Their successes are logged
// at debug level; their failures as any other.
var quietRoutes = map[string]bool{
	"POST " + Prefix + "/generate/pop":                true,
	"POST " + Prefix + "/generate/text/pop":           true,
	"POST " + Prefix + "/generate/submit":             true,
	"POST " + Prefix + "/generate/text/submit":        true,
	"GET " + Prefix + "/generate/check/{id}":          true,
	"GET " + Prefix + "/generate/text/status/{id}":    true,
	"GET " + Prefix + "/status/heartbeat":             true,
	"PUT " + Prefix + "/generate/preview/{id}":        true,
	"GET " + Prefix + "/generate/status/{id}/preview": true,
	"POST " + Prefix + "/interrogate/pop":             true,
	"POST " + Prefix + "/interrogate/submit":          true,
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
			h.Set("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS")
			// X-Fields: AI Horde clients (the npm package @zeldafan0225/ai_horde)
			// send it to ask for a subset of fields; the full answer is a superset.
			h.Set("Access-Control-Allow-Headers", "apikey, Client-Agent, Content-Type, Idempotency-Key, X-Fields")
			h.Set("Access-Control-Max-Age", "86400")
			rec.WriteHeader(http.StatusNoContent)
			return
		}
		if !s.allowIP(rec, r) || !s.allow(rec, r) {
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
		// The key as authentication reads it (apiKey: trimmed), so that
		// "key", "key " and "key\u00a0" share one bucket. The anonymous key
		// is shared by everyone; the IP limit covers it.
		if key := apiKey(r); key != horde.AnonymousKey {
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
			if ip := strings.TrimSpace(v[strings.LastIndexByte(v, ',')+1:]); ip != "" {
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
	var data []byte
	var err error
	if m, ok := v.(json.Marshaler); ok {
		// The wire types' MarshalJSON (the pop answers) end in json.Marshal:
		// their output is compact and escaped, and json.Marshal would only
		// scan and copy it again.
		data, err = m.MarshalJSON()
	} else {
		data, err = json.Marshal(v)
	}
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

// decodeBody reads (at most limit bytes) and decodes a JSON body into v,
// returning the unknown-field warnings.
func (s *server) decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) ([]string, error) {
	data, err := s.readBody(w, r, limit)
	if err != nil {
		return nil, err
	}
	return decodeJSON(data, v)
}

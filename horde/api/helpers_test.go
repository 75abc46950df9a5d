package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/imagecheck"
	"github.com/hordebot/hordebot/horde/worker"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// newFakeClock is a settable clock, shared by the store, the horde and the
// API, at the tests' start time.
func newFakeClock() *storetest.Clock {
	return storetest.NewClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
}

// env is one API server on 127.0.0.1 over a real horde and a real SQLite
// store in a temp dir.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	h     *horde.Horde
	st    *store.Store
	clock *storetest.Clock
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// unlimited turns the rate limits off, for tests not about them.
var unlimited = api.RateLimit{Rate: rate.Inf}

// newEnv starts a server. Rate limits are off unless opt sets them.
func newEnv(t testing.TB, opt api.Options) *env {
	t.Helper()
	clk := newFakeClock()
	return newEnvOn(t, storetest.MustOpen(t, t.TempDir(), clk), clk, opt)
}

// newEnvOn starts a server over st, whose clock is clk.
func newEnvOn(t testing.TB, st *store.Store, clk *storetest.Clock, opt api.Options) *env {
	t.Helper()
	ctx := context.Background()
	h, err := horde.New(ctx, st, horde.Config{Clock: clk, Logger: quietLogger(), CheckImage: imagecheck.ForHorde, Queue: st.SharedQueue()})
	if err != nil {
		t.Fatalf("new horde: %v", err)
	}
	if opt.Logger == nil {
		opt.Logger = quietLogger()
	}
	if opt.KeyLimit == (api.RateLimit{}) {
		opt.KeyLimit = unlimited
	}
	if opt.IPLimit == (api.RateLimit{}) {
		opt.IPLimit = unlimited
	}
	opt.Clock = clk
	srv := httptest.NewServer(api.New(h, opt))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, h: h, st: st, clock: clk}
}

// user creates an API user and returns it with its key.
func (e *env) user(name string) (horde.User, string) {
	e.t.Helper()
	u, key, err := e.h.CreateUser(context.Background(), name)
	if err != nil {
		e.t.Fatalf("create user %s: %v", name, err)
	}
	return u, key
}

// response is what a test sees of an HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into v, failing the test if it is not JSON.
func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response %d is not JSON (%v): %s", r.status, err, r.body)
	}
}

// object decodes the body as a JSON object.
func (r response) object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.json(t, &m)
	return m
}

// do sends a request. body may be nil, a string or []byte (sent raw), or
// anything else (sent as JSON). key, when not empty, is the apikey header.
func (e *env) do(method, path, key string, body any, headers ...string) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			e.t.Fatalf("marshal body: %v", err)
		}
		rd = bytes.NewReader(data)
	}
	url := path
	if strings.HasPrefix(path, "/") {
		url = e.srv.URL + path
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatalf("new request: %v", err)
	}
	if key != "" {
		req.Header.Set("apikey", key)
	}
	req.Header.Set("Client-Agent", "hordebot-test:1:test")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("read %s %s: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: data}
}

// wantStatus fails the test unless r has the status.
func wantStatus(t testing.TB, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.status, status, r.body)
	}
}

// wantError checks an error answer: status, JSON shape and, when not
// empty, that the message mentions field.
func wantError(t testing.TB, r response, status int, field string) map[string]any {
	t.Helper()
	wantStatus(t, r, status)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	m := r.object(t)
	msg, _ := m["message"].(string)
	rc, _ := m["rc"].(string)
	if msg == "" || rc == "" {
		t.Errorf("error body lacks message or rc: %s", r.body)
	}
	if field != "" && !strings.Contains(msg, field) {
		t.Errorf("message %q does not name %q", msg, field)
	}
	return m
}

// resultWebP is a valid 512x512 WebP: the size of imageRequest's jobs.
var resultWebP = func() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 512, 512))
	for i := range img.Pix {
		img.Pix[i] = uint8(i / 7)
	}
	data, err := worker.EncodeWebP(img)
	if err != nil {
		panic(err)
	}
	return data
}()

func mustBase64(s string) []byte {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// pngImage is a 512x512 PNG (the size of imageRequest's jobs) whose pixels
// depend on seed, so that two results differ.
func pngImage(t testing.TB, seed uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 512, 512))
	for i := range img.Pix {
		img.Pix[i] = seed + uint8(i)
	}
	img.Set(0, 0, color.RGBA{R: seed, A: 255})
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatalf("encode png: %v", err)
	}
	return buf.Bytes()
}

// imageRequest is a small valid image request body.
func imageRequest(extra map[string]any) map[string]any {
	body := map[string]any{
		"prompt": "a lighthouse at dusk ### blurry",
		"params": map[string]any{"steps": 20, "width": 512, "height": 512, "n": 1, "sampler_name": "k_euler"},
	}
	for k, v := range extra {
		body[k] = v
	}
	return body
}

// imagePop is a worker's pop body.
func imagePop(name string, extra map[string]any) map[string]any {
	body := map[string]any{
		"name": name, "models": []string{"stable_diffusion"}, "max_pixels": 1024 * 1024,
		"nsfw": false, "threads": 1, "amount": 1, "bridge_agent": "AI Horde Worker reGen:9:https://example.org",
	}
	for k, v := range extra {
		body[k] = v
	}
	return body
}

// asyncImage queues an image request and returns its id.
func (e *env) asyncImage(key string, extra map[string]any) string {
	e.t.Helper()
	r := e.do("POST", "/api/v2/generate/async", key, imageRequest(extra))
	wantStatus(e.t, r, http.StatusAccepted)
	var out struct{ ID string }
	r.json(e.t, &out)
	if out.ID == "" {
		e.t.Fatalf("async answered no id: %s", r.body)
	}
	return out.ID
}

// popImage pops one image job for worker name and returns the decoded answer.
func (e *env) popImage(key, name string) map[string]any {
	e.t.Helper()
	r := e.do("POST", "/api/v2/generate/pop", key, imagePop(name, nil))
	wantStatus(e.t, r, http.StatusOK)
	return r.object(e.t)
}

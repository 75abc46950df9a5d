package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// bigPrompt is the longest prompt the API takes; storing it needs new
// database pages, so it cannot fit in a database at its quota.
var bigPrompt = strings.Repeat("a lighthouse at dusk, ", aihorde.MaxPromptLength/len("a lighthouse at dusk, "))

// openEnvIn starts a server over the store in dir with a database quota
// (0: none); stop closes the server and the store.
func openEnvIn(t testing.TB, dir string, maxDBBytes int64) (e *env, stop func()) {
	t.Helper()
	if maxDBBytes > 0 {
		storetest.SkipOnPostgres(t, "the data quota")
	}
	ctx := context.Background()
	clk := newFakeClock()
	st, err := store.Open(ctx, storetest.Database(t, dir), store.Options{Clock: clk, Logger: quietLogger(), MaxDBBytes: maxDBBytes, MaxConns: storetest.TestMaxConns})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	h, err := horde.New(ctx, st, horde.Config{Clock: clk, Logger: quietLogger()})
	if err != nil {
		_ = st.Close()
		t.Fatalf("new horde: %v", err)
	}
	srv := httptest.NewServer(api.New(h, api.Options{Logger: quietLogger(), Clock: clk, KeyLimit: unlimited, IPLimit: unlimited}))
	var stopped bool
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		srv.Close()
		if err := st.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	}
	t.Cleanup(stop)
	return &env{t: t, srv: srv, h: h, st: st, clock: clk}, stop
}

// TestFullStoreAnswers503AndQueuesNothing: with the database at its quota,
// POST /generate/async answers 503 with the AI Horde error body and a
// Retry-After, and nothing is queued (a worker's pop finds nothing); once
// the quota is lifted the store holds no trace of the refused request and
// the same request goes through.
func TestFullStoreAnswers503AndQueuesNothing(t *testing.T) {
	dir := t.TempDir()
	e, stop := openEnvIn(t, dir, 0)
	_, key := e.user("alice")
	e.popImage(key, "gpu-1") // the worker exists: requests are possible
	stop()

	e, stop = openEnvIn(t, dir, 1) // the database cannot grow
	r := e.do("POST", "/api/v2/generate/async", key, imageRequest(map[string]any{"prompt": bigPrompt}))
	body := wantError(t, r, http.StatusServiceUnavailable, "")
	if body["rc"] != "StoreUnavailable" {
		t.Errorf("rc = %v, want StoreUnavailable", body["rc"])
	}
	if msg, _ := body["message"].(string); strings.Contains(msg, "SQLITE") || strings.Contains(msg, "database or disk") {
		t.Errorf("the message leaks the database error: %q", msg)
	}
	if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 {
		t.Errorf("Retry-After = %q, want a number of seconds", r.header.Get("Retry-After"))
	}
	pop := e.popImage(key, "gpu-1")
	if pop["id"] != nil || len(pop["ids"].([]any)) != 0 {
		t.Fatalf("a worker popped %v after the request was refused", pop["ids"])
	}
	perf, err := e.h.Performance(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if perf.QueuedRequests != 0 {
		t.Fatalf("%d requests queued in memory after a refused submit", perf.QueuedRequests)
	}
	stop()

	// The admin lifts the quota: nothing of the refused request is left.
	e, _ = openEnvIn(t, dir, 0)
	snap, err := e.st.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Requests) != 0 {
		t.Fatalf("%d open requests after the refused submit, want 0", len(snap.Requests))
	}
	id := e.asyncImage(key, map[string]any{"prompt": bigPrompt})
	pop = e.popImage(key, "gpu-1")
	if ids, _ := pop["ids"].([]any); len(ids) != 1 {
		t.Fatalf("pop after the quota was lifted = %v, want the new request %s", pop["ids"], id)
	}
	if m, err := e.st.Verify(context.Background()); err != nil || len(m) != 0 {
		t.Fatalf("ledger verify: %v %v", m, err)
	}
}

package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/hordebot/hordebot/horde/api"
)

func TestRateLimitPerIP(t *testing.T) {
	e := newEnv(t, api.Options{IPLimit: api.RateLimit{Rate: rate.Every(time.Minute), Burst: 2}})
	for range 2 {
		wantStatus(t, e.do("GET", "/api/v2/status/heartbeat", "", nil), http.StatusOK)
	}
	r := e.do("GET", "/api/v2/status/heartbeat", "", nil)
	m := wantError(t, r, http.StatusTooManyRequests, "")
	if m["rc"] != "TooManyRequests" {
		t.Errorf("rc = %v", m["rc"])
	}
	secs, err := strconv.Atoi(r.header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > 60 {
		t.Errorf("Retry-After = %q, want 1..60 seconds", r.header.Get("Retry-After"))
	}
	e.clock.Advance(time.Minute)
	wantStatus(t, e.do("GET", "/api/v2/status/heartbeat", "", nil), http.StatusOK)
}

func TestRateLimitPerKey(t *testing.T) {
	e := newEnv(t, api.Options{KeyLimit: api.RateLimit{Rate: rate.Every(time.Hour), Burst: 1}})
	_, a := e.user("a")
	_, b := e.user("b")
	wantStatus(t, e.do("GET", "/api/v2/find_user", a, nil), http.StatusOK)
	r := e.do("GET", "/api/v2/find_user", a, nil)
	wantError(t, r, http.StatusTooManyRequests, "")
	if r.header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	wantStatus(t, e.do("GET", "/api/v2/find_user", b, nil), http.StatusOK)
	// The shared anonymous key is limited per IP only.
	for range 3 {
		wantStatus(t, e.do("GET", "/api/v2/find_user", "0000000000", nil), http.StatusOK)
	}
}

func TestPanicIsA500(t *testing.T) {
	// A nil horde makes every handler that reaches it panic.
	srv := httptest.NewServer(api.New(nil, api.Options{Logger: quietLogger(), KeyLimit: unlimited, IPLimit: unlimited}))
	defer srv.Close()
	for range 2 { // the server survives the first panic
		res, err := http.Get(srv.URL + "/api/v2/generate/check/some-id")
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		r := response{status: res.StatusCode, header: res.Header, body: body}
		m := wantError(t, r, http.StatusInternalServerError, "")
		if m["rc"] != "InternalServerError" {
			t.Errorf("rc = %v", m["rc"])
		}
	}
}

func TestRoutingAndCORS(t *testing.T) {
	e := newEnv(t, api.Options{})
	t.Run("unknown endpoint is a JSON 404", func(t *testing.T) {
		wantError(t, e.do("GET", "/api/v2/no/such/thing", "", nil), http.StatusNotFound, "")
	})
	t.Run("wrong method is a JSON error", func(t *testing.T) {
		r := e.do("GET", "/api/v2/generate/async", "", nil)
		if r.status < 400 {
			t.Fatalf("GET async = %d", r.status)
		}
		wantError(t, r, r.status, "")
	})
	t.Run("preflight", func(t *testing.T) {
		r := e.do("OPTIONS", "/api/v2/generate/async", "", nil, "Origin", "https://app.example.org", "Access-Control-Request-Method", "POST")
		wantStatus(t, r, http.StatusNoContent)
		if r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Access-Control-Allow-Headers") == "" {
			t.Errorf("CORS headers = %v", r.header)
		}
	})
	t.Run("preflight allows every header the npm client sends", func(t *testing.T) {
		// @zeldafan0225/ai_horde sends these (X-Fields when a call names fields);
		// a browser refuses the call if the preflight does not allow one.
		r := e.do("OPTIONS", "/api/v2/find_user", "", nil, "Origin", "https://app.example.org",
			"Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "apikey,client-agent,content-type,x-fields")
		wantStatus(t, r, http.StatusNoContent)
		allowed := map[string]bool{}
		for _, h := range strings.Split(r.header.Get("Access-Control-Allow-Headers"), ",") {
			allowed[strings.ToLower(strings.TrimSpace(h))] = true
		}
		for _, h := range []string{"apikey", "client-agent", "content-type", "x-fields"} {
			if !allowed[h] {
				t.Errorf("preflight does not allow header %s: %q", h, r.header.Get("Access-Control-Allow-Headers"))
			}
		}
	})
	t.Run("base URL option is used for links", func(t *testing.T) {
		e2 := newEnv(t, api.Options{BaseURL: "https://horde.example.org/"})
		_, key := e2.user("owner")
		e2.asyncImage("", nil)
		up, _ := e2.popImage(key, "gpu-1")["r2_upload"].(string)
		if want := "https://horde.example.org/api/v2/r2/"; len(up) < len(want) || up[:len(want)] != want {
			t.Errorf("r2_upload = %q, want prefix %s", up, want)
		}
	})
}

func TestRateLimitByForwardedIP(t *testing.T) {
	e := newEnv(t, api.Options{
		ClientIPHeader: "X-Forwarded-For",
		IPLimit:        api.RateLimit{Rate: rate.Every(time.Hour), Burst: 1},
	})
	// What a client sends in the header comes first; the proxy appends the
	// address it saw, which is the one that counts.
	forged := 0
	get := func(ip string) response {
		forged++
		return e.do("GET", "/api/v2/status/heartbeat", "", nil, "X-Forwarded-For", "10.9."+strconv.Itoa(forged%256)+".9, "+ip)
	}
	wantStatus(t, get("192.0.2.1"), http.StatusOK)
	wantError(t, get("192.0.2.1"), http.StatusTooManyRequests, "") // another forged first address changes nothing
	// Enough other clients to trigger sweeps of the limiter table: a sweep
	// must not forget a client that is still throttled.
	for i := range 1100 {
		wantStatus(t, get("198.51."+strconv.Itoa(i/256)+"."+strconv.Itoa(i%256)), http.StatusOK)
	}
	wantError(t, get("192.0.2.1"), http.StatusTooManyRequests, "")
	e.clock.Advance(time.Hour)
	wantStatus(t, get("192.0.2.1"), http.StatusOK)
}

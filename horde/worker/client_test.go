package worker

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
)

func fastRetry() RetryPolicy {
	return RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}
}

func newTestClient(t *testing.T, base string) *Client {
	t.Helper()
	c, err := NewClient(ClientConfig{BaseURL: base, APIKey: "k", Contact: "ops@example.org", Retry: fastRetry(), Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientBaseURLAndHeaders(t *testing.T) {
	tests := []struct {
		name   string
		suffix string
	}{
		{"root", ""},
		{"root with slash", "/"},
		{"already /api/v2", "/api/v2"},
		{"/api/v2 with slash", "/api/v2/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotPath, gotKey, gotAgent, gotCT string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				gotPath, gotKey, gotAgent, gotCT = r.URL.Path, r.Header.Get("apikey"), r.Header.Get("Client-Agent"), r.Header.Get("Content-Type")
				_, _ = w.Write([]byte(`{"id":null,"ids":[],"payload":{},"skipped":{"models":2}}`))
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL+tt.suffix)
			resp, err := c.PopImage(context.Background(), aihorde.ImagePopRequest{PopCommon: aihorde.PopCommon{Name: "w"}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.ID != nil || len(resp.JobIDs()) != 0 {
				t.Fatalf("no-job answer gave ids %v", resp.JobIDs())
			}
			if gotPath != "/api/v2/generate/pop" {
				t.Errorf("path %q", gotPath)
			}
			if gotKey != "k" || gotAgent != "hordeworker:"+Version+":ops@example.org" || gotCT != "application/json" {
				t.Errorf("headers apikey=%q agent=%q content-type=%q", gotKey, gotAgent, gotCT)
			}
		})
	}
}

func TestNewClientRejects(t *testing.T) {
	for _, base := range []string{"", "ftp://x", "127.0.0.1:7001", "http://"} {
		if _, err := NewClient(ClientConfig{BaseURL: base}); err == nil {
			t.Errorf("NewClient(%q): no error", base)
		}
	}
}

func TestClientRetries(t *testing.T) {
	tests := []struct {
		name      string
		statuses  []int // answers before success; 0 = drop the connection
		wantCalls int32
		wantErr   int // HTTP status of the returned error; 0 = success
	}{
		{"success", nil, 1, 0},
		{"503 then success", []int{503, 503}, 3, 0},
		{"429 then success", []int{429}, 2, 0},
		{"network error then success", []int{0}, 2, 0},
		{"400 is not retried", []int{400}, 1, 400},
		{"404 is not retried", []int{404}, 1, 404},
		{"401 is not retried", []int{401}, 1, 401},
		{"503 until giving up", []int{503, 503, 503, 503}, 3, 503},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1)) - 1
				if n < len(tt.statuses) {
					st := tt.statuses[n]
					if st == 0 {
						hj, _ := w.(http.Hijacker)
						conn, _, err := hj.Hijack()
						if err != nil {
							t.Error(err)
							return
						}
						_ = conn.Close()
						return
					}
					w.Header().Set("Retry-After", "0")
					w.WriteHeader(st)
					_ = json.NewEncoder(w).Encode(map[string]string{"message": "nope", "rc": "TestRC"})
					return
				}
				_, _ = w.Write([]byte(`{"reward": 12.5}`))
			}))
			defer srv.Close()
			c := newTestClient(t, srv.URL)
			resp, err := c.SubmitImage(context.Background(), aihorde.SubmitRequest{ID: "j", Generation: "R2", State: "ok"})
			if calls.Load() != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls.Load(), tt.wantCalls)
			}
			if tt.wantErr == 0 {
				if err != nil || resp.Reward != 12.5 {
					t.Fatalf("reward %v err %v", resp.Reward, err)
				}
				return
			}
			if StatusOf(err) != tt.wantErr {
				t.Fatalf("err = %v, want HTTP %d", err, tt.wantErr)
			}
			var apiErr *APIError
			if !errors.As(err, &apiErr) || apiErr.RC != "TestRC" || apiErr.Message != "nope" {
				t.Fatalf("APIError %+v", apiErr)
			}
		})
	}
}

func TestClientStopsRetryingOnCancel(t *testing.T) {
	var calls atomic.Int32
	hit := make(chan struct{}, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case hit <- struct{}{}:
		default:
		}
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.PopText(ctx, aihorde.TextPopRequest{PopCommon: aihorde.PopCommon{Name: "w"}})
		errc <- err
	}()
	<-hit
	cancel() // the client is now waiting an hour's Retry-After
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	case <-time.After(guard):
		t.Fatal("the client kept waiting after cancel")
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls, want 1", calls.Load())
	}
}

func TestClientUploadKeyOnlyToOwnHost(t *testing.T) {
	var keys []string
	foreign := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		keys = append(keys, "foreign:"+r.Header.Get("apikey")+":"+r.Header.Get("Content-Type"))
	}))
	defer foreign.Close()
	own := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPut || r.URL.Path != "/api/v2/r2/j.webp" {
			t.Errorf("%s %s", r.Method, r.URL.Path)
		}
		keys = append(keys, "own:"+r.Header.Get("apikey")+":"+r.Header.Get("Content-Type"))
	}))
	defer own.Close()
	c := newTestClient(t, own.URL)
	ctx := context.Background()
	if err := c.Upload(ctx, foreign.URL+"/bucket/j.webp?X-Amz-Signature=secret", []byte("img"), "image/webp"); err != nil {
		t.Fatal(err)
	}
	if err := c.Upload(ctx, "/api/v2/r2/j.webp", []byte("img"), "image/webp"); err != nil {
		t.Fatal(err)
	}
	want := "foreign::image/webp,own:k:image/webp"
	if got := strings.Join(keys, ","); got != want {
		t.Fatalf("uploads %q, want %q", got, want)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"-3", 0},
		{"7", 7 * time.Second},
		{"999999999", 24 * time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		if got := parseRetryAfter(tt.in, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: time.Second}.withDefaults()
	tests := []struct {
		attempt  int
		min, max time.Duration
	}{
		{0, 50 * time.Millisecond, 100 * time.Millisecond},
		{1, 100 * time.Millisecond, 200 * time.Millisecond},
		{3, 400 * time.Millisecond, 800 * time.Millisecond},
		{10, 500 * time.Millisecond, time.Second},
		{1000, 500 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		for range 50 {
			if d := p.backoff(tt.attempt); d < tt.min || d > tt.max {
				t.Fatalf("backoff(%d) = %v, want %v..%v", tt.attempt, d, tt.min, tt.max)
			}
		}
	}
	if got := p.wait(0, 3*time.Hour); got != p.MaxRetryAfter {
		t.Errorf("wait with a 3h Retry-After = %v, want the %v cap", got, p.MaxRetryAfter)
	}
}

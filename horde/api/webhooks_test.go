package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// hookServer is an https webhook target that answers the first fails calls
// 500 and records every call's body.
type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	fails  int
	calls  int
	bodies chan []byte
}

func newHookServer(t *testing.T, fails int) *hookServer {
	h := &hookServer{fails: fails, bodies: make(chan []byte, 16)}
	h.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.calls++
		fail := h.calls <= h.fails
		h.mu.Unlock()
		if fail {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		h.bodies <- body
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) callCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.calls
}

// next waits for the next delivered body; the wait is a guard against a
// hang, not a measure of speed.
func (h *hookServer) next(t *testing.T) []byte {
	t.Helper()
	select {
	case b := <-h.bodies:
		return b
	case <-time.After(30 * time.Second):
		t.Fatal("the webhook was never delivered")
		return nil
	}
}

func newWebhooks(t *testing.T, hs *hookServer, allowPrivate bool) *api.Webhooks {
	wh := api.NewWebhooks(api.WebhookOptions{
		BaseURL: "https://horde.example.org", AllowPrivate: allowPrivate,
		TLSConfig: hs.Client().Transport.(*http.Transport).TLSClientConfig, Logger: quietLogger(),
	})
	t.Cleanup(wh.Close)
	return wh
}

func TestWebhookCalledForEachGeneration(t *testing.T) {
	hs := newHookServer(t, 2) // two failed tries, the third succeeds
	wh := newWebhooks(t, hs, true)
	e := newEnvWith(t, func(c *horde.Config) { c.OnGeneration = wh.Notify },
		func(*store.Store, *horde.Horde, *storetest.Clock) api.Options { return api.Options{} })
	_, workerKey := e.user("bob")

	reqID := e.asyncImage("", map[string]any{"webhook": hs.URL + "/hook"})
	jobID := e.finishImage(workerKey, "gpu-1", false, resultWebP)

	var got struct {
		Request, ID, Img, Seed, State string
		WorkerName                    string `json:"worker_name"`
		Kudos                         float64
	}
	if err := json.Unmarshal(hs.next(t), &got); err != nil {
		t.Fatal(err)
	}
	if got.Request != reqID || got.ID != jobID || got.State != "ok" || got.WorkerName != "gpu-1" || got.Seed == "" ||
		!strings.HasPrefix(got.Img, "https://horde.example.org/api/v2/") {
		t.Errorf("webhook body = %+v", got)
	}
	if n := hs.callCount(); n != 3 {
		t.Errorf("the target was called %d times, want 3 (two failures, then the delivery)", n)
	}

	// A request without a webhook calls nothing.
	e.asyncImage("", nil)
	e.finishImage(workerKey, "gpu-1", false, resultWebP)
	if n := hs.callCount(); n != 3 {
		t.Errorf("a request without a webhook called it: %d calls", n)
	}
}

func TestWebhookMustBeHTTPS(t *testing.T) {
	e := newEnv(t, api.Options{})
	for _, hook := range []string{"http://example.org/hook", "ftp://example.org", "https://", "example.org/hook", "https://example.org/" + strings.Repeat("a", 1100)} {
		wantError(t, e.do("POST", "/api/v2/generate/async", "", imageRequest(map[string]any{"webhook": hook})), http.StatusBadRequest, "webhook")
	}
}

func TestWebhookRefusesPrivateTargets(t *testing.T) {
	hs := newHookServer(t, 0)
	wh := newWebhooks(t, hs, false)
	port := hs.URL[strings.LastIndexByte(hs.URL, ':'):]
	for _, target := range []string{
		hs.URL + "/hook",                      // 127.0.0.1
		"https://localhost" + port + "/hook",  // resolves to loopback
		"https://[::1]" + port + "/hook",      // IPv6 loopback
		"https://10.1.2.3/hook",               // private
		"https://192.168.0.10/hook",           // private
		"https://172.16.5.4/hook",             // private
		"https://169.254.169.254/latest/meta", // link-local (cloud metadata)
		"https://100.64.0.1/hook",             // CGNAT
		"https://0.0.0.0" + port + "/hook",    // unspecified
		"https://[::ffff:127.0.0.1]" + port,   // loopback mapped in IPv6
		"http://93.184.215.14/not-https",      // not https
	} {
		t.Run(target, func(t *testing.T) {
			if err := wh.Send(context.Background(), target, []byte(`{}`)); err == nil {
				t.Errorf("Send(%s) succeeded", target)
			}
		})
	}
	if n := hs.callCount(); n != 0 {
		t.Errorf("a refused target was called %d times", n)
	}
}

func TestWebhookQueueIsBounded(t *testing.T) {
	// A target that never answers within the timeout holds the sender; the
	// queue of 2 takes two more, the rest are dropped, and Notify never blocks.
	block := make(chan struct{})
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-block }))
	defer srv.Close()
	defer close(block)
	wh := api.NewWebhooks(api.WebhookOptions{AllowPrivate: true, QueueSize: 2, Tries: 1,
		TLSConfig: srv.Client().Transport.(*http.Transport).TLSClientConfig, Logger: quietLogger()})
	defer wh.Close()
	req := horde.Request{ID: "r", Kind: horde.KindImage, Extras: &horde.RequestExtras{Webhook: srv.URL}}
	for i := 0; i < 10; i++ {
		wh.Notify(context.Background(), req, horde.Generation{JobID: "j"}, 1)
	}
	if d := wh.Stats().Dropped; d < 7 || d > 8 {
		t.Errorf("dropped %d of 10 with a queue of 2 (and one in flight), want 7 or 8", d)
	}
}

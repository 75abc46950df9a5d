package worker

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Backend health. A worker whose backend is down must not pop: every job it
// took would fault, re-queue and count against the requests of other
// members (issue 14.14: 8 faults in 2 s, two requests faulted, the worker in
// maintenance). So a backend that can tell whether it is up implements
// HealthChecker; the loop checks it at start and before a pop (an answer is
// trusted for healthyFor), a job that fails marks it unknown again, and while
// it is down the loop pops nothing and backs off.

// HealthChecker is a backend that can tell whether it can run jobs now.
type HealthChecker interface {
	// Healthy returns nil when the backend answers; an error saying what
	// is wrong otherwise. It must be cheap (no generation).
	Healthy(ctx context.Context) error
}

// healthyFor is how long a successful check is trusted before the next pop
// checks again.
const healthyFor = 10 * time.Second

// healthCheckTimeout bounds one check.
const healthCheckTimeout = 5 * time.Second

// maxHealthBackoff bounds the wait between checks of a backend that is down.
const maxHealthBackoff = time.Minute

// health remembers the last check of a runner's backend, shared by its threads.
type health struct {
	backend HealthChecker // nil: the backend cannot tell; it is assumed up
	log     *slog.Logger

	mu       sync.Mutex
	okUntil  time.Time
	failures int
	down     bool
}

func newHealth(b Backend, log *slog.Logger) *health {
	hc, _ := b.(HealthChecker)
	return &health{backend: hc, log: log}
}

// ready reports whether the backend may take a job now, checking it if the
// last good answer is older than healthyFor. When it is down it returns how
// long to wait before asking again.
func (h *health) ready(ctx context.Context) (bool, time.Duration) {
	if h.backend == nil {
		return true, 0
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if time.Now().Before(h.okUntil) {
		return true, 0
	}
	cctx, cancel := context.WithTimeout(ctx, healthCheckTimeout)
	err := h.backend.Healthy(cctx)
	cancel()
	if err == nil {
		if h.down {
			h.log.Info("backend is up again; popping jobs", "after_failed_checks", h.failures)
		}
		h.okUntil, h.failures, h.down = time.Now().Add(healthyFor), 0, false
		return true, 0
	}
	if ctx.Err() != nil {
		return false, 0
	}
	h.failures++
	wait := min(maxHealthBackoff, time.Second<<min(h.failures-1, 6))
	if !h.down || h.failures%10 == 0 {
		h.log.Error("backend is down; popping no jobs until it answers", "err", err, "failed_checks", h.failures, "next_check", wait)
	}
	h.down = true
	return false, wait
}

// failed forgets the last good answer after a job failed, so that the next
// pop checks the backend first.
func (h *health) failed() {
	h.mu.Lock()
	h.okUntil = time.Time{}
	h.mu.Unlock()
}

// getHealthy GETs target and returns nil for a 2xx answer.
func getHealthy(ctx context.Context, hc *http.Client, backend, target string, header http.Header) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", backend, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %s: %w", backend, target, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return &BackendError{Backend: backend, URL: target, StatusCode: resp.StatusCode, Body: strings.TrimSpace(string(body))}
	}
	return nil
}

// Healthy asks AUTOMATIC1111/Forge/SD.Next for its progress (cheap, no generation).
func (b *A1111) Healthy(ctx context.Context) error {
	u := *b.base
	u.Path += "/sdapi/v1/progress"
	u.RawQuery = "skip_current_image=true"
	return getHealthy(ctx, b.http, "a1111", u.String(), nil)
}

// Healthy lists the OpenAI-compatible server's models.
func (b *OpenAI) Healthy(ctx context.Context) error {
	header := http.Header{}
	if b.apiKey != "" {
		header.Set("Authorization", "Bearer "+b.apiKey)
	}
	return getHealthy(ctx, b.http, "openai", strings.TrimSuffix(b.endpoint, "/completions")+"/models", header)
}

// Healthy asks KoboldCpp/KoboldAI which model it serves.
func (b *Kobold) Healthy(ctx context.Context) error {
	return getHealthy(ctx, b.http, "kobold", joinPath(b.base, "/api/v1/model"), nil)
}

var (
	_ HealthChecker = (*A1111)(nil)
	_ HealthChecker = (*Kobold)(nil)
	_ HealthChecker = (*OpenAI)(nil)
)

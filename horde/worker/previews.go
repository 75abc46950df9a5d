package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/disintegration/imaging"
	"github.com/gen2brain/webp"
)

// Live previews, hordebot's extension of the AI Horde protocol: while a
// backend works on an image job it may show what it has so far (a partial
// render, A1111's current_image), and the loop PUTs that, scaled down and
// encoded as a small WebP, to the horde's /generate/preview/{job id}. The
// horde keeps the latest one for whoever watches the request. A horde that
// does not know the route (the AI Horde, an older hordebot) answers the
// first PUT 404 or 405, and the worker then sends no more previews to it,
// quietly. Previews are best effort: a refused or failed one is dropped and
// never delays or fails the job.

// Defaults and bounds of previews.
const (
	// DefaultPreviewInterval is the least time between two previews of one
	// job (Config.PreviewInterval); the horde takes at most one a second.
	DefaultPreviewInterval = 2 * time.Second
	// PreviewMaxSide is the longest side of a preview as sent: larger
	// renders are scaled down to fit.
	PreviewMaxSide = 512
	// PreviewMaxBytes is the largest preview sent (the horde's default cap
	// is 256 KiB); a larger encoding is scaled down again.
	PreviewMaxBytes = 200 << 10
)

// previewQuality is the lossy WebP quality of previews: they are seen
// small and for a moment.
const previewQuality = 60

// previewTimeout bounds one preview PUT: a slow one is dropped, not waited for.
const previewTimeout = 20 * time.Second

// PreviewFunc takes a backend's partial render of the job it is running.
// It returns at once (the image is scaled, encoded and sent on another
// goroutine, or dropped when one was sent less than the interval ago or is
// still on its way); the backend must not change img afterwards. A Job's
// Preview is nil when previews are off: backends check before rendering one.
type PreviewFunc func(img image.Image)

// previewSupport is what the worker knows of the horde's previews, shared
// by every job of one Run.
type previewSupport struct {
	off      atomic.Bool // the horde takes none: send no more
	accepted atomic.Bool // the horde took one: a later 404 is about a job, not the route
}

// routeMissing reports whether err is a horde's way of saying it has no
// preview route at all: 404 (but not hordebot's "no such job", which names
// the job), 405, 501, or a 403 FeatureDisabled from a horde that turned
// previews off.
func routeMissing(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	switch e.StatusCode {
	case http.StatusNotFound:
		return e.RC != "InvalidJobID" && e.RC != "JobNotFound"
	case http.StatusMethodNotAllowed, http.StatusNotImplemented:
		return true
	case http.StatusForbidden:
		return e.RC == "FeatureDisabled"
	}
	return false
}

// previewSender sends the previews of one job: at most one in flight and
// one per interval; the others are dropped.
type previewSender struct {
	client   *Client
	support  *previewSupport
	jobID    string
	interval time.Duration
	log      *slog.Logger
	ctx      context.Context // ends with the job
	cancel   context.CancelFunc

	mu      sync.Mutex
	last    time.Time // when the last preview was taken for sending
	busy    bool      // one is being encoded or sent
	stopped bool      // the job ended, or the horde refused the job's previews
	sent    int
	wg      sync.WaitGroup
}

// newPreviewSender returns the sender of jobID's previews; ctx is the job's.
func (r *runner) newPreviewSender(ctx context.Context, jobID string, log *slog.Logger) *previewSender {
	ctx, cancel := context.WithCancel(ctx)
	return &previewSender{client: r.client, support: r.previews, jobID: jobID, interval: r.cfg.PreviewInterval,
		log: log, ctx: ctx, cancel: cancel}
}

// offer is the job's PreviewFunc.
func (s *previewSender) offer(img image.Image) {
	if img == nil || s.support.off.Load() {
		return
	}
	now := time.Now()
	s.mu.Lock()
	if s.stopped || s.busy || (!s.last.IsZero() && now.Sub(s.last) < s.interval) {
		s.mu.Unlock()
		return
	}
	s.busy, s.last = true, now
	s.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.wg.Done()
		stop := s.send(img)
		s.mu.Lock()
		s.busy = false
		s.stopped = s.stopped || stop
		s.mu.Unlock()
	}()
}

// send encodes and PUTs one preview; it returns true when the job's
// previews should stop.
func (s *previewSender) send(img image.Image) bool {
	data, err := encodePreview(img)
	if err != nil {
		s.log.Debug("preview not sent: encode", "err", err)
		return true
	}
	ctx, cancel := context.WithTimeout(s.ctx, previewTimeout)
	defer cancel()
	err = s.client.PutPreview(ctx, s.jobID, data, "image/webp")
	var apiErr *APIError
	switch {
	case err == nil:
		s.support.accepted.Store(true)
		s.mu.Lock()
		s.sent++
		s.mu.Unlock()
		return false
	case s.ctx.Err() != nil:
		return true // the job ended while it was on its way
	case !s.support.accepted.Load() && routeMissing(err):
		if !s.support.off.Swap(true) {
			s.log.Info("the horde takes no live previews; sending none", "status", StatusOf(err))
		}
		return true
	case errors.As(err, &apiErr) && (apiErr.Retryable() || apiErr.StatusCode == http.StatusTooManyRequests):
		s.log.Debug("preview not taken; the next one may be", "err", err)
		return false
	case errors.As(err, &apiErr):
		// The job is over (409), or the horde refuses this worker's
		// previews of it (400, 403): no more for this job.
		s.log.Debug("preview refused; no more for this job", "err", err)
		return true
	default:
		s.log.Debug("preview not sent", "err", err)
		return false
	}
}

// previewGrace is how long the end of a job waits for its preview in
// flight before cancelling it; a variable so that tests can wait longer.
var previewGrace = 2 * time.Second

// close stops the job's previews and waits for the one in flight, if any:
// up to previewGrace, then it is cancelled (a preview of a finished job is
// refused anyway, and the result matters more). It returns how many
// previews the horde took. A nil sender is fine.
func (s *previewSender) close() int {
	if s == nil {
		return 0
	}
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	t := time.NewTimer(previewGrace)
	select {
	case <-done:
	case <-t.C:
		s.cancel()
		<-done
	}
	t.Stop()
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

// encodePreview scales img to fit PreviewMaxSide and encodes it as a small
// lossy WebP, scaling down again while it is over PreviewMaxBytes.
func encodePreview(img image.Image) ([]byte, error) {
	side := PreviewMaxSide
	for {
		b := img.Bounds()
		var scaled image.Image = img
		if b.Dx() > side || b.Dy() > side {
			scaled = imaging.Fit(img, side, side, imaging.Box)
		}
		var buf bytes.Buffer
		if err := webp.Encode(&buf, scaled, webp.Options{Quality: previewQuality, Method: webpMethod}); err != nil {
			return nil, fmt.Errorf("encode preview: %w", err)
		}
		if buf.Len() <= PreviewMaxBytes {
			return buf.Bytes(), nil
		}
		if side <= 64 {
			return nil, fmt.Errorf("encode preview: %d bytes even at %d pixels", buf.Len(), side)
		}
		side /= 2
	}
}

// PutPreview PUTs an encoded preview image of a processing job to the
// horde (hordebot's extension, /generate/preview/{job id}). It is sent
// once, without retries: a preview that does not get through is replaced
// by the next one. A horde without previews answers an *APIError 404.
func (c *Client) PutPreview(ctx context.Context, jobID string, data []byte, contentType string) error {
	u := *c.api
	u.RawPath = u.EscapedPath() + "/generate/preview/" + url.PathEscape(jobID)
	u.Path += "/generate/preview/" + jobID
	if _, _, err := c.once(ctx, http.MethodPut, u.String(), data, contentType, true); err != nil {
		return fmt.Errorf("preview: %w", err)
	}
	return nil
}

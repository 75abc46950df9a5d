package horde

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sync"
	"time"
)

// Live previews, hordebot's extension of the AI Horde protocol: a worker
// may send a small image of a job it is processing (a partial render, the
// backend's live preview), and whoever has the request's id may fetch the
// latest one while the request runs. The latest preview of a request wins;
// it lives in the store (so that any process serves it) only while the job
// that sent it is processing, and goes when that job or its request ends.
// Workers and clients that know nothing of it are unaffected.

// Defaults of PreviewConfig.
const (
	DefaultPreviewMaxBytes = 256 << 10
	DefaultPreviewMaxSide  = 1024
	DefaultPreviewInterval = time.Second
)

// Preview is the latest preview image of a request.
type Preview struct {
	RequestID   string
	JobID       string // the job that sent it
	ContentType string // image/webp, image/png or image/jpeg
	Image       []byte
	// ETag names the bytes (a hash of them): the same image has the same
	// tag, another image another one.
	ETag string
	At   time.Time // when it was received
}

// PreviewStore keeps the latest preview of each request.
type PreviewStore interface {
	// SetPreview stores p as the preview of p.RequestID, replacing any
	// earlier one, if and only if the job p.JobID of that request is
	// processing. ErrNotFound for an unknown job; ErrDuplicate for a job
	// that is no longer processing (nothing is stored then).
	SetPreview(ctx context.Context, p Preview) error
	// Preview returns the preview of a request; ErrNotFound if it has none.
	Preview(ctx context.Context, requestID string) (Preview, error)
}

// PreviewConfig tunes previews. Zero values take the defaults.
type PreviewConfig struct {
	// MaxBytes bounds one preview image (default 256 KiB); MaxSide its
	// width and height (default 1024 pixels).
	MaxBytes int
	MaxSide  int
	// Interval is the shortest time between two previews of one job
	// (default 1 s); one sooner is KindRateLimited.
	Interval time.Duration
	// Check, if set, tells whether data is a complete image no larger than
	// maxSide on either side and returns its content type; cmd wires
	// horde/imagecheck. Nil accepts what sniffs as WebP, PNG or JPEG.
	Check func(data []byte, maxSide int) (contentType string, err error)
}

// Previews takes the workers' previews and serves the latest of a request.
// It is safe for concurrent use.
type Previews struct {
	h   *Horde
	st  PreviewStore
	cfg PreviewConfig

	mu   sync.Mutex
	last map[string]time.Time // job id -> when its last preview was taken
}

// NewPreviews returns the previews of h's jobs, kept in st.
func NewPreviews(h *Horde, st PreviewStore, cfg PreviewConfig) *Previews {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultPreviewMaxBytes
	}
	if cfg.MaxSide <= 0 {
		cfg.MaxSide = DefaultPreviewMaxSide
	}
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultPreviewInterval
	}
	return &Previews{h: h, st: st, cfg: cfg, last: make(map[string]time.Time)}
}

// MaxBytes is the largest preview image taken.
func (ps *Previews) MaxBytes() int { return ps.cfg.MaxBytes }

// Target reports whether c may send a preview of jobID now, before a byte
// of the image is read: the job must be a processing image job of c's
// worker (a user key may send for any of its user's workers). An unknown
// job is KindNotFound (JobNotFound); another worker's KindForbidden
// (WrongCredentials); a job that is finished or already submitted
// KindConflict (JobFinished); a text job KindInvalid; a preview sooner than
// Interval after the job's last one KindRateLimited (TooManyPreviews), with
// the wait in the message. It returns the job's request id.
func (ps *Previews) Target(ctx context.Context, c Credential, jobID string) (string, time.Duration, error) {
	requestID, err := ps.h.previewJob(ctx, c, jobID)
	if err != nil {
		return "", 0, err
	}
	now := ps.h.clock.Now()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if at, ok := ps.last[jobID]; ok {
		if wait := ps.cfg.Interval - now.Sub(at); wait > 0 {
			return "", wait, Errorf(KindRateLimited, "TooManyPreviews",
				"one preview per %s per job; retry in %s", ps.cfg.Interval, wait.Round(time.Millisecond))
		}
	}
	return requestID, 0, nil
}

// Put stores data as the latest preview of the request of jobID, sent with
// c. Refusals as Target's, plus: an empty image, one over MaxBytes, or one
// that is not a complete WebP, PNG or JPEG of at most MaxSide pixels a side
// is KindInvalid (InvalidImage). When Put returns a refusal of
// KindRateLimited, the second value is how long to wait.
func (ps *Previews) Put(ctx context.Context, c Credential, jobID string, data []byte) (time.Duration, error) {
	requestID, wait, err := ps.Target(ctx, c, jobID)
	if err != nil {
		return wait, err
	}
	if len(data) == 0 {
		return 0, &Error{Kind: KindInvalid, Code: "InvalidImage", Field: "body", Message: "the preview is empty"}
	}
	if len(data) > ps.cfg.MaxBytes {
		return 0, &Error{Kind: KindInvalid, Code: "InvalidImage", Field: "body",
			Message: fmt.Sprintf("the preview is %d bytes; at most %d are taken", len(data), ps.cfg.MaxBytes)}
	}
	ct, err := ps.check(data)
	if err != nil {
		return 0, &Error{Kind: KindInvalid, Code: "InvalidImage", Field: "body",
			Message: fmt.Sprintf("the preview is refused: %v", err), Err: err}
	}
	now := ps.h.clock.Now()
	ps.mu.Lock()
	if at, ok := ps.last[jobID]; ok && now.Sub(at) < ps.cfg.Interval {
		// Another preview of the job got in while this one was checked.
		ps.mu.Unlock()
		wait := ps.cfg.Interval - now.Sub(at)
		return wait, Errorf(KindRateLimited, "TooManyPreviews", "one preview per %s per job; retry in %s", ps.cfg.Interval, wait.Round(time.Millisecond))
	}
	ps.last[jobID] = now
	ps.forgetOld(now)
	ps.mu.Unlock()

	sum := sha256.Sum256(data)
	p := Preview{RequestID: requestID, JobID: jobID, ContentType: ct, Image: data,
		ETag: `"` + hex.EncodeToString(sum[:12]) + `"`, At: now}
	err = ps.st.SetPreview(ctx, p)
	switch {
	case notFound(err):
		return 0, NotFoundf("JobNotFound", "no job has id %s", QuoteInput(jobID))
	case duplicate(err):
		return 0, &Error{Kind: KindConflict, Code: "JobFinished", Message: "this job is no longer processing and takes no preview", Err: err}
	case err != nil:
		return 0, fmt.Errorf("store preview of job %s: %w", jobID, err)
	}
	return 0, nil
}

// forgetOld drops the rate-limit marks that can no longer refuse anything,
// once there are many. Caller holds ps.mu.
func (ps *Previews) forgetOld(now time.Time) {
	if len(ps.last) < 1024 {
		return
	}
	for id, at := range ps.last {
		if now.Sub(at) >= ps.cfg.Interval {
			delete(ps.last, id)
		}
	}
}

// check tells the content type of a preview image, or why it is refused.
func (ps *Previews) check(data []byte) (string, error) {
	if ps.cfg.Check != nil {
		return ps.cfg.Check(data, ps.cfg.MaxSide)
	}
	switch ct := http.DetectContentType(data); ct {
	case "image/webp", "image/png", "image/jpeg":
		return ct, nil
	default:
		return "", fmt.Errorf("the bytes are %s, not a WebP, PNG or JPEG image", ct)
	}
}

// Latest returns the latest preview of request requestID. A request with
// no preview now (none was sent, or the job that sent it ended) is
// KindNotFound (PreviewNotFound); an unknown request KindNotFound
// (RequestNotFound).
func (ps *Previews) Latest(ctx context.Context, requestID string) (Preview, error) {
	p, err := ps.st.Preview(ctx, requestID)
	if err == nil {
		return p, nil
	}
	if !notFound(err) {
		return Preview{}, fmt.Errorf("read preview of request %s: %w", requestID, err)
	}
	if _, err := ps.h.Check(ctx, requestID); err != nil {
		return Preview{}, err
	}
	return Preview{}, NotFoundf("PreviewNotFound", "request %s has no preview now", QuoteInput(requestID))
}

// previewJob checks that c may send a preview of jobID (see
// Previews.Target) and returns the job's request id.
func (h *Horde) previewJob(ctx context.Context, c Credential, jobID string) (string, error) {
	h.mu.Lock()
	oj := h.jobs[jobID]
	if oj == nil && h.shared() {
		h.mu.Unlock()
		view, err := h.sharedJob(ctx, jobID)
		if err != nil {
			return "", err
		}
		h.mu.Lock()
		if view != nil {
			view.busy = false // a view of its own: no submit of this process marks it
			oj = view
		}
	}
	if oj == nil {
		h.mu.Unlock()
		err := h.closedJobError(ctx, jobID)
		if IsKind(err, KindConflict) {
			return "", &Error{Kind: KindConflict, Code: "JobFinished", Message: "this job is no longer processing and takes no preview", Err: err}
		}
		return "", err
	}
	defer h.mu.Unlock()
	ws := h.workers[oj.job.WorkerID]
	switch {
	case c.WorkerID != "" && c.WorkerID != oj.job.WorkerID,
		c.WorkerID == "" && (ws == nil || ws.w.OwnerID != c.User.ID):
		return "", Errorf(KindForbidden, "WrongCredentials", "this job belongs to another worker")
	case oj.busy || oj.pending != nil:
		return "", Errorf(KindConflict, "JobFinished", "this job was submitted and takes no preview")
	case oj.r.req.Kind != KindImage:
		return "", Invalidf("id", "job %s is not an image job; only image jobs take previews", QuoteInput(jobID))
	}
	return oj.r.req.ID, nil
}

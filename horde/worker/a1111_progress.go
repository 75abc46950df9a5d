package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// DefaultA1111ProgressInterval is how often the A1111 backend asks the web
// UI for its live preview while a generation runs (A1111Options.ProgressInterval).
const DefaultA1111ProgressInterval = time.Second

// maxProgressResponse bounds an answer of /sdapi/v1/progress: one base64
// PNG of the image being made.
const maxProgressResponse = 48 << 20

// a1111Progress is the answer of GET /sdapi/v1/progress: how far the
// current generation is and, when the web UI's live previews are on
// ("Show live previews of the created image"), a base64 PNG of it.
type a1111Progress struct {
	Progress     float64 `json:"progress"`
	CurrentImage *string `json:"current_image"`
}

// watchProgress polls the web UI's progress every interval until ctx ends
// and hands each new current_image to preview. The web UI runs one
// generation at a time and its progress is of that one, so the caller
// watches only while it has the only generation in flight (A1111.inflight).
// Failures are logged at debug level and the polling goes on: previews are
// best effort.
func (a *A1111) watchProgress(ctx context.Context, jobID string, preview PreviewFunc) {
	target := joinPath(a.base, "/sdapi/v1/progress") + "?skip_current_image=false"
	t := time.NewTicker(a.progressEvery)
	defer t.Stop()
	last := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if a.inflight.Load() != 1 {
			continue // another job's generation shares the web UI: its image is not this job's
		}
		var p a1111Progress
		if err := getBackendJSON(ctx, a.http, "a1111", target, maxProgressResponse, &p); err != nil {
			if ctx.Err() == nil {
				a.log.Debug("a1111: progress", "job", jobID, "err", err)
			}
			continue
		}
		if p.CurrentImage == nil || *p.CurrentImage == "" || *p.CurrentImage == last || p.Progress <= 0 {
			continue
		}
		last = *p.CurrentImage
		raw, err := decodeBase64(last)
		if err != nil {
			a.log.Debug("a1111: progress image", "job", jobID, "err", err)
			continue
		}
		img, _, err := decodeImage(raw)
		if err != nil {
			a.log.Debug("a1111: progress image", "job", jobID, "err", err)
			continue
		}
		if ctx.Err() != nil {
			return // the generation is over: its preview is stale
		}
		preview(img)
	}
}

// getBackendJSON GETs target and decodes a 2xx answer of at most limit bytes into out.
func getBackendJSON(ctx context.Context, hc *http.Client, backend, target string, limit int64, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("%s: %w", backend, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: GET %s: %w", backend, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return fmt.Errorf("%s: GET %s: read answer: %w", backend, target, err)
	}
	if int64(len(data)) > limit {
		return fmt.Errorf("%s: GET %s: answer over %d bytes", backend, target, limit)
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return &BackendError{Backend: backend, URL: target, StatusCode: resp.StatusCode, Body: snippet(data)}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: GET %s: decode answer: %w", backend, target, err)
	}
	return nil
}

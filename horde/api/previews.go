package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// Live previews, hordebot's extension (horde/previews.go): a worker PUTs
// the raw bytes of a small preview image of a job it is processing to
// /generate/preview/{job id}, and whoever has the request's id GETs the
// latest one from /generate/status/{id}/preview, as the status itself is
// public to whoever has the id. Neither path exists on the AI Horde, so a
// worker written for hordebot learns from a 404 there that the horde it
// talks to takes no previews; clients and workers that know nothing of them
// see no change.

// previewPut stores a worker's preview. The job, the key and the rate are
// checked before a byte of the body is read, so that a refused preview
// costs nothing.
func (s *server) previewPut(w http.ResponseWriter, r *http.Request) {
	ps := s.opt.Previews
	if ps == nil {
		s.writeError(w, r, horde.NotFoundf("NotFound", "no such endpoint: %s %s", horde.QuoteInput(r.Method), horde.QuoteInput(r.URL.Path)))
		return
	}
	jobID := r.PathValue("id")
	if jobID == "" || len(jobID) > aihorde.MaxJobIDLength {
		s.writeError(w, r, horde.NotFoundf("JobNotFound", "no job has id %s", horde.QuoteInput(jobID)))
		return
	}
	c, err := s.authenticate(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	limit := int64(ps.MaxBytes())
	if r.ContentLength > limit {
		s.writeError(w, r, previewTooLarge(r.ContentLength, limit))
		return
	}
	if _, wait, err := ps.Target(r.Context(), c, jobID); err != nil {
		s.writePreviewError(w, r, wait, err)
		return
	}
	data, err := s.readBody(w, r, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if wait, err := ps.Put(r.Context(), c, jobID, data); err != nil {
		s.writePreviewError(w, r, wait, err)
		return
	}
	s.ok(w, struct {
		Message string `json:"message"`
	}{Message: "OK"})
}

// previewTooLarge is the refusal of a preview declared larger than limit.
func previewTooLarge(size, limit int64) error {
	return &horde.Error{Kind: horde.KindInvalid, Code: "InvalidImage", Field: "body",
		Message: "the preview is " + strconv.FormatInt(size, 10) + " bytes; at most " + strconv.FormatInt(limit, 10) + " are taken"}
}

// writePreviewError answers a refused preview; a rate-limited one says
// when to retry.
func (s *server) writePreviewError(w http.ResponseWriter, r *http.Request, wait time.Duration, err error) {
	if horde.IsKind(err, horde.KindRateLimited) {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(wait)))
	}
	s.writeError(w, r, err)
}

// previewGet serves the latest preview of a request: its bytes with their
// content type, an ETag naming them and Last-Modified, so that a poller
// sending If-None-Match gets 304 until the image changes. 404 when the
// request has no preview now (PreviewNotFound) or is unknown
// (RequestNotFound).
func (s *server) previewGet(w http.ResponseWriter, r *http.Request) {
	ps := s.opt.Previews
	if ps == nil {
		s.writeError(w, r, horde.NotFoundf("NotFound", "no such endpoint: %s %s", horde.QuoteInput(r.Method), horde.QuoteInput(r.URL.Path)))
		return
	}
	id := r.PathValue("id")
	if id == "" || len(id) > maxRequestIDLength {
		s.writeError(w, r, horde.NotFoundf("RequestNotFound", "no request has id %s", horde.QuoteInput(id)))
		return
	}
	p, err := ps.Latest(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("ETag", p.ETag)
	h.Set("Last-Modified", p.At.UTC().Format(http.TimeFormat))
	// The id is the secret: shared caches keep nothing; a browser asks again.
	h.Set("Cache-Control", "private, no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	if etagMatches(r.Header.Get("If-None-Match"), p.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", p.ContentType)
	h.Set("Content-Length", strconv.Itoa(len(p.Image)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(p.Image)
	}
}

// maxRequestIDLength bounds a request id in a path (ids are UUIDs).
const maxRequestIDLength = 100

// etagMatches reports whether an If-None-Match header names etag (weakly,
// as RFC 9110 compares for If-None-Match), or is "*".
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t != "" && t == etag {
			return true
		}
	}
	return false
}

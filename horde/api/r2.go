package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// The r2 routes stand in for the AI Horde's Cloudflare R2 bucket: a worker
// PUTs the raw image of a processing job to the job's upload URL (the job id
// is the secret, as a presigned URL's signature is), then submits
// generation "R2". Finished images are served, content-addressed, under
// /results/{ref}, read from wherever the blobs live. With a bucket for
// direct uploads (horde.Config.Uploads), pops hand out the bucket's
// presigned PUT URLs instead, and these routes stay for workers that were
// given them earlier.

// uploadURL is the r2_upload target of a job. Every upload URL shares one
// prefix, so sorting the URLs sorts them like their job ids.
func uploadURL(base, jobID string) string {
	return base + Prefix + "/r2/" + url.PathEscape(jobID) + ".webp"
}

// resultURL is the public link to a stored result image.
func resultURL(base, ref string) string {
	return base + Prefix + "/results/" + url.PathEscape(ref)
}

// resultLink is the link to a result image that a status gives: a direct
// link to where it lives (a presigned GET of the bucket, when configured),
// else this server's /results link.
func (s *server) resultLink(r *http.Request, base, ref string) string {
	u, err := s.h.ResultURL(r.Context(), ref)
	if err != nil {
		s.log.Warn("link to a result image; serving it here instead", "blob", ref, "err", err)
	}
	if u == "" {
		u = resultURL(base, ref)
	}
	return u
}

// validRef reports whether ref looks like a content address: no path
// separators or dot-dot, so that it can never name a file outside the blob store.
func validRef(ref string) bool {
	if ref == "" || len(ref) > 200 || strings.Contains(ref, "..") {
		return false
	}
	for _, c := range ref {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// sniffBytes is how much of an upload is read before anything is stored,
// to check that it starts like an image.
const sniffBytes = 128 << 10

// r2Upload takes the raw image bytes of a processing job. The job is
// checked before a byte of the body is read (a PUT to an unknown, finished
// or already uploaded job is answered at once, so a client that sent
// Expect: 100-continue never sends its body); then the first bytes are
// checked to be an image header and the rest streams to disk.
func (s *server) r2Upload(w http.ResponseWriter, r *http.Request) {
	s.streamUpload(w, r, s.h.UploadTarget, s.h.UploadFrom)
}

// r2AlchemyUpload takes the raw image of a processing image form (an
// alchemist's post-processed image), as r2Upload does for jobs.
func (s *server) r2AlchemyUpload(w http.ResponseWriter, r *http.Request) {
	s.streamUpload(w, r, s.h.AlchemyUploadTarget, s.h.UploadAlchemyFrom)
}

// streamUpload checks the upload's target (target) before it reads a byte,
// then checks the first bytes are an image header and streams the rest to
// the blob store (store).
func (s *server) streamUpload(w http.ResponseWriter, r *http.Request,
	target func(ctx context.Context, id string) error,
	store func(ctx context.Context, id string, r io.Reader, max int64) (int64, error)) {
	file := r.PathValue("file")
	jobID, ok := strings.CutSuffix(file, ".webp")
	if !ok || jobID == "" || len(jobID) > aihorde.MaxJobIDLength {
		s.writeError(w, r, horde.NotFoundf("JobNotFound", "no upload target %s", horde.QuoteInput(file)))
		return
	}
	limit := s.opt.MaxUploadBytes
	if r.ContentLength > limit {
		s.writeError(w, r, fmt.Errorf("upload: %w", &http.MaxBytesError{Limit: limit}))
		return
	}
	if err := target(r.Context(), jobID); err != nil {
		s.writeError(w, r, err)
		return
	}
	body := &readErr{r: http.MaxBytesReader(w, r.Body, limit)}
	br := bufio.NewReaderSize(body, sniffBytes)
	head, err := br.Peek(sniffBytes)
	if err != nil && !errors.Is(err, io.EOF) {
		s.writeError(w, r, bodyError(err))
		return
	}
	size := r.ContentLength
	if size < 0 {
		size = -1 // chunked: the RIFF size is checked once the blob is read
	}
	if _, err := sniffHeader(head, size, "body"); err != nil {
		s.writeError(w, r, err)
		return
	}
	if _, err := store(r.Context(), jobID, br, limit); err != nil {
		if body.err != nil {
			err = bodyError(body.err) // the client's side broke or was too slow
		}
		s.writeError(w, r, err)
		return
	}
	s.ok(w, struct {
		Message string `json:"message"`
	}{Message: "OK"})
}

// readErr remembers the error its reader returned, so that a failed store
// can tell a broken upload (the client's fault) from a broken disk.
type readErr struct {
	r   io.Reader
	err error
}

func (e *readErr) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		e.err = err
	}
	return n, err
}

// result serves a stored result image with its sniffed content type. Refs
// are content addresses: the bytes behind one never change.
func (s *server) result(w http.ResponseWriter, r *http.Request) {
	ref := r.PathValue("ref")
	if !validRef(ref) {
		s.writeError(w, r, horde.NotFoundf("NotFound", "no result %s", horde.QuoteInput(ref)))
		return
	}
	data, err := s.h.Blob(r.Context(), ref)
	if err != nil {
		// A ref the blob store cannot parse names nothing: 404 as well.
		if horde.IsKind(err, horde.KindNotFound) || horde.IsKind(err, horde.KindInvalid) {
			err = horde.NotFoundf("NotFound", "no result %s", horde.QuoteInput(ref))
		}
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", http.DetectContentType(data))
	h.Set("Content-Length", strconv.Itoa(len(data)))
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

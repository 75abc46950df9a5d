package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hordebot/hordebot/horde"
)

type requestData struct {
	ID       string
	Progress horde.Progress
	State    string // in words
	Position int    // 1-based, 0 once running
	Wait     time.Duration
	Images   []requestImage
	Texts    []string
	// Preview is the latest live preview while the request runs; nil when
	// there is none.
	Preview *requestPreview
}

// requestPreview is the request page's view of a live preview.
type requestPreview struct {
	// URL is the API's preview route with the preview's tag in the query,
	// so that a new preview is a new URL: the refreshed section loads it,
	// and an unchanged one is the browser's cached image.
	URL string
}

type requestImage struct {
	N        int
	Ref      string
	Model    string
	Worker   string
	Censored bool
}

// request is GET /r/{id}: a request's position, ETA and results, as the
// API's status shows them to whoever has the id. It is never cached (its
// state changes and its id is the secret), and while it is unfinished the
// page refreshes: the script fetches ?live=1 (the live section alone) every
// few seconds, and without JavaScript the page reloads itself. The prompt is
// not shown: the id may be passed on, the prompt was not shared.
func (w *Handler) request(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Referrer-Policy", "no-referrer")
	rw.Header().Set("X-Robots-Tag", "noindex")
	id := r.PathValue("id")
	if !w.limit.allow(clientIP(r), w.clock.Now()) {
		rw.Header().Set("Retry-After", "1")
		w.fail(rw, r, http.StatusTooManyRequests, "Too many pages at once: wait a moment and reload.")
		return
	}
	prog, gens, err := w.h.Status(r.Context(), id)
	if horde.IsKind(err, horde.KindNotFound) || horde.IsKind(err, horde.KindInvalid) {
		w.fail(rw, r, http.StatusNotFound, "There is no request with this id (or it finished long ago and was deleted).")
		return
	}
	if err != nil {
		w.log.ErrorContext(r.Context(), "request page", "request", id, "err", err)
		w.fail(rw, r, http.StatusInternalServerError, "Something went wrong on our side; try again in a moment.")
		return
	}
	d := requestData{ID: prog.Request.ID, Progress: prog, Wait: time.Duration(prog.WaitTime) * time.Second}
	switch {
	case prog.Done && prog.Faulted:
		d.State = "failed"
	case prog.Done && prog.Request.State == horde.RequestCancelled:
		d.State = "cancelled"
	case prog.Done:
		d.State = "done"
	case prog.Processing > 0 || prog.Finished > 0:
		d.State = "generating"
	default:
		d.State = "waiting"
		d.Position = prog.QueuePosition + 1
	}
	if !prog.Done && prog.Request.Kind == horde.KindImage {
		d.Preview = w.preview(r.Context(), prog.Request.ID)
	}
	for _, g := range gens {
		if prog.Request.Kind == horde.KindText {
			d.Texts = append(d.Texts, g.Text)
			continue
		}
		d.Images = append(d.Images, requestImage{N: g.Item + 1, Ref: g.BlobRef, Model: g.Model, Worker: g.WorkerName,
			Censored: g.State != horde.ResultOK || g.BlobRef == ""})
	}
	name := "request"
	if r.URL.Query().Get("live") == "1" {
		name = "request-live"
	}
	body, err := w.renderRequest(name, d)
	if err != nil {
		w.log.ErrorContext(r.Context(), "request page", "request", id, "err", err)
		w.fail(rw, r, http.StatusInternalServerError, "Something went wrong on our side; try again in a moment.")
		return
	}
	w.write(rw, r, http.StatusOK, body, "no-store")
}

// preview is the live preview of request id to show, or nil. A failure
// to read it is logged and shows none: the rest of the page matters more.
func (w *Handler) preview(ctx context.Context, id string) *requestPreview {
	if w.opt.Previews == nil {
		return nil
	}
	p, err := w.opt.Previews.Latest(ctx, id)
	if err != nil {
		if !horde.IsKind(err, horde.KindNotFound) {
			w.log.WarnContext(ctx, "request page: live preview", "request", id, "err", err)
		}
		return nil
	}
	return &requestPreview{URL: "/api/v2/generate/status/" + pathEscape(id) + "/preview?v=" +
		url.QueryEscape(strings.Trim(p.ETag, `"W/`))}
}

// renderRequest renders the whole request page, or its live section alone.
func (w *Handler) renderRequest(name string, d requestData) ([]byte, error) {
	p := page{Title: "Request", Path: "/r/", Data: d, Refresh: !d.Progress.Done}
	if name == "request" {
		return w.render("request", p)
	}
	return w.renderPart("request", "live", p)
}

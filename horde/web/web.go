// Package web serves the community's web pages beside the AI Horde API:
// the horde's status with charts, the kudos leaderboards, the gallery of
// shared art, member and worker profiles and the live page of a request.
//
// Pages are rendered on the server with html/template from the embedded
// assets (assets/web); charts are inline SVG, so everything reads without
// JavaScript; a small script only refreshes the request page. Nothing is
// fetched from elsewhere. The public pages are cached for a few seconds and
// rate-limited per client address; the request page, like the API's status,
// is seen only by whoever has the request's id and is never cached.
//
// Privacy: no page shows a prompt that was not shared to the art channel,
// an IP address, a key or anything of the moderators' views; the page of a
// flagged member (and of a flagged member's worker) shows only the name.
package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// Options configure the pages. Zero values take the defaults.
type Options struct {
	// Title is the site's title ("<community> horde" by default);
	// Community the community's name ("hordebot" by default).
	Title     string
	Community string
	// Icon is the community's icon (PNG, JPEG, WebP, GIF or SVG), served
	// at /static/icon; nil serves the built-in one.
	Icon []byte
	// CacheFor is how long a rendered public page is reused (10 s;
	// negative: not at all).
	CacheFor time.Duration
	// DataFor is how long the slow aggregates (the leaderboards, the
	// month's charts) are reused before one refresh recomputes them in the
	// background while the old ones are still served (2 min; negative: not
	// at all).
	DataFor time.Duration
	// RatePerIP and BurstPerIP limit the uncached pages one client address
	// may ask for (5/s, burst 20).
	RatePerIP  float64
	BurstPerIP int
	// Previews, when set, gives the request page the latest live preview
	// of a request in progress, shown from the API's preview route
	// (/api/v2/generate/status/{id}/preview); nil shows none.
	Previews Previews
	Clock    horde.Clock
	Logger   *slog.Logger
}

// Handler serves the pages. Build it with New.
type Handler struct {
	h     Horde
	k     Kudos
	st    Store
	opt   Options
	log   *slog.Logger
	clock horde.Clock
	tmpl  map[string]*template.Template
	// static holds the embedded CSS, script and icon, with the version
	// (a content hash) their URLs carry so that they may be cached forever.
	static  map[string]staticFile
	version string
	cache   *pageCache
	boards  *memo[kudos.Board]
	snaps   *memo[[]Snapshot]
	ledgers *memo[memberLedger]
	art     *memo[[]Art]
	limit   *ipLimits
	mux     *http.ServeMux
}

// New builds the pages' handler over the horde, the kudos engine and the
// store, with templates and static files from assets (assets.Web).
func New(h Horde, k Kudos, st Store, assets fs.FS, opt Options) (*Handler, error) {
	if opt.Community == "" {
		opt.Community = "hordebot"
	}
	if opt.Title == "" {
		opt.Title = opt.Community + " horde"
	}
	if opt.CacheFor == 0 {
		opt.CacheFor = 10 * time.Second
	}
	if opt.DataFor == 0 {
		opt.DataFor = 2 * time.Minute
	}
	if opt.RatePerIP <= 0 {
		opt.RatePerIP = 5
	}
	if opt.BurstPerIP <= 0 {
		opt.BurstPerIP = 20
	}
	if opt.Clock == nil {
		opt.Clock = horde.SystemClock{}
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	w := &Handler{h: h, k: k, st: st, opt: opt, log: opt.Logger, clock: opt.Clock,
		cache: newPageCache(opt.CacheFor, 512), limit: newIPLimits(opt.RatePerIP, opt.BurstPerIP)}
	logRefresh := func(key string, err error) { w.log.Error("refresh web page data", "data", key, "err", err) }
	w.boards = newMemo[kudos.Board](opt.DataFor, logRefresh)
	w.snaps = newMemo[[]Snapshot](opt.DataFor, logRefresh)
	w.ledgers = newMemo[memberLedger](opt.DataFor, logRefresh)
	w.ledgers.max = 1000
	w.art = newMemo[[]Art](opt.DataFor, logRefresh)
	if err := w.loadStatic(assets, opt.Icon); err != nil {
		return nil, err
	}
	if err := w.loadTemplates(assets); err != nil {
		return nil, err
	}
	w.mux = w.routes()
	return w, nil
}

// routes is the pages' route table.
func (w *Handler) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", w.public(w.status))
	mux.HandleFunc("GET /leaderboard", w.public(w.leaderboard))
	mux.HandleFunc("GET /gallery", w.public(w.gallery))
	mux.HandleFunc("GET /u/{name}", w.public(w.member))
	mux.HandleFunc("GET /w/{name}", w.public(w.worker))
	mux.HandleFunc("GET /r/{id}", w.request)
	mux.HandleFunc("GET /static/{file}", w.serveStatic)
	mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			rw.Header().Set("Allow", "GET, HEAD")
			w.fail(rw, r, http.StatusMethodNotAllowed, "Only GET is served here.")
			return
		}
		w.fail(rw, r, http.StatusNotFound, "There is no page at this address.")
	})
	return mux
}

// ServeHTTP serves a page.
func (w *Handler) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	h := rw.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
	w.mux.ServeHTTP(rw, r)
}

// page is what every template gets: the site and the page's own data.
type page struct {
	Site    site
	Title   string // the page's own title, before the site's
	Path    string // for the navigation's aria-current
	Data    any
	Refresh bool // the request page while unfinished: refresh without JavaScript
}

type site struct {
	Title     string
	Community string
	Version   string
}

// render executes template name into a buffer, so that a failing template
// sends an error page and not half a page.
func (w *Handler) render(name string, p page) ([]byte, error) {
	t := w.tmpl[name]
	if t == nil {
		return nil, fmt.Errorf("no template %q", name)
	}
	p.Site = site{Title: w.opt.Title, Community: w.opt.Community, Version: w.version}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return nil, fmt.Errorf("render %s: %w", name, err)
	}
	return buf.Bytes(), nil
}

// renderFunc renders one public page: its template and data, or an error
// (a horde NotFound error shows the 404 page).
type renderFunc func(ctx context.Context, r *http.Request) (string, page, error)

// public serves a public page: from the cache when fresh, otherwise
// rendered (within the client's rate limit) and cached.
func (w *Handler) public(fn renderFunc) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		key := r.URL.Path + "?" + r.URL.RawQuery
		now := w.clock.Now()
		if body, status, ok := w.cache.get(key, now); ok {
			w.write(rw, r, status, body, "public, max-age=10")
			return
		}
		if !w.limit.allow(clientIP(r), now) {
			rw.Header().Set("Retry-After", "1")
			w.fail(rw, r, http.StatusTooManyRequests, "Too many pages at once: wait a moment and reload.")
			return
		}
		name, p, err := fn(r.Context(), r)
		status := http.StatusOK
		if err != nil {
			if !horde.IsKind(err, horde.KindNotFound) && !horde.IsKind(err, horde.KindInvalid) {
				w.log.ErrorContext(r.Context(), "render page", "path", r.URL.Path, "err", err)
				w.fail(rw, r, http.StatusInternalServerError, "Something went wrong on our side; try again in a moment.")
				return
			}
			status = http.StatusNotFound
			if horde.IsKind(err, horde.KindInvalid) {
				status = http.StatusBadRequest
			}
			name, p = "error", page{Title: http.StatusText(status), Data: horde.MessageOf(err)}
		}
		body, err := w.render(name, p)
		if err != nil {
			w.log.ErrorContext(r.Context(), "render page", "path", r.URL.Path, "err", err)
			w.fail(rw, r, http.StatusInternalServerError, "Something went wrong on our side; try again in a moment.")
			return
		}
		w.cache.put(key, body, status, now)
		w.write(rw, r, status, body, "public, max-age=10")
	}
}

// write sends a rendered page.
func (w *Handler) write(rw http.ResponseWriter, r *http.Request, status int, body []byte, cache string) {
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", cache)
	h.Set("Content-Length", fmt.Sprint(len(body)))
	rw.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = rw.Write(body)
	}
}

// fail sends the error page with a message safe to show.
func (w *Handler) fail(rw http.ResponseWriter, r *http.Request, status int, msg string) {
	body, err := w.render("error", page{Title: http.StatusText(status), Data: msg})
	if err != nil {
		w.log.ErrorContext(r.Context(), "render error page", "err", err)
		http.Error(rw, msg, status)
		return
	}
	w.write(rw, r, status, body, "no-store")
}

// clientIP is the address the request came from (the connection's; a
// reverse proxy in front should rate-limit by its own means).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// notFound is the error a page returns for an unknown name or id.
func notFound(format string, args ...any) error {
	return horde.NotFoundf("NotFound", format, args...)
}

// renderPart executes one named template of a page (a fragment).
func (w *Handler) renderPart(name, part string, p page) ([]byte, error) {
	t := w.tmpl[name]
	if t == nil {
		return nil, fmt.Errorf("no template %q", name)
	}
	p.Site = site{Title: w.opt.Title, Community: w.opt.Community, Version: w.version}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, part, p); err != nil {
		return nil, fmt.Errorf("render %s/%s: %w", name, part, err)
	}
	return buf.Bytes(), nil
}

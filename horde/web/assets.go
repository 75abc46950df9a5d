package web

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// staticFile is an embedded file served under /static/.
type staticFile struct {
	data []byte
	typ  string
}

// maxIconBytes bounds the community icon read from config.
const maxIconBytes = 256 << 10

// loadStatic reads the static files (static/*) and the icon, and derives
// the version their URLs carry from their contents.
func (w *Handler) loadStatic(assets fs.FS, icon []byte) error {
	w.static = map[string]staticFile{}
	sum := sha256.New()
	for _, name := range []string{"style.css", "live.js", "icon.svg"} {
		b, err := fs.ReadFile(assets, "static/"+name)
		if err != nil {
			return fmt.Errorf("web asset %s: %w", name, err)
		}
		typ := map[string]string{".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml"}[path.Ext(name)]
		w.static[name] = staticFile{data: b, typ: typ}
		sum.Write(b)
	}
	w.static["icon"] = w.static["icon.svg"]
	if len(icon) > 0 {
		if len(icon) > maxIconBytes {
			return fmt.Errorf("web icon: %d bytes, at most %d", len(icon), maxIconBytes)
		}
		typ := http.DetectContentType(icon)
		if strings.Contains(string(icon[:min(len(icon), 512)]), "<svg") {
			typ = "image/svg+xml"
		}
		if !strings.HasPrefix(typ, "image/") {
			return fmt.Errorf("web icon: not an image (%s)", typ)
		}
		w.static["icon"] = staticFile{data: icon, typ: typ}
		sum.Write(icon)
	}
	w.version = hex.EncodeToString(sum.Sum(nil))[:12]
	return nil
}

// serveStatic serves a static file. URLs carry ?v=<version>, so a file is
// cached for a year; a new build changes the version.
func (w *Handler) serveStatic(rw http.ResponseWriter, r *http.Request) {
	f, ok := w.static[r.PathValue("file")]
	if !ok {
		w.fail(rw, r, http.StatusNotFound, "There is no file at this address.")
		return
	}
	h := rw.Header()
	h.Set("Content-Type", f.typ)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	if f.typ == "image/svg+xml" {
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	}
	http.ServeContent(rw, r, "", time.Time{}, strings.NewReader(string(f.data)))
}

// loadTemplates parses each page template with the layout.
func (w *Handler) loadTemplates(assets fs.FS) error {
	funcs := template.FuncMap{
		"num":      num,
		"duration": duration,
		"ago":      func(t time.Time) string { return ago(w.clock.Now(), t) },
		"userURL":  userURL,
		"workerURL": func(name string) string {
			return "/w/" + pathEscape(name)
		},
		"imageURL": func(ref string) string { return "/api/v2/results/" + pathEscape(ref) },
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict: odd arguments")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				k, ok := kv[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
				}
				m[k] = kv[i+1]
			}
			return m, nil
		},
	}
	layout, err := fs.ReadFile(assets, "templates/layout.html")
	if err != nil {
		return fmt.Errorf("web template layout: %w", err)
	}
	w.tmpl = map[string]*template.Template{}
	for _, name := range []string{"status", "leaderboard", "gallery", "member", "worker", "request", "error"} {
		b, err := fs.ReadFile(assets, "templates/"+name+".html")
		if err != nil {
			return fmt.Errorf("web template %s: %w", name, err)
		}
		t, err := template.New(name).Funcs(funcs).Parse(string(layout))
		if err == nil {
			_, err = t.Parse(string(b))
		}
		if err != nil {
			return fmt.Errorf("web template %s: %w", name, err)
		}
		w.tmpl[name] = t
	}
	return nil
}

package assets

import (
	"embed"
	"io/fs"
)

//go:embed web/templates/*.html web/static/*
var webFiles embed.FS

// Web holds the web pages' templates (templates/*.html, each page with
// layout.html) and static files (static/: style.css, live.js, icon.svg),
// for horde/web.
var Web fs.FS = mustSub(webFiles, "web")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err) // a fixed, embedded directory: only a broken build gets here
	}
	return sub
}

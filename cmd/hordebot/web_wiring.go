package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/web"
	"github.com/hordebot/hordebot/kudos"
)

// WebConfig configures the community's web pages (horde/web), served by
// `run` and `api` on the API's listener.
type WebConfig struct {
	// Enabled serves the pages (default true); off, every path outside
	// /api/ is a 404 as before.
	Enabled bool `json:"enabled"`
	// PublicURL is where members reach the pages; when set, Discord
	// progress messages link to the request's live page.
	PublicURL string `json:"public_url"`
	// Title is the site's title, Community the community's name, Icon a
	// file with its icon (PNG, JPEG, WebP, GIF or SVG, at most 256 KiB).
	Title     string `json:"title"`
	Community string `json:"community"`
	Icon      string `json:"icon"`
	// History is how long the per-minute status snapshots are kept.
	History kudos.Duration `json:"history"`
}

// webHandler builds the pages' handler, or nil when they are off.
func (a *App) webHandler() (*web.Handler, error) {
	wc := a.Config.Web
	if !wc.Enabled {
		return nil, nil
	}
	var icon []byte
	if wc.Icon != "" {
		var err error
		if icon, err = os.ReadFile(wc.Icon); err != nil {
			return nil, fmt.Errorf("config web.icon: %w", err)
		}
	}
	h, err := web.New(a.Horde, a.Kudos, a.Store, assets.Web, web.Options{
		Title: wc.Title, Community: wc.Community, Icon: icon, Previews: a.Previews,
		Clock: a.Clock, Logger: a.Log.With("component", "web"),
	})
	if err != nil {
		return nil, fmt.Errorf("web pages: %w", err)
	}
	return h, nil
}

// withWeb serves the API under its prefix and the pages everywhere else.
func withWeb(apiHandler http.Handler, pages http.Handler) http.Handler {
	if pages == nil {
		return apiHandler
	}
	mux := http.NewServeMux()
	mux.Handle(api.Prefix+"/", apiHandler)
	mux.Handle("/", pages)
	return mux
}

// webURL is the pages' public address for links in Discord, "" for none.
func (a *App) webURL() string {
	if !a.Config.Web.Enabled {
		return ""
	}
	return strings.TrimRight(a.Config.Web.PublicURL, "/")
}

// runSnapshots records the status snapshots the pages' charts draw, once
// a minute, until ctx ends.
func (a *App) runSnapshots(ctx context.Context) {
	if !a.Config.Web.Enabled {
		return
	}
	rec := web.NewRecorder(a.Horde, a.Store, a.Clock, a.Log.With("component", "web"), time.Duration(a.Config.Web.History))
	if err := rec.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		a.Log.Error("status snapshots stopped", "err", err)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/filter"
	"github.com/hordebot/hordebot/horde/imagecheck"
	"github.com/hordebot/hordebot/horde/web"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/kudos/schedule"
	"github.com/hordebot/hordebot/store"
)

// App is the wired process: store, horde, kudos engine and the HTTP API. It
// is what `run`, `api` and `demo` start, and what end-to-end tests boot.
type App struct {
	Config Config
	Log    *slog.Logger
	Clock  horde.Clock
	Store  *store.Store
	Horde  *horde.Horde
	Filter *filter.Filter // the prompt filter Horde applies; /mod filter test uses it too
	Kudos  *kudos.Engine
	// Ratings rates shared images: the API's /generate/rate and the shared posts' buttons.
	Ratings *horde.Ratings
	API     http.Handler // the AI Horde API, and the web pages outside its prefix when they are on
	Web     *web.Handler // the web pages; nil when web.enabled is off
	// Previews are the workers' live previews (hordebot's extension), which
	// the API takes and serves, the bot's progress edits and the request
	// page show.
	Previews *horde.Previews
	// Events carries the horde's events (a request finished) to the bot's
	// result watchers; on PostgreSQL Serve relays every process's
	// (events.go).
	Events *horde.EventHub

	// hooks lets the bot, built after the engine, receive the engine's
	// callbacks (leaderboard posts, role lookups for recurring kudos).
	hooks *kudosHooks
	// metrics is nil unless metrics_listen is set (metrics.go).
	metrics *appMetrics
	// webhooks calls requests' webhooks in the background.
	webhooks *api.Webhooks

	// leaseEvery is how often Serve's leases are tried for and pinged
	// (store.DefaultLeaseEvery when 0; tests shorten it).
	leaseEvery time.Duration
	// noKudosSchedules keeps this process out of the kudos schedules'
	// lease (an `api` process with api.kudos_schedules off).
	noKudosSchedules bool

	listener net.Listener
	server   *http.Server
	wg       sync.WaitGroup
}

// OpenApp opens the store and builds the services of a scheduler (`run`,
// `api`, `demo`). On PostgreSQL the horde runs on the store's shared queue
// (store.Store.SharedQueue), so that several `run` and `api` processes on
// one database serve one queue. Close releases them.
// Admin commands open the same App.
func OpenApp(ctx context.Context, cfg Config, log *slog.Logger, clock horde.Clock) (*App, error) {
	if clock == nil {
		clock = horde.SystemClock{}
	}
	st, err := cfg.openStore(ctx, clock, log)
	if err != nil {
		return nil, err
	}
	pf, err := promptFilter(cfg.Filter)
	if err != nil {
		st.Close()
		return nil, err
	}
	models, err := loadModelReference(ctx, cfg.Models, cfg.Data, nil, log)
	if err != nil {
		st.Close()
		return nil, err
	}
	hooks := &kudosHooks{}
	webhooks := api.NewWebhooks(api.WebhookOptions{BaseURL: cfg.API.PublicURL, AllowPrivate: cfg.API.WebhooksAllowPrivate, Logger: log})
	hcfg := horde.Config{
		Models:               models,
		StepLimits:           models.StepLimits,
		OnGeneration:         webhooks.Notify,
		Clock:                clock,
		Logger:               log,
		Filter:               pf,
		CheckImage:           imagecheck.ForHorde,
		Payments:             cfg.Payments(),
		Concurrency:          cfg.Horde.Concurrency,
		AnonymousConcurrency: cfg.Horde.AnonymousConcurrency,
		DropsForMaintenance:  cfg.Horde.DropsForMaintenance,
		OnModeration:         hooks.moderation,
		Moderation: horde.ModerationConfig{
			CSAMThreshold:     cfg.Moderation.CSAMThreshold,
			CensoredThreshold: cfg.Moderation.CensoredThreshold,
			RefusedThreshold:  cfg.Moderation.RefusedThreshold,
			ReportersToFlag:   cfg.Moderation.ReportersToFlag,
		},
		Trust: horde.TrustConfig{
			TrustAfterKudos:            cfg.Moderation.TrustAfterKudos,
			TrustMinAge:                time.Duration(cfg.Moderation.TrustMinAge),
			MaxMegapixelStepsPerSecond: cfg.Moderation.MaxMegapixelStepsPerSecond,
			SuspicionThreshold:         cfg.Moderation.SuspicionThreshold,
			MaxWorkersUntrusted:        cfg.Moderation.MaxWorkersUntrusted,
			MaxWorkersTrusted:          cfg.Moderation.MaxWorkersTrusted,
		},
	}
	hcfg.Queue = st.SharedQueue() // nil on SQLite: the queue is this process's memory
	events := horde.NewEventHub()
	hcfg.Events = events
	hordeResults(cfg.Results, st, &hcfg)
	h, err := horde.New(ctx, st, hcfg)
	if err != nil {
		webhooks.Close()
		st.Close()
		return nil, fmt.Errorf("start horde: %w", err)
	}
	kcfg, err := kudosConfig(cfg)
	if err != nil {
		webhooks.Close()
		st.Close()
		return nil, err
	}
	for old, key := range cfg.DeprecatedKeys() {
		log.Warn("deprecated config key: use "+key+" (the values are merged)", "key", old)
	}
	k, err := kudos.New(st, kcfg, clock, kudos.WithLogger(log), kudos.WithHeld(h.Held), kudos.WithMembers(hooks), kudos.WithOnLeaderboard(hooks.leaderboard), kudos.WithOnArtTally(hooks.artTally))
	if err != nil {
		webhooks.Close()
		st.Close()
		return nil, fmt.Errorf("start kudos engine: %w", err)
	}
	a := &App{Config: cfg, Log: log, Clock: clock, Store: st, Horde: h, Filter: pf, Kudos: k, hooks: hooks, webhooks: webhooks, Events: events,
		Ratings:  horde.NewRatings(h, st, horde.RatingConfig{DailyCap: cfg.API.RatingDailyCap}),
		Previews: horde.NewPreviews(h, st, horde.PreviewConfig{Check: imagecheck.Preview})}
	timeouts, err := horde.NewIPTimeouts(ctx, st, clock)
	if err != nil {
		webhooks.Close()
		st.Close()
		return nil, err
	}
	modes, err := horde.NewModes(ctx, st)
	if err != nil {
		webhooks.Close()
		st.Close()
		return nil, err
	}
	lists, err := filterLists(cfg.Filter)
	if err != nil {
		webhooks.Close()
		st.Close()
		return nil, err
	}
	opt := api.Options{
		Models:         models,
		Styles:         st,
		BaseURL:        cfg.API.PublicURL,
		Transfers:      transferer{k},
		Awards:         k,
		IPTimeouts:     timeouts,
		Filter:         pf,
		FilterLists:    lists,
		Ratings:        a.Ratings,
		SharedKeys:     horde.NewSharedKeys(h, st),
		Teams:          horde.NewTeams(h, st),
		Modes:          modes,
		Previews:       a.Previews,
		Logger:         log,
		MaxBodyBytes:   int64(cfg.API.MaxBodyMiB) << 20,
		KeyLimit:       api.RateLimit{Rate: rate.Limit(cfg.API.RatePerKey), Burst: cfg.API.BurstPerKey},
		IPLimit:        api.RateLimit{Rate: rate.Limit(cfg.API.RatePerIP), Burst: cfg.API.BurstPerIP},
		ClientIPHeader: cfg.API.ClientIPHeader,
		Clock:          clock,
		Version:        version,
	}
	switch cfg.API.AlchemySourceURLs {
	case "off":
		opt.SourceURLs = api.SourceURLsOff
	case "private":
		opt.SourceAddrAllowed = func(a netip.Addr) bool { return a.IsValid() && !a.IsUnspecified() && !a.IsMulticast() }
	}
	if cfg.MetricsListen != "" {
		if a.metrics, err = newAppMetrics(h, k); err != nil {
			webhooks.Close()
			st.Close()
			return nil, err
		}
		opt.Metrics = a.metrics.reg
	}
	a.API = api.New(h, opt)
	if a.Web, err = a.webHandler(); err != nil {
		webhooks.Close()
		st.Close()
		return nil, err
	}
	if a.Web != nil {
		a.API = withWeb(a.API, a.Web)
	}
	return a, nil
}

// promptFilter builds the prompt filter from the built-in lists, each
// replaced by the configured file when one is named.
func promptFilter(fc FilterConfig) (*filter.Filter, error) {
	lists, err := filter.Lists{
		Minors: assets.FilterMinors, Sexual: assets.FilterSexual, NSFW: assets.FilterNSFW, Negative: assets.FilterNegative,
		Languages: assets.FilterLanguages(),
	}.WithFiles(filter.Files{Minors: fc.Minors, Sexual: fc.Sexual, NSFW: fc.NSFW, Negative: fc.Negative})
	if err != nil {
		return nil, fmt.Errorf("config filter: %w", err)
	}
	f, err := filter.New(lists, filter.Options{RewriteNSFW: fc.RewriteNSFW, NSFWModels: fc.NSFWModels})
	if err != nil {
		return nil, fmt.Errorf("build prompt filter: %w", err)
	}
	return f, nil
}

// filterLists are the prompt filter's English lists as GET /filters shows
// them: one term a line, comments and blank lines left out.
func filterLists(fc FilterConfig) ([]api.FilterList, error) {
	lists, err := filter.Lists{Minors: assets.FilterMinors, Sexual: assets.FilterSexual, NSFW: assets.FilterNSFW}.
		WithFiles(filter.Files{Minors: fc.Minors, Sexual: fc.Sexual, NSFW: fc.NSFW})
	if err != nil {
		return nil, fmt.Errorf("config filter: %w", err)
	}
	terms := func(b []byte) []string {
		var out []string
		for _, line := range strings.Split(string(b), "\n") {
			line, _, _ = strings.Cut(line, "#")
			if line = strings.TrimSpace(line); line != "" {
				out = append(out, line)
			}
		}
		return out
	}
	return []api.FilterList{
		{Type: aihorde.FilterTypeMinors, Name: "minors", Terms: terms(lists.Minors)},
		{Type: aihorde.FilterTypeSexual, Name: "sexual", Terms: terms(lists.Sexual)},
		{Type: aihorde.FilterTypeNSFW, Name: "nsfw", Terms: terms(lists.NSFW)},
	}, nil
}

// Listen binds the API address and, when metrics_listen is set, the
// metrics address (":0" picks a free port; see Addr and MetricsAddr).
func (a *App) Listen() error {
	ln, err := net.Listen("tcp", a.Config.API.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Config.API.Listen, err)
	}
	if a.metrics != nil && a.metrics.listener == nil {
		if err := a.metrics.listen(a.Config.MetricsListen); err != nil {
			ln.Close()
			return err
		}
	}
	a.listener = api.LimitListener(ln, a.Config.API.MaxConns, a.Config.API.MaxConnsPerIP)
	return nil
}

// Addr is the bound API address, after Listen.
func (a *App) Addr() string { return a.listener.Addr().String() }

// MetricsAddr is the bound metrics address after Listen, or "" when
// metrics_listen is not set.
func (a *App) MetricsAddr() string {
	if a.metrics == nil || a.metrics.listener == nil {
		return ""
	}
	return a.metrics.listener.Addr().String()
}

// Serve runs the API, the metrics server (when metrics_listen is set), the
// horde's sweeps, the kudos schedules and the store's retention until ctx
// ends, then drains: the HTTP servers stop taking requests and finish those
// in flight.
func (a *App) Serve(ctx context.Context) error {
	if a.listener == nil {
		if err := a.Listen(); err != nil {
			return err
		}
	}
	a.server = api.NewHTTPServer(a.API, api.ServerOptions{
		ErrorLog: slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	})
	sweepCtx, stopSweeps := context.WithCancel(context.Background())
	// What several processes on one database must do once runs under a
	// lease (leases.go); what each does for its own memory runs here.
	leases := a.Store.Leases(store.LeaseOptions{Every: a.leaseEvery, Logger: a.Log})
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := a.Horde.RunLocal(sweepCtx); err != nil && !errors.Is(err, context.Canceled) {
			a.Log.Error("horde sweeps stopped", "err", err)
		}
	}()
	if a.Store.SharedQueue() != nil {
		a.goLeased(sweepCtx, leases, leaseSweeps, a.Horde.RunShared)
	}
	if !a.noKudosSchedules {
		a.goLeased(sweepCtx, leases, leaseKudosSchedules, func(ctx context.Context) error {
			return schedule.Run(ctx, a.Kudos, a.Log)
		})
	}
	// The store's own housekeeping: results past their retention, image
	// files no row names. Neither a scheduling nor a payment rule, so it
	// runs beside the horde's sweeps and the kudos schedules, not in them.
	a.goLeased(sweepCtx, leases, leaseRetention, func(ctx context.Context) error {
		return a.Store.RunRetention(ctx, a.Config.Retention.Store())
	})
	if a.Config.Web.Enabled {
		a.goLeased(sweepCtx, leases, leaseWebSnapshots, func(ctx context.Context) error {
			a.runSnapshots(ctx)
			return nil
		})
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.relayEvents(sweepCtx)
	}()
	errc := make(chan error, 2)
	go func() { errc <- a.server.Serve(a.listener) }()
	a.Log.Info("api listening", "addr", a.Addr(), "public_url", a.Config.API.PublicURL)
	if a.metrics != nil {
		a.metrics.startServer(a.Log, errc)
	}

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	a.Log.Info("draining")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if serr := a.server.Shutdown(shutCtx); serr != nil {
		err = errors.Join(err, fmt.Errorf("http shutdown: %w", serr))
	}
	if a.metrics != nil {
		err = errors.Join(err, a.metrics.shutdown(shutCtx))
	}
	stopSweeps()
	a.wg.Wait()
	if lerr := leases.Close(); lerr != nil {
		err = errors.Join(err, fmt.Errorf("close leases: %w", lerr))
	}
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close closes the store (and a metrics listener bound but never served).
// Call it after Serve returned.
func (a *App) Close() error {
	a.webhooks.Close()
	var err error
	if a.metrics != nil && a.metrics.server == nil {
		err = a.metrics.shutdown(context.Background())
	}
	return errors.Join(err, a.Store.Close())
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// metricsTimeout bounds one scrape's reads of the horde.
const metricsTimeout = 5 * time.Second

// appMetrics is the process's Prometheus registry (its own, not the global
// one: only what is registered here is served) and the bot's interaction
// counter, fed by bot.Config.InteractionDone.
type appMetrics struct {
	reg          *prometheus.Registry
	interactions *prometheus.CounterVec
	listener     net.Listener
	server       *http.Server
}

// newAppMetrics builds the registry: the Go runtime and process collectors,
// the build info, the horde and kudos collector (read at scrape time), and
// the bot's interaction counter. The API registers its own request metrics
// on reg (api.Options.Metrics).
func newAppMetrics(h *horde.Horde, k *kudos.Engine) (*appMetrics, error) {
	reg := prometheus.NewRegistry()
	interactions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hordebot_bot_interactions_total",
		Help: "Discord interactions handled, by kind (command, component, autocomplete, modal), command name or button prefix, and outcome (ok, refused, error).",
	}, []string{"kind", "name", "outcome"})
	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "hordebot_build_info",
		Help:        "Always 1; the version label is the running build's.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	buildInfo.Set(1)
	for _, c := range []prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		buildInfo,
		interactions,
		newHordeCollector(h, k),
	} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register metrics: %w", err)
		}
	}
	return &appMetrics{reg: reg, interactions: interactions}, nil
}

// interactionDone is the bot's InteractionDone hook.
func (m *appMetrics) interactionDone(kind, name string, outcome bot.Outcome) {
	m.interactions.WithLabelValues(kind, name, string(outcome)).Inc()
}

// listen binds the metrics address.
func (m *appMetrics) listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen for metrics on %s: %w", addr, err)
	}
	m.listener = ln
	return nil
}

// startServer builds the server answering /metrics on the bound listener
// and serves it in the background; its end (an error, or nil after
// shutdown) is sent on done.
func (m *appMetrics) startServer(log *slog.Logger, done chan<- error) {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandling:     promhttp.ContinueOnError, // a failed collector must not hide the others
		Registry:          m.reg,                    // counts failed scrapes in promhttp_metric_handler_errors_total
		Timeout:           2 * metricsTimeout,
		EnableOpenMetrics: true,
	}))
	m.server = &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	srv, ln := m.server, m.listener
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		if err != nil {
			err = fmt.Errorf("serve metrics: %w", err)
		}
		done <- err
	}()
	log.Info("metrics listening", "addr", ln.Addr().String())
}

// shutdown stops the metrics server, finishing a scrape in flight. A
// listener bound but never served is closed.
func (m *appMetrics) shutdown(ctx context.Context) error {
	if m.server == nil {
		if m.listener != nil {
			return m.listener.Close()
		}
		return nil
	}
	if err := m.server.Shutdown(ctx); err != nil {
		return fmt.Errorf("metrics shutdown: %w", err)
	}
	return nil
}

// hordeCollector reads the horde and the kudos engine at scrape time: the
// queue and the online workers (horde.Performance), and the counters of what
// they have done (horde.Stats, kudos.Stats). Nothing is kept in between, so
// a scrape costs one Performance call and two atomic snapshots.
type hordeCollector struct {
	h *horde.Horde
	k *kudos.Engine

	queued, workers, threads                     *prometheus.Desc
	queuedMPS, queuedTokens, pastMPS, pastTokens *prometheus.Desc
	requestsSubmitted, requestsFinished          *prometheus.Desc
	jobsPopped, jobsFinished                     *prometheus.Desc
	kudosRewarded, kudosCharged                  *prometheus.Desc
	awards, moderatorAwards, moderatorKudos      *prometheus.Desc
	transfers, kudosTransferred                  *prometheus.Desc
}

var _ prometheus.Collector = (*hordeCollector)(nil)

func newHordeCollector(h *horde.Horde, k *kudos.Engine) *hordeCollector {
	kind := []string{"kind"}
	return &hordeCollector{
		h: h, k: k,
		queued: prometheus.NewDesc("hordebot_queue_requests",
			"Requests with items waiting for a worker, by kind (image, text).", kind, nil),
		queuedMPS: prometheus.NewDesc("hordebot_queue_megapixelsteps",
			"Image work waiting in the queue, in megapixel-steps.", nil, nil),
		queuedTokens: prometheus.NewDesc("hordebot_queue_tokens",
			"Text work waiting in the queue, in tokens.", nil, nil),
		pastMPS: prometheus.NewDesc("hordebot_past_minute_megapixelsteps",
			"Image work finished in the past minute, in megapixel-steps.", nil, nil),
		pastTokens: prometheus.NewDesc("hordebot_past_minute_tokens",
			"Text work finished in the past minute, in tokens.", nil, nil),
		workers: prometheus.NewDesc("hordebot_workers_online",
			"Workers that popped within the stale window, by kind.", kind, nil),
		threads: prometheus.NewDesc("hordebot_worker_threads_online",
			"Threads of the online workers, by kind.", kind, nil),
		requestsSubmitted: prometheus.NewDesc("hordebot_requests_submitted_total",
			"Requests accepted and queued since the process started, by kind.", kind, nil),
		requestsFinished: prometheus.NewDesc("hordebot_requests_finished_total",
			"Requests that reached a final state since the process started, by kind and state (done, faulted, cancelled).",
			[]string{"kind", "state"}, nil),
		jobsPopped: prometheus.NewDesc("hordebot_jobs_popped_total",
			"Jobs handed to workers since the process started, by kind.", kind, nil),
		jobsFinished: prometheus.NewDesc("hordebot_jobs_finished_total",
			"Jobs ended since the process started, by kind and state (done; faulted or aborted, re-queued).",
			[]string{"kind", "state"}, nil),
		kudosRewarded: prometheus.NewDesc("hordebot_kudos_rewarded_total",
			"Kudos earned by worker owners for finished jobs since the process started, by kind.", kind, nil),
		kudosCharged: prometheus.NewDesc("hordebot_kudos_charged_total",
			"Kudos paid by requesters for finished jobs since the process started, by kind.", kind, nil),
		awards: prometheus.NewDesc("hordebot_kudos_awards_total",
			"Reaction and thanks awards since the process started, by state (recorded, refused, settled, revoked).",
			[]string{"state"}, nil),
		moderatorAwards: prometheus.NewDesc("hordebot_kudos_moderator_awards_total",
			"Moderator awards paid since the process started.", nil, nil),
		moderatorKudos: prometheus.NewDesc("hordebot_kudos_moderator_awarded_total",
			"Kudos paid by moderator awards since the process started.", nil, nil),
		transfers: prometheus.NewDesc("hordebot_kudos_transfers_total",
			"Member-to-member kudos transfers since the process started.", nil, nil),
		kudosTransferred: prometheus.NewDesc("hordebot_kudos_transferred_total",
			"Kudos moved by member-to-member transfers since the process started.", nil, nil),
	}
}

// Describe sends every metric's description.
func (c *hordeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.queued, c.workers, c.threads, c.queuedMPS, c.queuedTokens, c.pastMPS, c.pastTokens,
		c.requestsSubmitted, c.requestsFinished, c.jobsPopped, c.jobsFinished,
		c.kudosRewarded, c.kudosCharged,
		c.awards, c.moderatorAwards, c.moderatorKudos, c.transfers, c.kudosTransferred,
	} {
		ch <- d
	}
}

// Collect reads the horde and the kudos engine and sends the metrics.
func (c *hordeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), metricsTimeout)
	defer cancel()
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}

	if p, err := c.h.Performance(ctx); err != nil {
		for _, d := range []*prometheus.Desc{c.queued, c.workers, c.threads, c.queuedMPS, c.queuedTokens, c.pastMPS, c.pastTokens} {
			ch <- prometheus.NewInvalidMetric(d, fmt.Errorf("horde performance: %w", err))
		}
	} else {
		img, txt := string(horde.KindImage), string(horde.KindText)
		gauge(c.queued, float64(p.QueuedRequests), img)
		gauge(c.queued, float64(p.QueuedTextRequests), txt)
		gauge(c.queuedMPS, p.QueuedMegapixelsteps)
		gauge(c.queuedTokens, p.QueuedTokens)
		gauge(c.pastMPS, p.PastMinuteMegapixelsteps)
		gauge(c.pastTokens, p.PastMinuteTokens)
		gauge(c.workers, float64(p.WorkerCount), img)
		gauge(c.workers, float64(p.TextWorkerCount), txt)
		gauge(c.threads, float64(p.ThreadCount), img)
		gauge(c.threads, float64(p.TextThreadCount), txt)
	}

	st := c.h.Stats()
	for kind, s := range map[horde.RequestKind]horde.KindStats{horde.KindImage: st.Image, horde.KindText: st.Text} {
		k := string(kind)
		counter(c.requestsSubmitted, s.RequestsSubmitted, k)
		counter(c.requestsFinished, s.RequestsDone, k, "done")
		counter(c.requestsFinished, s.RequestsFaulted, k, "faulted")
		counter(c.requestsFinished, s.RequestsCancelled, k, "cancelled")
		counter(c.jobsPopped, s.JobsPopped, k)
		counter(c.jobsFinished, s.JobsDone, k, "done")
		counter(c.jobsFinished, s.JobsFaulted, k, "faulted")
		counter(c.jobsFinished, s.JobsAborted, k, "aborted")
		counter(c.kudosRewarded, s.KudosRewarded, k)
		counter(c.kudosCharged, s.KudosCharged, k)
	}

	ks := c.k.Stats()
	counter(c.awards, ks.AwardsRecorded, "recorded")
	counter(c.awards, ks.AwardsRefused, "refused")
	counter(c.awards, ks.AwardsSettled, "settled")
	counter(c.awards, ks.AwardsRevoked, "revoked")
	counter(c.moderatorAwards, ks.ModeratorAwards)
	counter(c.moderatorKudos, ks.ModeratorKudos)
	counter(c.transfers, ks.Transfers)
	counter(c.kudosTransferred, ks.KudosTransferred)
}

package api

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// Webhooks: a request's webhook (an https URL) is told of each finished
// generation, as the AI Horde does: a POST of the generation's JSON, from a
// bounded queue (a full queue drops the delivery), off the submit path,
// with a 3 s timeout and 3 tries. The target's host is resolved and every
// address checked: loopback, private, link-local, CGNAT, multicast and
// unspecified addresses are refused unless AllowPrivate, and the request is
// dialled to the checked address, so that a DNS answer that changes between
// the check and the dial (rebinding) cannot reach inside. Redirects are not
// followed.

// Webhook defaults, as on the AI Horde.
const (
	DefaultWebhookQueue   = 256
	DefaultWebhookTimeout = 3 * time.Second
	DefaultWebhookTries   = 3
)

// WebhookOptions configure Webhooks. Zero values take the defaults.
type WebhookOptions struct {
	// BaseURL is the public URL of the API, for the image links.
	BaseURL string
	// AllowPrivate lets webhooks reach loopback and private addresses (a
	// horde on a private network; tests).
	AllowPrivate bool
	QueueSize    int
	Timeout      time.Duration
	Tries        int
	// TLSConfig, if set, is the client's TLS configuration (tests trust
	// their own server's certificate with it).
	TLSConfig *tls.Config
	Logger    *slog.Logger
}

// Webhooks delivers webhook calls in the background. Create it with
// NewWebhooks; Close stops it.
type Webhooks struct {
	opt    WebhookOptions
	client *http.Client
	q      chan delivery
	stop   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once

	delivered, failed, dropped atomic.Int64
}

// delivery is one queued webhook call.
type delivery struct {
	url  string
	body []byte
}

// NewWebhooks starts the webhook sender.
func NewWebhooks(opt WebhookOptions) *Webhooks {
	if opt.QueueSize <= 0 {
		opt.QueueSize = DefaultWebhookQueue
	}
	if opt.Timeout <= 0 {
		opt.Timeout = DefaultWebhookTimeout
	}
	if opt.Tries <= 0 {
		opt.Tries = DefaultWebhookTries
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	wh := &Webhooks{opt: opt, q: make(chan delivery, opt.QueueSize), stop: make(chan struct{})}
	dialer := &net.Dialer{Timeout: opt.Timeout}
	wh.client = &http.Client{
		Timeout: opt.Timeout,
		Transport: &http.Transport{
			Proxy:               nil, // a proxy would dial for us, unchecked
			DialContext:         wh.dialChecked(dialer),
			TLSClientConfig:     opt.TLSConfig,
			TLSHandshakeTimeout: opt.Timeout,
			MaxIdleConns:        16,
			IdleConnTimeout:     30 * time.Second,
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	wh.wg.Add(1)
	go wh.run()
	return wh
}

// Close stops the sender; queued deliveries not yet sent are dropped.
func (wh *Webhooks) Close() {
	wh.once.Do(func() { close(wh.stop) })
	wh.wg.Wait()
}

// WebhookStats counts deliveries.
type WebhookStats struct{ Delivered, Failed, Dropped int64 }

// Stats returns the deliveries so far.
func (wh *Webhooks) Stats() WebhookStats {
	return WebhookStats{Delivered: wh.delivered.Load(), Failed: wh.failed.Load(), Dropped: wh.dropped.Load()}
}

// Notify queues the webhook call of a finished generation of req (if req
// has a webhook) and returns at once; a full queue drops it. It is the
// horde's Config.OnGeneration.
func (wh *Webhooks) Notify(_ context.Context, req horde.Request, g horde.Generation, kudos int64) {
	if req.WebhookURL() == "" {
		return
	}
	var v any
	if req.Kind == horde.KindText {
		v = aihorde.TextWebhook{Request: req.ID, Kudos: float64(kudos), TextGeneration: aihorde.TextGeneration{
			Text: g.Text, Seed: g.Seed, ID: g.JobID, WorkerID: g.WorkerID, WorkerName: g.WorkerName, Model: g.Model,
			State: g.State, GenMetadata: metadataOut(g.Metadata)}}
	} else {
		ig := aihorde.ImageGeneration{Seed: strconv.FormatInt(g.Seed, 10), ID: g.JobID,
			Censored: g.State == horde.ResultCensored || g.State == horde.ResultCSAM, WorkerID: g.WorkerID,
			WorkerName: g.WorkerName, Model: g.Model, State: g.State, GenMetadata: metadataOut(g.Metadata)}
		if g.State == horde.ResultCSAM {
			ig.State = horde.ResultCensored
		} else if g.BlobRef != "" {
			ig.Img = resultURL(wh.opt.BaseURL, g.BlobRef)
		}
		v = aihorde.ImageWebhook{ImageGeneration: ig, Request: req.ID, Kudos: float64(kudos)}
	}
	body, err := json.Marshal(v)
	if err != nil {
		wh.opt.Logger.Error("encode webhook", "request", req.ID, "err", err)
		return
	}
	select {
	case wh.q <- delivery{url: req.WebhookURL(), body: body}:
	default:
		wh.dropped.Add(1)
		wh.opt.Logger.Warn("webhook queue full; delivery dropped", "request", req.ID, "job", g.JobID)
	}
}

func (wh *Webhooks) run() {
	defer wh.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-wh.stop
		cancel()
	}()
	for {
		select {
		case <-wh.stop:
			return
		case d := <-wh.q:
			if err := wh.Send(ctx, d.url, d.body); err != nil {
				wh.failed.Add(1)
				wh.opt.Logger.Info("webhook not delivered", "err", err)
			} else {
				wh.delivered.Add(1)
			}
		}
	}
}

// Send POSTs body to target now, with up to Tries tries; an answer other
// than 2xx is a failed try. A target that is not https, or whose host
// resolves to an address that is not allowed, fails without a request.
func (wh *Webhooks) Send(ctx context.Context, target string, body []byte) error {
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return fmt.Errorf("webhook %s: not an https URL", horde.QuoteInput(target))
	}
	var last error
	for try := 0; try < wh.opt.Tries; try++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("webhook: %w", err)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := wh.client.Do(req)
		if err != nil {
			last = err
			if errors.Is(err, errWebhookAddress) {
				return err // another try resolves to the same answer
			}
			continue
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		res.Body.Close()
		if res.StatusCode >= 200 && res.StatusCode < 300 {
			return nil
		}
		last = fmt.Errorf("webhook answered %d", res.StatusCode)
	}
	return fmt.Errorf("webhook %s after %d tries: %w", u.Host, wh.opt.Tries, last)
}

// errWebhookAddress is a webhook host that resolves to a refused address.
var errWebhookAddress = errors.New("webhook address not allowed")

// dialChecked resolves the host, checks every address and dials a checked one.
func (wh *Webhooks) dialChecked(d *net.Dialer) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("resolve webhook host: %w", err)
		}
		if len(ips) == 0 {
			return nil, fmt.Errorf("resolve webhook host %s: no address", host)
		}
		for _, ip := range ips {
			if !wh.opt.AllowPrivate && !publicAddr(ip) {
				return nil, fmt.Errorf("%w: %s resolves to %s", errWebhookAddress, host, ip)
			}
		}
		var last error
		for _, ip := range ips {
			c, err := d.DialContext(ctx, network, net.JoinHostPort(ip.Unmap().String(), port))
			if err == nil {
				return c, nil
			}
			last = err
		}
		return nil, last
	}
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// publicAddr reports whether a webhook may reach ip: not loopback, private,
// link-local, CGNAT, multicast or unspecified.
func publicAddr(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && !ip.IsLoopback() && !ip.IsPrivate() && !ip.IsLinkLocalUnicast() &&
		!ip.IsLinkLocalMulticast() && !ip.IsInterfaceLocalMulticast() && !ip.IsMulticast() &&
		!ip.IsUnspecified() && !cgnat.Contains(ip)
}

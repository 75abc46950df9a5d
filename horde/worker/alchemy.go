package worker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// The alchemist: a worker of the AI Horde's type "interrogation", which
// pops alchemy forms (a caption, an interrogation, an nsfw verdict, a
// post-processor) from /interrogate/pop, runs them on an AlchemyBackend and
// submits each form's result to /interrogate/submit, as AI-Horde-Worker's
// alchemist does: a post-processor's image is PUT to the form's r2_upload
// and submitted as "R2" (inline base64 when the form has no r2_upload or
// the PUT fails), a text form's result is the JSON value under the form's
// name, and a form the backend fails is submitted as "faulted" so that the
// horde re-queues it at once.

// Defaults of AlchemistConfig.
const (
	DefaultAlchemyMaxTiles = aihorde.DefaultMaxTiles
	// maxAlchemySourceBytes bounds a downloaded source image (the AI
	// Horde's 5 MB and some: the horde may re-encode it).
	maxAlchemySourceBytes = 20 << 20
)

// AlchemyBackend runs alchemy forms. Implementations must be safe for
// concurrent use, honour ctx (it ends at the form's TTL) and return an
// error, never a zero result, when they cannot do the form.
type AlchemyBackend interface {
	// Forms are the forms the backend can do, as the pop announces them.
	Forms() []string
	// Alchemize runs one form on the job's source image.
	Alchemize(ctx context.Context, job AlchemyJob) (AlchemyResult, error)
}

// AlchemyJob is one popped form, as a backend sees it.
type AlchemyJob struct {
	ID      string
	Form    string            // an aihorde Form* name
	Payload map[string]string // the request's form payload, as sent
	// Source is the source image's bytes (any format image.Decode knows,
	// usually WebP).
	Source []byte
	TTL    time.Duration
}

// AlchemyResult is a backend's output for one form.
type AlchemyResult struct {
	// Value is a text form's result: a string (caption), an
	// aihorde.InterrogationDetails (interrogation) or a bool (nsfw).
	Value any
	// Image is a post-processor's encoded image (WebP); ContentType its
	// type, "image/webp" when empty.
	Image       []byte
	ContentType string
}

// AlchemistConfig configures RunAlchemist. Zero values take the defaults.
type AlchemistConfig struct {
	BaseURL string
	APIKey  string
	Name    string
	// Forms are the forms to offer; empty offers every form the backend
	// can do. A form the backend cannot do is an error.
	Forms []string
	// MaxTiles is the most 512x512 tiles of an image the worker takes
	// (the AI Horde's max_tiles, 1..256, default 16).
	MaxTiles int
	// Threads is the number of forms run at once; Amount how many forms a
	// pop asks for (default Threads).
	Threads     int
	Amount      int
	Backend     AlchemyBackend
	PopInterval time.Duration
	// SubmitTimeout bounds uploading and submitting one result.
	SubmitTimeout time.Duration
	Contact       string
	HTTPClient    *http.Client
	Retry         RetryPolicy
	Logger        *slog.Logger
}

func (c AlchemistConfig) withDefaults() (AlchemistConfig, error) {
	var errs []error
	if strings.TrimSpace(c.BaseURL) == "" {
		errs = append(errs, errors.New("BaseURL is empty"))
	}
	if strings.TrimSpace(c.Name) == "" {
		errs = append(errs, errors.New("Name is empty"))
	}
	if c.Backend == nil {
		errs = append(errs, errors.New("Backend is nil"))
	} else {
		can := c.Backend.Forms()
		if len(c.Forms) == 0 {
			c.Forms = slices.Clone(can)
		}
		for _, f := range c.Forms {
			if !slices.Contains(can, f) {
				errs = append(errs, fmt.Errorf("form %q: the backend cannot do it (it does %s)", f, strings.Join(can, ", ")))
			}
		}
		if len(c.Forms) == 0 {
			errs = append(errs, errors.New("the backend offers no form"))
		}
	}
	if c.MaxTiles < 0 || c.MaxTiles > aihorde.MaxWorkerTiles {
		errs = append(errs, fmt.Errorf("MaxTiles %d: want 1..%d", c.MaxTiles, aihorde.MaxWorkerTiles))
	}
	if c.Threads < 0 || c.Threads > MaxThreads {
		errs = append(errs, fmt.Errorf("Threads %d: want 1..%d", c.Threads, MaxThreads))
	}
	if c.Amount < 0 || c.Amount > aihorde.MaxPopAmount {
		errs = append(errs, fmt.Errorf("Amount %d: want 1..%d", c.Amount, aihorde.MaxPopAmount))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("alchemist config: %w", err)
	}
	if c.MaxTiles == 0 {
		c.MaxTiles = DefaultAlchemyMaxTiles
	}
	if c.Threads == 0 {
		c.Threads = 1
	}
	if c.Amount == 0 {
		c.Amount = c.Threads
	}
	if c.PopInterval <= 0 {
		c.PopInterval = DefaultPopInterval
	}
	if c.SubmitTimeout <= 0 {
		c.SubmitTimeout = DefaultSubmitTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Retry = c.Retry.withDefaults()
	return c, nil
}

// RunAlchemist is the alchemist loop: it pops up to Amount forms, runs them
// Threads at a time, submits each, and pops again; a pop that finds nothing
// waits PopInterval, a failing one backs off. When ctx ends it stops
// popping, finishes and submits the forms in flight and returns nil. It
// returns an error for a bad config, or ErrUnauthorized when the horde
// refuses the key.
func RunAlchemist(ctx context.Context, cfg AlchemistConfig) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	client, err := NewClient(ClientConfig{
		BaseURL: cfg.BaseURL, APIKey: cfg.APIKey, Contact: cfg.Contact,
		HTTPClient: cfg.HTTPClient, Retry: cfg.Retry, Logger: cfg.Logger,
	})
	if err != nil {
		return fmt.Errorf("alchemist: %w", err)
	}
	a := &alchemist{cfg: cfg, client: client, log: cfg.Logger.With("worker", cfg.Name, "kind", "alchemy")}
	a.health = newHealthOf(cfg.Backend, a.log)
	a.log.Info("alchemist starting", "url", cfg.BaseURL, "forms", cfg.Forms, "max_tiles", cfg.MaxTiles,
		"threads", cfg.Threads, "agent", client.Agent())

	failures := 0
	for ctx.Err() == nil {
		if ok, wait := a.health.ready(ctx); !ok {
			_ = sleepCtx(ctx, wait)
			continue
		}
		forms, err := a.pop(ctx)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if StatusOf(err) == http.StatusUnauthorized {
				a.log.Error("pop refused: bad API key; stopping", "err", err)
				return fmt.Errorf("%w: %w", ErrUnauthorized, err)
			}
			failures++
			wait := min(maxPopBackoff, max(cfg.PopInterval, cfg.Retry.backoff(failures)))
			a.log.Warn("pop failed", "err", err, "failures", failures, "wait", wait)
			_ = sleepCtx(ctx, wait)
			continue
		}
		failures = 0
		if len(forms) == 0 {
			_ = sleepCtx(ctx, cfg.PopInterval)
			continue
		}
		a.runAll(ctx, forms)
	}
	a.log.Info("alchemist stopped")
	return nil
}

// alchemist is one RunAlchemist's state.
type alchemist struct {
	cfg    AlchemistConfig
	client *Client
	log    *slog.Logger
	health *health
}

// pop asks for forms.
func (a *alchemist) pop(ctx context.Context) ([]aihorde.InterrogationPopForm, error) {
	resp, err := a.client.PopAlchemy(ctx, aihorde.InterrogationPopRequest{
		Name:              a.cfg.Name,
		PriorityUsernames: []string{},
		Forms:             a.cfg.Forms,
		Amount:            a.cfg.Amount,
		BridgeAgent:       a.client.Agent(),
		Threads:           a.cfg.Threads,
		MaxTiles:          a.cfg.MaxTiles,
	})
	if err != nil {
		return nil, err
	}
	if len(resp.Forms) == 0 && len(resp.Skipped) > 0 {
		a.log.Debug("no form", "skipped", resp.Skipped)
	}
	return resp.Forms, nil
}

// runAll runs the popped forms Threads at a time, fetching each source
// image once. Like the image loop, it is not interrupted by the end of
// ctx: forms in flight are finished and submitted.
func (a *alchemist) runAll(ctx context.Context, forms []aihorde.InterrogationPopForm) {
	base := context.WithoutCancel(ctx)
	sources := &sourceCache{client: a.client, got: map[string]*sourceEntry{}}
	sem := make(chan struct{}, a.cfg.Threads)
	var wg sync.WaitGroup
	for _, f := range forms {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			a.process(base, sources, f)
		})
	}
	wg.Wait()
}

// process runs one form and submits its result.
func (a *alchemist) process(ctx context.Context, sources *sourceCache, f aihorde.InterrogationPopForm) {
	log := a.log.With("form", f.Form, "id", f.ID)
	start := time.Now()
	log.Info("form started")
	jobCtx, cancel := context.WithTimeout(ctx, aihorde.FormTTL)
	res, genErr := a.alchemize(jobCtx, sources, f)
	cancel()

	subCtx, cancelSub := context.WithTimeout(ctx, a.cfg.SubmitTimeout)
	defer cancelSub()
	if genErr != nil {
		log.Error("form failed; submitting as faulted", "err", genErr, "took", time.Since(start))
		a.health.failed()
		if _, err := a.client.SubmitAlchemy(subCtx, aihorde.InterrogationSubmit{
			ID: f.ID, State: aihorde.StateFaulted, Result: map[string]json.RawMessage{},
		}); err != nil {
			log.Error("submit faulted", "err", err)
		}
		return
	}
	reward, how, err := a.submit(subCtx, log, f, res)
	if err != nil {
		log.Error("submit failed", "err", err, "took", time.Since(start))
		return
	}
	log.Info("form done", "took", time.Since(start), "reward", reward, "via", how)
}

// alchemize fetches the form's source and runs the backend on it.
func (a *alchemist) alchemize(ctx context.Context, sources *sourceCache, f aihorde.InterrogationPopForm) (AlchemyResult, error) {
	if !slices.Contains(a.cfg.Forms, f.Form) {
		return AlchemyResult{}, fmt.Errorf("the horde sent form %q, which this worker does not offer", f.Form)
	}
	src, err := sources.get(ctx, f.SourceImage)
	if err != nil {
		return AlchemyResult{}, fmt.Errorf("source image: %w", err)
	}
	res, err := a.cfg.Backend.Alchemize(ctx, AlchemyJob{
		ID: f.ID, Form: f.Form, Payload: f.Payload, Source: src, TTL: aihorde.FormTTL,
	})
	if err != nil {
		return AlchemyResult{}, err
	}
	switch {
	case aihorde.IsPostProcessor(f.Form) && len(res.Image) == 0:
		return AlchemyResult{}, errors.New("backend returned no image")
	case !aihorde.IsPostProcessor(f.Form) && res.Value == nil:
		return AlchemyResult{}, errors.New("backend returned no result")
	}
	return res, nil
}

// submit uploads a post-processor's image (when the form has an
// r2_upload) and submits the result. It returns the reward and how the
// result went ("R2", "inline" or "text").
func (a *alchemist) submit(ctx context.Context, log *slog.Logger, f aihorde.InterrogationPopForm, res AlchemyResult) (float64, string, error) {
	var value json.RawMessage
	how := "text"
	if aihorde.IsPostProcessor(f.Form) {
		how = "inline"
		if f.R2Upload != "" {
			ct := res.ContentType
			if ct == "" {
				ct = "image/webp"
			}
			if err := a.client.Upload(ctx, f.R2Upload, res.Image, ct); err != nil {
				if ctx.Err() != nil {
					return 0, "", err
				}
				log.Warn("r2 upload failed; submitting the image inline", "err", err)
			} else {
				how = "R2"
			}
		}
		s := "R2"
		if how == "inline" {
			s = base64.StdEncoding.EncodeToString(res.Image)
		}
		value, _ = json.Marshal(s)
	} else {
		v, err := json.Marshal(res.Value)
		if err != nil {
			return 0, "", fmt.Errorf("encode the %s result: %w", f.Form, err)
		}
		value = v
	}
	resp, err := a.client.SubmitAlchemy(ctx, aihorde.InterrogationSubmit{
		ID: f.ID, State: aihorde.StateOK, Result: map[string]json.RawMessage{f.Form: value},
	})
	return resp.Reward, how, err
}

// sourceCache fetches each source image of one pop once: the forms of one
// request share it.
type sourceCache struct {
	client *Client
	mu     sync.Mutex
	got    map[string]*sourceEntry
}

type sourceEntry struct {
	once sync.Once
	data []byte
	err  error
}

// get fetches (URL) or decodes (base64) a source image.
func (c *sourceCache) get(ctx context.Context, s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("the form has no source image")
	}
	c.mu.Lock()
	e := c.got[s]
	if e == nil {
		e = &sourceEntry{}
		c.got[s] = e
	}
	c.mu.Unlock()
	e.once.Do(func() {
		if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
			e.data, e.err = c.client.Fetch(ctx, s, maxAlchemySourceBytes)
		} else {
			e.data, e.err = decodeBase64(s)
		}
	})
	return e.data, e.err
}

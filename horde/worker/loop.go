package worker

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// maxPopBackoff is the longest wait between pops that keep failing.
const maxPopBackoff = time.Minute

// maxSourceImageBytes bounds a downloaded img2img source.
const maxSourceImageBytes = 20 << 20

// ErrUnauthorized is returned by Run when the horde refuses the API key.
var ErrUnauthorized = errors.New("worker: the horde refused the API key")

// Run is the worker: Config.Threads loops that each pop a job from the
// horde, run it on the backend, upload the image to the job's r2_upload URL
// when there is one (otherwise submit it inline as base64 WebP) and submit
// the result; a job the backend fails is submitted as "faulted" so that the
// horde re-queues it at once. A pop that finds nothing waits PopInterval; a
// failing pop backs off exponentially.
//
// When ctx ends, Run stops popping, lets the jobs in flight finish (each is
// bounded by its TTL, after which the horde has re-queued it anyway),
// submits them and returns nil. It returns an error for a bad Config, or
// ErrUnauthorized (after draining) when the horde refuses the API key.
func Run(ctx context.Context, cfg Config) error {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return err
	}
	client, err := NewClient(ClientConfig{
		BaseURL:    cfg.BaseURL,
		APIKey:     cfg.APIKey,
		Contact:    cfg.Contact,
		HTTPClient: cfg.HTTPClient,
		Retry:      cfg.Retry,
		Logger:     cfg.Logger,
	})
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	r := &runner{cfg: cfg, client: client, log: cfg.Logger.With("worker", cfg.Name, "kind", string(cfg.Kind)),
		previews: &previewSupport{}}
	r.health = newHealth(cfg.Backend, r.log)
	if mr, ok := cfg.Backend.(ModelResolver); ok {
		models, err := r.resolveModels(ctx, mr)
		if err != nil {
			return err
		}
		if models == nil {
			return nil // stopped before the backend came up
		}
		r.cfg.Models = models
	}
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)

	r.log.Info("worker starting", "url", cfg.BaseURL, "models", r.cfg.Models, "threads", cfg.Threads,
		"agent", client.Agent())
	var wg sync.WaitGroup
	for i := range cfg.Threads {
		wg.Go(func() { r.thread(runCtx, i, stop) })
	}
	wg.Wait()
	if cause := context.Cause(runCtx); cause != nil && !errors.Is(cause, context.Canceled) &&
		!errors.Is(cause, context.DeadlineExceeded) {
		return cause
	}
	r.log.Info("worker stopped")
	return nil
}

// resolveModels waits for the backend to be up and asks it for the models
// to offer. It returns nil models when ctx ends first, and the error of a
// backend that cannot serve the configuration (ErrBackendSetup); other
// failures are retried with the health checks' backoff.
func (r *runner) resolveModels(ctx context.Context, mr ModelResolver) ([]string, error) {
	failures := 0
	for ctx.Err() == nil {
		if ok, wait := r.health.ready(ctx); !ok {
			_ = sleepCtx(ctx, wait)
			continue
		}
		models, err := mr.ResolveModels(ctx, r.cfg.Models)
		switch {
		case err == nil:
			r.log.Info("backend models", "models", models)
			return models, nil
		case errors.Is(err, ErrBackendSetup):
			return nil, fmt.Errorf("worker: %w", err)
		case ctx.Err() != nil:
			return nil, nil
		}
		failures++
		wait := min(maxHealthBackoff, time.Second<<min(failures-1, 6))
		r.log.Error("cannot list the backend's models; trying again", "err", err, "failures", failures, "wait", wait)
		r.health.failed()
		_ = sleepCtx(ctx, wait)
	}
	return nil, nil
}

// runner is one Run's state.
type runner struct {
	cfg    Config
	client *Client
	log    *slog.Logger
	health *health // the backend's, checked before popping (health.go)
	// previews is what the horde said of live previews (previews.go).
	previews *previewSupport
}

// popped is a job as popped, with what the loop needs besides the Job.
type popped struct {
	job         Job
	r2Upload    string
	sourceImage string // URL or base64, resolved before the backend runs
	sourceMask  string
	// extraSources are a remix's further images (URL or base64) and strengths.
	extraSources []aihorde.ExtraSourceImage
}

// thread pops and runs jobs one at a time until ctx ends. stop ends every
// thread with a cause (a refused key).
func (r *runner) thread(ctx context.Context, n int, stop context.CancelCauseFunc) {
	log := r.log.With("thread", n)
	failures := 0
	for ctx.Err() == nil {
		if ok, wait := r.health.ready(ctx); !ok {
			_ = sleepCtx(ctx, wait) // the backend is down: pop nothing it would fault
			continue
		}
		jobs, err := r.pop(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if StatusOf(err) == http.StatusUnauthorized {
				log.Error("pop refused: bad API key; stopping", "err", err)
				stop(fmt.Errorf("%w: %w", ErrUnauthorized, err))
				return
			}
			failures++
			wait := min(maxPopBackoff, max(r.cfg.PopInterval, r.cfg.Retry.backoff(failures)))
			log.Warn("pop failed", "err", err, "failures", failures, "wait", wait)
			_ = sleepCtx(ctx, wait) // ctx's end is seen by the loop condition
			continue
		}
		failures = 0
		if len(jobs) == 0 {
			_ = sleepCtx(ctx, r.cfg.PopInterval) // ctx's end is seen by the loop condition
			continue
		}
		if bb, ok := r.cfg.Backend.(BatchBackend); ok && len(jobs) > 1 && jobs[0].job.Kind == aihorde.KindImage {
			r.processBatch(ctx, log, bb, jobs)
			continue
		}
		for _, p := range jobs {
			r.process(ctx, log, p)
		}
	}
}

// pop asks the horde for one job of the configured kind.
func (r *runner) pop(ctx context.Context) ([]popped, error) {
	if r.cfg.Kind == aihorde.KindText {
		resp, err := r.client.PopText(ctx, aihorde.TextPopRequest{
			PopCommon:        r.popCommon(),
			MaxLength:        r.cfg.MaxLength,
			MaxContextLength: r.cfg.MaxContextLength,
			Softprompts:      []string{},
		})
		if err != nil {
			return nil, err
		}
		jobs := r.textJobs(resp)
		if len(jobs) == 0 && len(resp.Skipped) > 0 {
			r.log.Debug("no text job", "skipped", resp.Skipped)
		}
		return jobs, nil
	}
	resp, err := r.client.PopImage(ctx, aihorde.ImagePopRequest{
		PopCommon:         r.popCommon(),
		MaxPixels:         r.cfg.MaxPixels,
		AllowImg2Img:      r.cfg.AllowImg2Img,
		AllowPainting:     r.cfg.AllowPainting,
		AllowLora:         r.cfg.AllowLora,
		LimitMaxSteps:     r.cfg.LimitMaxSteps,
		AllowUnsafeIPAddr: r.cfg.AllowUnsafeIPAddr,
	})
	if err != nil {
		return nil, err
	}
	jobs := r.imageJobs(resp)
	if len(jobs) == 0 && len(resp.Skipped) > 0 {
		r.log.Debug("no image job", "skipped", resp.Skipped)
	}
	return jobs, nil
}

// popCommon is what every pop of this worker sends.
func (r *runner) popCommon() aihorde.PopCommon {
	return aihorde.PopCommon{
		Name:              r.cfg.Name,
		Models:            r.cfg.Models,
		NSFW:              r.cfg.NSFW,
		Blacklist:         r.cfg.Blacklist,
		Threads:           r.cfg.Threads,
		Amount:            r.cfg.MaxBatch,
		ExtraSlowWorker:   r.cfg.ExtraSlowWorker,
		BridgeAgent:       r.client.Agent(),
		PriorityUsernames: []string{},
	}
}

// imageJobs turns an image pop answer into jobs. A batch (several ids,
// n_iter images) shares the payload; item i gets r2_uploads[i] and the
// seed seed+i (the seeds a batching backend such as AUTOMATIC1111 gives the
// images of one call), or, with hordebot's seed_variation v in the
// payload, seed-i*v: the seed the AI Horde's get_job_payload gives that
// item popped alone (it counts seed + v*items-left down to the request's
// last item), as hordebot's scheduler records it. (The AI Horde sends one
// seed for a whole batch and reGen submits every id with it.)
func (r *runner) imageJobs(resp aihorde.ImagePopResponse) []popped {
	ids := resp.JobIDs()
	if len(ids) == 0 || resp.Payload == nil {
		return nil
	}
	pl := resp.Payload
	steps := pl.Steps
	if steps == 0 {
		steps = pl.DDIMSteps
	}
	params := ImageParams{
		Width:                     pl.Width,
		Height:                    pl.Height,
		Steps:                     steps,
		SamplerName:               pl.SamplerName,
		CFGScale:                  pl.CFGScale,
		DenoisingStrength:         pl.DenoisingStrength,
		Karras:                    pl.Karras,
		Tiling:                    pl.Tiling,
		HiresFix:                  pl.HiresFix,
		HiresFixDenoisingStrength: pl.HiresFixDenoisingStrength,
		ClipSkip:                  pl.ClipSkip,
		PostProcessing:            pl.PostProcessing,
		Loras:                     pl.Loras,
		SourceProcessing:          firstNonEmpty(resp.SourceProcessing, pl.SourceProcessing),
	}
	ttl := time.Duration(resp.TTL * float64(time.Second))
	if ttl <= 0 {
		ttl = aihorde.ImageTTL(pl.Width, pl.Height, steps)
	}
	step := int64(1)
	if pl.SeedVariation > 0 {
		step = -int64(pl.SeedVariation)
	}
	first := Job{Seed: pl.Seed.Value, SeedStep: step}
	out := make([]popped, 0, len(ids))
	for i, id := range ids {
		p := params // each job owns its params
		job := Job{
			ID:       id,
			Kind:     aihorde.KindImage,
			Model:    r.model(resp.Model),
			Prompt:   pl.Prompt,
			Seed:     first.BatchSeed(i),
			SeedSet:  pl.Seed.Set,
			SeedStep: step,
			Image:    &p,
			TTL:      ttl,
		}
		upload := ""
		switch {
		case i < len(resp.R2Uploads) && len(resp.R2Uploads) == len(ids):
			upload = resp.R2Uploads[i]
		case i == 0:
			upload = resp.R2Upload
		}
		out = append(out, popped{
			job:         job,
			r2Upload:    upload,
			sourceImage: firstNonEmpty(resp.SourceImage, pl.SourceImage),
			sourceMask:  firstNonEmpty(resp.SourceMask, pl.SourceMask),
			// As the AI Horde sends them: at the top level of the pop answer.
			extraSources: resp.ExtraSourceImages,
		})
	}
	return out
}

// textJobs turns a text pop answer into jobs, clipping lengths to what the
// worker announced.
func (r *runner) textJobs(resp aihorde.TextPopResponse) []popped {
	ids := resp.JobIDs()
	if len(ids) == 0 || resp.Payload == nil {
		return nil
	}
	pl := resp.Payload
	params := TextParams{
		MaxLength:        clip(pl.MaxLength, r.cfg.MaxLength),
		MaxContextLength: clip(pl.MaxContextLength, r.cfg.MaxContextLength),
		KoboldSampling:   pl.KoboldSampling,
	}
	if resp.Softprompt != nil {
		params.Softprompt = *resp.Softprompt
	}
	ttl := time.Duration(resp.TTL * float64(time.Second))
	if ttl <= 0 {
		ttl = aihorde.TextTTL
	}
	out := make([]popped, 0, len(ids))
	for i, id := range ids {
		p := params
		out = append(out, popped{job: Job{
			ID:      id,
			Kind:    aihorde.KindText,
			Model:   r.model(resp.Model),
			Prompt:  pl.Prompt,
			Seed:    pl.Seed.Value + int64(i),
			SeedSet: pl.Seed.Set,
			Text:    &p,
			TTL:     ttl,
		}})
	}
	return out
}

// model returns the job's model, or the worker's only model when the horde
// named none.
func (r *runner) model(m string) string {
	if m == "" && len(r.cfg.Models) == 1 {
		return r.cfg.Models[0]
	}
	return m
}

// process runs one job and submits its result. It is not interrupted by
// the end of ctx: a job in flight is finished and submitted (within its TTL
// and SubmitTimeout) so that stopping a worker loses no work.
func (r *runner) process(ctx context.Context, log *slog.Logger, p popped) {
	base := context.WithoutCancel(ctx)
	log = log.With("job", p.job.ID, "model", p.job.Model)
	log.Info("job started", "ttl", p.job.TTL)
	start := time.Now()

	jobCtx, cancelJob := context.WithTimeout(base, p.job.TTL)
	pv := r.startPreviews(jobCtx, &p, log)
	res, genErr := r.generate(jobCtx, p)
	if n := pv.close(); n > 0 {
		log.Debug("live previews sent", "count", n)
	}
	cancelJob()

	subCtx, cancelSub := context.WithTimeout(base, r.cfg.SubmitTimeout)
	defer cancelSub()
	if genErr != nil {
		log.Error("job failed; submitting as faulted", "err", genErr, "took", time.Since(start))
		r.health.failed()
		if err := r.submitFaulted(subCtx, p.job); err != nil {
			log.Error("submit faulted", "err", err)
		}
		return
	}
	reward, how, err := r.submit(subCtx, log, p, res)
	if err != nil {
		log.Error("submit failed", "err", err, "took", time.Since(start))
		return
	}
	log.Info("job done", "took", time.Since(start), "reward", reward, "via", how)
}

// startPreviews gives an image job a Preview when previews are on and the
// horde has not said it takes none; it returns the job's sender (nil: none).
func (r *runner) startPreviews(ctx context.Context, p *popped, log *slog.Logger) *previewSender {
	if !r.cfg.Previews || p.job.Kind != aihorde.KindImage || r.previews.off.Load() {
		return nil
	}
	s := r.newPreviewSender(ctx, p.job.ID, log)
	p.job.Preview = s.offer
	return s
}

// processBatch runs the jobs of one batched image pop (one payload, one id
// each) in one backend call and submits each id with its own image and
// seed. A failed call submits every id as faulted; like process, it is not
// interrupted by the end of ctx.
func (r *runner) processBatch(ctx context.Context, log *slog.Logger, bb BatchBackend, jobs []popped) {
	base := context.WithoutCancel(ctx)
	first := jobs[0]
	log = log.With("job", first.job.ID, "model", first.job.Model, "batch", len(jobs))
	log.Info("batch started", "ttl", first.job.TTL)
	start := time.Now()

	jobCtx, cancelJob := context.WithTimeout(base, first.job.TTL)
	// The batch's jobs are items of one request: its previews go as the first's.
	pv := r.startPreviews(jobCtx, &first, log)
	results, genErr := r.generateBatch(jobCtx, bb, first, len(jobs))
	if n := pv.close(); n > 0 {
		log.Debug("live previews sent", "count", n)
	}
	cancelJob()

	for i, p := range jobs {
		subCtx, cancelSub := context.WithTimeout(base, r.cfg.SubmitTimeout)
		jl := log.With("job", p.job.ID, "item", i)
		if genErr != nil {
			jl.Error("batch failed; submitting as faulted", "err", genErr, "took", time.Since(start))
			if err := r.submitFaulted(subCtx, p.job); err != nil {
				jl.Error("submit faulted", "err", err)
			}
		} else if reward, how, err := r.submit(subCtx, jl, p, results[i]); err != nil {
			jl.Error("submit failed", "err", err, "took", time.Since(start))
		} else {
			jl.Info("job done", "took", time.Since(start), "reward", reward, "via", how)
		}
		cancelSub()
	}
}

// generateBatch resolves the batch's source images and makes its n images
// in one backend call.
func (r *runner) generateBatch(ctx context.Context, bb BatchBackend, p popped, n int) ([]Result, error) {
	job := p.job
	if err := r.resolveSources(ctx, &job, p); err != nil {
		return nil, err
	}
	results, err := bb.GenerateBatch(ctx, job, n)
	if err != nil {
		return nil, err
	}
	if len(results) != n {
		return nil, fmt.Errorf("backend made %d images for a batch of %d", len(results), n)
	}
	for i := range results {
		if err := finishResult(&results[i], job, int64(i)); err != nil {
			return nil, fmt.Errorf("image %d of the batch: %w", i, err)
		}
	}
	return results, nil
}

// resolveSources fetches or decodes an image job's source image and mask.
func (r *runner) resolveSources(ctx context.Context, job *Job, p popped) error {
	if job.Kind != aihorde.KindImage {
		return nil
	}
	var err error
	img := *job.Image // the batch's jobs share nothing through it
	if img.SourceImage, err = r.source(ctx, p.sourceImage); err != nil {
		return fmt.Errorf("source image: %w", err)
	}
	if img.SourceMask, err = r.source(ctx, p.sourceMask); err != nil {
		return fmt.Errorf("source mask: %w", err)
	}
	img.ExtraSourceImages = nil
	for i, x := range p.extraSources {
		if i >= aihorde.MaxExtraSourceImages {
			break // the horde sends at most that many; more is not a remix's
		}
		data, err := r.source(ctx, x.Image)
		if err != nil {
			return fmt.Errorf("extra source image %d: %w", i+1, err)
		}
		if len(data) == 0 {
			continue
		}
		strength := aihorde.DefaultExtraSourceStrength
		if x.Strength != nil {
			strength = *x.Strength
		}
		img.ExtraSourceImages = append(img.ExtraSourceImages, ExtraSourceImage{Image: data, Strength: strength})
	}
	job.Image = &img
	return nil
}

// generate resolves the job's source images and runs the backend.
func (r *runner) generate(ctx context.Context, p popped) (Result, error) {
	job := p.job
	if err := r.resolveSources(ctx, &job, p); err != nil {
		return Result{}, err
	}
	res, err := r.cfg.Backend.Generate(ctx, job)
	if err != nil {
		return Result{}, err
	}
	if err := finishResult(&res, job, 0); err != nil {
		return Result{}, err
	}
	return res, nil
}

// finishResult checks a backend's result for the item-th image of job and
// fills in what the backend left out: state ok, and the seed (the job's
// BatchSeed(item)) when the backend did not say which it used.
func finishResult(res *Result, job Job, item int64) error {
	if job.Kind == aihorde.KindImage && len(res.Image) == 0 {
		return errors.New("backend returned no image")
	}
	if res.State == "" {
		res.State = aihorde.StateOK
	}
	if res.Seed == 0 && job.SeedSet {
		res.Seed = job.BatchSeed(int(item))
	}
	return nil
}

// source fetches (URL) or decodes (base64) a source image; "" is none.
func (r *runner) source(ctx context.Context, s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") {
		return r.client.Fetch(ctx, s, maxSourceImageBytes)
	}
	return decodeBase64(s)
}

// submit uploads (when the job has an r2_upload URL) and submits a result.
// It returns the reward and how the image went ("R2", "inline" or "text").
func (r *runner) submit(ctx context.Context, log *slog.Logger, p popped, res Result) (float64, string, error) {
	job := p.job
	if job.Kind == aihorde.KindText {
		seed := res.Seed
		var seedPtr *int64
		if job.SeedSet || seed != 0 {
			seedPtr = &seed
		}
		resp, err := r.client.SubmitText(ctx, aihorde.SubmitRequest{
			ID: job.ID, Generation: res.Text, State: res.State, Seed: seedPtr, GenMetadata: res.Metadata,
		})
		return resp.Reward, "text", err
	}
	generation, how := "", "inline"
	if p.r2Upload != "" {
		ct := res.ContentType
		if ct == "" {
			ct = "image/webp"
		}
		if err := r.client.Upload(ctx, p.r2Upload, res.Image, ct); err != nil {
			if ctx.Err() != nil {
				return 0, "", err
			}
			log.Warn("r2 upload failed; submitting the image inline", "err", err)
		} else {
			generation, how = "R2", "R2"
		}
	}
	if generation == "" {
		generation = base64.StdEncoding.EncodeToString(res.Image)
	}
	seed := res.Seed
	resp, err := r.client.SubmitImage(ctx, aihorde.SubmitRequest{
		ID: job.ID, Generation: generation, State: res.State, Seed: &seed, GenMetadata: res.Metadata,
	})
	return resp.Reward, how, err
}

// submitFaulted tells the horde the job failed so that it re-queues it now
// rather than at its TTL.
func (r *runner) submitFaulted(ctx context.Context, job Job) error {
	if job.Kind == aihorde.KindText {
		_, err := r.client.SubmitText(ctx, aihorde.SubmitRequest{ID: job.ID, Generation: "faulted", State: aihorde.StateFaulted})
		return err
	}
	seed := job.Seed
	_, err := r.client.SubmitImage(ctx, aihorde.SubmitRequest{
		ID: job.ID, Generation: "faulted", State: aihorde.StateFaulted, Seed: &seed,
	})
	return err
}

// clip returns v bounded by limit, or limit when v is not set.
func clip(v, limit int) int {
	if v <= 0 || v > limit {
		return limit
	}
	return v
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

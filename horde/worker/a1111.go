package worker

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// A1111Options configures the AUTOMATIC1111 backend.
type A1111Options struct {
	// URL is the web UI's root, e.g. http://127.0.0.1:7860 (started with --api).
	URL string
	// Checkpoints maps a horde model name to the checkpoint title to load
	// for it (sent as override_settings.sd_model_checkpoint). Models not in
	// the map run on whatever checkpoint is loaded.
	Checkpoints map[string]string
	// ProgressInterval is how often a job with a Preview asks the web UI
	// for its live preview (GET /sdapi/v1/progress) while it generates
	// (default DefaultA1111ProgressInterval).
	ProgressInterval time.Duration
	HTTPClient       *http.Client
	Logger           *slog.Logger
}

// A1111 is a backend for AUTOMATIC1111's web UI API and the forks that keep
// it (Forge, SD.Next): POST /sdapi/v1/txt2img, or /sdapi/v1/img2img for jobs
// with a source image. The returned PNG is re-encoded as WebP. While a job
// with a Preview runs, the web UI's live preview (/sdapi/v1/progress
// current_image) goes to it (a1111_progress.go).
type A1111 struct {
	base          *url.URL
	checkpoints   map[string]string
	progressEvery time.Duration
	http          *http.Client
	log           *slog.Logger
	inflight      atomic.Int32 // generations posted and not answered yet
}

var _ BatchBackend = (*A1111)(nil)

// NewA1111 checks opts and returns the backend.
func NewA1111(opts A1111Options) (*A1111, error) {
	u, err := backendURL("a1111", opts.URL)
	if err != nil {
		return nil, err
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = defaultBackendHTTPClient()
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	every := opts.ProgressInterval
	if every <= 0 {
		every = DefaultA1111ProgressInterval
	}
	return &A1111{base: u, checkpoints: opts.Checkpoints, progressEvery: every, http: hc, log: log}, nil
}

// a1111Request is the body of txt2img and img2img.
type a1111Request struct {
	Prompt            string   `json:"prompt"`
	NegativePrompt    string   `json:"negative_prompt"`
	Width             int      `json:"width"`
	Height            int      `json:"height"`
	Steps             int      `json:"steps"`
	CFGScale          float64  `json:"cfg_scale"`
	SamplerName       string   `json:"sampler_name"`
	Seed              int64    `json:"seed"`
	BatchSize         int      `json:"batch_size"`
	NIter             int      `json:"n_iter"`
	Tiling            bool     `json:"tiling,omitempty"`
	DenoisingStrength float64  `json:"denoising_strength,omitempty"`
	InitImages        []string `json:"init_images,omitempty"`
	Mask              string   `json:"mask,omitempty"`
	// Painting (with Mask): how the masked area starts (a1111Fill*), the
	// mask's blur, whether only the masked area is redrawn at full
	// resolution, and whether the mask is inverted (never: white paints,
	// as on the AI Horde).
	InpaintingFill       *int           `json:"inpainting_fill,omitempty"`
	MaskBlur             *int           `json:"mask_blur,omitempty"`
	InpaintFullRes       *bool          `json:"inpaint_full_res,omitempty"`
	InpaintingMaskInvert *int           `json:"inpainting_mask_invert,omitempty"`
	OverrideSettings     map[string]any `json:"override_settings,omitempty"`
	SendImages           bool           `json:"send_images"`
	SaveImages           bool           `json:"save_images"`
}

// a1111Response is the answer of txt2img and img2img. Info is a JSON
// document in a string.
type a1111Response struct {
	Images []string `json:"images"`
	Info   string   `json:"info"`
}

// Generate runs an image job on the web UI.
func (a *A1111) Generate(ctx context.Context, job Job) (Result, error) {
	rs, err := a.GenerateBatch(ctx, job, 1)
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}

// GenerateBatch makes n images of an image job in one call (batch_size n):
// the web UI gives image i the seed job.Seed+i, and says so in its info. A
// batch whose seeds step otherwise (a request's seed_variation) is made one
// call per image, each with its seed: the web UI batches consecutive seeds
// only.
func (a *A1111) GenerateBatch(ctx context.Context, job Job, n int) ([]Result, error) {
	if job.Kind != aihorde.KindImage || job.Image == nil {
		return nil, fmt.Errorf("a1111: job %s: not an image job", job.ID)
	}
	if n < 1 {
		return nil, fmt.Errorf("a1111: job %s: a batch of %d images", job.ID, n)
	}
	if n > 1 && job.SeedSet && job.SeedStep != 0 && job.SeedStep != 1 {
		out := make([]Result, 0, n)
		for i := range n {
			one := job
			one.Seed, one.SeedStep = job.BatchSeed(i), 0
			rs, err := a.GenerateBatch(ctx, one, 1)
			if err != nil {
				return nil, fmt.Errorf("image %d of the batch: %w", i, err)
			}
			out = append(out, rs[0])
		}
		return out, nil
	}
	p := job.Image
	pos, neg := aihorde.SplitPrompt(job.Prompt)
	sampler, known := A1111SamplerName(p.SamplerName, p.Karras)
	if !known && p.SamplerName != "" {
		a.log.Warn("a1111: unknown sampler; using the default", "sampler", p.SamplerName, "default", sampler, "job", job.ID)
	}
	seed := int64(-1) // A1111: random
	if job.SeedSet {
		seed = job.Seed
	}
	req := a1111Request{
		Prompt:         pos,
		NegativePrompt: neg,
		Width:          p.Width,
		Height:         p.Height,
		Steps:          p.Steps,
		CFGScale:       p.CFGScale,
		SamplerName:    sampler,
		Seed:           seed,
		BatchSize:      n,
		NIter:          1,
		Tiling:         p.Tiling,
		SendImages:     true,
		SaveImages:     false,
	}
	overrides := map[string]any{}
	if n > 1 {
		overrides["return_grid"] = false // the images only, not a grid of them first
	}
	if ckpt, ok := a.checkpoints[job.Model]; ok && ckpt != "" {
		overrides["sd_model_checkpoint"] = ckpt
	}
	if p.ClipSkip > 0 {
		overrides["CLIP_stop_at_last_layers"] = p.ClipSkip
	}
	if len(overrides) > 0 {
		req.OverrideSettings = overrides
	}
	endpoint := "/sdapi/v1/txt2img"
	if len(p.SourceImage) > 0 {
		endpoint = "/sdapi/v1/img2img"
		req.InitImages = []string{base64.StdEncoding.EncodeToString(p.SourceImage)}
		req.DenoisingStrength = p.DenoisingStrength
		if req.DenoisingStrength <= 0 {
			req.DenoisingStrength = aihorde.DefaultDenoisingStrength
		}
		if isPainting(p) {
			if err := a1111Painting(&req, p); err != nil {
				return nil, fmt.Errorf("a1111: job %s: %w", job.ID, err)
			}
		} else if len(p.SourceMask) > 0 {
			req.Mask = base64.StdEncoding.EncodeToString(p.SourceMask)
		}
	}

	var resp a1111Response
	if err := a.post(ctx, job, endpoint, req, &resp); err != nil {
		return nil, fmt.Errorf("job %s: %w", job.ID, err)
	}
	images := resp.Images
	if len(images) == n+1 && n > 1 {
		images = images[1:] // a web UI that sends the grid anyway puts it first
	}
	if len(images) != n {
		return nil, fmt.Errorf("a1111: job %s: answer has %d images, want %d", job.ID, len(images), n)
	}
	seeds, err := a1111Seeds(resp.Info, n)
	if err != nil {
		if !job.SeedSet {
			return nil, fmt.Errorf("a1111: job %s: %w", job.ID, err)
		}
		seeds = make([]int64, n)
		for i := range seeds {
			seeds[i] = seed + int64(i)
		}
	}
	out := make([]Result, 0, n)
	for i, b64 := range images {
		raw, err := decodeBase64(b64)
		if err != nil {
			return nil, fmt.Errorf("a1111: job %s image %d: %w", job.ID, i, err)
		}
		img, _, err := decodeImage(raw)
		if err != nil {
			return nil, fmt.Errorf("a1111: job %s image %d: %w", job.ID, i, err)
		}
		data, err := EncodeWebP(img)
		if err != nil {
			return nil, fmt.Errorf("a1111: job %s image %d: %w", job.ID, i, err)
		}
		out = append(out, Result{Image: data, ContentType: "image/webp", Seed: seeds[i], State: aihorde.StateOK})
	}
	return out, nil
}

// AUTOMATIC1111's inpainting_fill: what the masked area starts from.
const (
	a1111FillOriginal    = 1 // the source's pixels (inpainting)
	a1111FillLatentNoise = 2 // noise (outpainting: there is nothing under the mask)
)

// a1111MaskBlur is the mask's blur in pixels (the web UI's default).
const a1111MaskBlur = 4

// a1111Painting makes an img2img request an inpainting or an outpainting:
// the mask (the job's source_mask, or the source's transparent part when
// it has none) in the web UI's sense (white paints), the masked area
// started from the source (inpainting, at the job's denoising strength)
// or from noise at strength 1 (outpainting: the area is empty), the whole
// picture redrawn at its size so that the new part matches the old.
func a1111Painting(req *a1111Request, p *ImageParams) error {
	pj, err := jobPaint(p)
	if err != nil {
		return err
	}
	mask, err := pj.maskPNG()
	if err != nil {
		return err
	}
	fill, blur, fullRes, invert := a1111FillOriginal, a1111MaskBlur, false, 0
	if p.SourceProcessing == "outpainting" {
		fill = a1111FillLatentNoise
		req.DenoisingStrength = 1
	}
	req.Mask = base64.StdEncoding.EncodeToString(mask)
	req.InpaintingFill, req.MaskBlur, req.InpaintFullRes, req.InpaintingMaskInvert = &fill, &blur, &fullRes, &invert
	return nil
}

// post sends a generation to the web UI and, for a job with a Preview,
// watches its progress until the answer is in.
func (a *A1111) post(ctx context.Context, job Job, endpoint string, req a1111Request, resp *a1111Response) error {
	a.inflight.Add(1)
	defer a.inflight.Add(-1)
	if job.Preview != nil {
		watchCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			a.watchProgress(watchCtx, job.ID, job.Preview)
		}()
		defer func() { stop(); <-done }()
	}
	return postBackendJSON(ctx, a.http, "a1111", joinPath(a.base, endpoint), nil, req, resp)
}

// a1111Seeds reads the seeds A1111 used for n images from its info
// document: all_seeds, or seed and the ones after it.
func a1111Seeds(info string, n int) ([]int64, error) {
	if info == "" {
		return nil, errors.New("answer has no info")
	}
	var v struct {
		Seed     *json.Number  `json:"seed"`
		AllSeeds []json.Number `json:"all_seeds"`
	}
	if err := json.Unmarshal([]byte(info), &v); err != nil {
		return nil, fmt.Errorf("decode info: %w", err)
	}
	seeds := make([]int64, 0, n)
	if len(v.AllSeeds) >= n {
		for _, s := range v.AllSeeds[:n] {
			seeds = append(seeds, aihorde.ParseSeed(s.String()).Value)
		}
		return seeds, nil
	}
	if v.Seed == nil {
		return nil, errors.New("info has no seed")
	}
	first := aihorde.ParseSeed(v.Seed.String()).Value
	for i := range n {
		seeds = append(seeds, first+int64(i))
	}
	return seeds, nil
}

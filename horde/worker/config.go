package worker

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// Defaults of Config.
const (
	DefaultPopInterval      = 2 * time.Second
	DefaultMaxPixels        = 1024 * 1024
	DefaultMaxLength        = aihorde.DefaultWorkerMaxLength
	DefaultMaxContextLength = aihorde.DefaultWorkerMaxContextLength
	DefaultSubmitTimeout    = 2 * time.Minute
	// MaxThreads bounds Config.Threads (the AI Horde allows a worker few more).
	MaxThreads = 32
)

// Config configures Run. Zero values take the defaults above.
type Config struct {
	// BaseURL is the horde's root, e.g. http://127.0.0.1:7001 or https://aihorde.net.
	BaseURL string
	// APIKey is the worker's (or its owner's) API key.
	APIKey string
	// Name is the worker's name, unique on the horde.
	Name string
	// Kind is aihorde.KindImage or aihorde.KindText.
	Kind aihorde.Kind
	// Models are the models the worker serves. Empty with the Procedural
	// backend means ["procedural"]; a ModelResolver backend (ComfyUI)
	// turns them into the models its server has, empty meaning all of
	// them; otherwise they are required.
	Models []string
	// Image workers: the largest width*height, NSFW, and what the backend
	// can do: img2img, painting (inpainting and outpainting), LoRAs (the
	// pop's allow_img2img, allow_painting and allow_lora; the horde gives
	// a worker that leaves one false no job that needs it).
	MaxPixels     int
	NSFW          bool
	Blacklist     []string
	AllowImg2Img  bool
	AllowPainting bool
	AllowLora     bool
	// AllowUnsafeIPAddr takes img2img jobs sent from IP addresses the horde
	// counts as unsafe (VPNs, proxies): the pop's allow_unsafe_ipaddr, true
	// by default in horde-worker-reGen and in hordeworker's flag.
	AllowUnsafeIPAddr bool
	// Text workers: the longest generation and context, in tokens.
	MaxLength        int
	MaxContextLength int
	// Threads is the number of jobs run at once; default 1.
	Threads int
	// MaxBatch is how many items of one request a pop may take at once (the
	// pop's amount, default 1, at most aihorde.MaxPopAmount), as
	// horde-worker-reGen's max_batch: the horde answers with n_iter = the
	// ids it gave, and an image backend that batches (BatchBackend) makes
	// them in one call. The horde may give fewer (it bounds a batch by
	// max_pixels).
	MaxBatch int
	// LimitMaxSteps asks the horde for no image job with more steps than
	// the average its model allows; ExtraSlowWorker says the worker is very
	// slow (under 0.1 megapixel-steps a second), so that only requests
	// that allow it come (the AI Horde's limit_max_steps and
	// extra_slow_worker).
	LimitMaxSteps   bool
	ExtraSlowWorker bool
	// Backend runs the jobs (it carries its own URL and options).
	Backend Backend
	// Previews sends the backend's partial renders of image jobs to the
	// horde as live previews (hordebot's extension, previews.go), at most
	// one per PreviewInterval per job (default DefaultPreviewInterval, at
	// least a second). A horde without previews answers the first one 404
	// and gets no more.
	Previews        bool
	PreviewInterval time.Duration
	// PopInterval is the wait after a pop that found no job.
	PopInterval time.Duration
	// SubmitTimeout bounds uploading and submitting one result, retries included.
	SubmitTimeout time.Duration
	// Contact is the contact part of the Client-Agent header.
	Contact string
	// HTTPClient talks to the horde; nil for a default one.
	HTTPClient *http.Client
	// Retry is the retry policy for horde requests.
	Retry  RetryPolicy
	Logger *slog.Logger
}

// withDefaults validates c and fills its zero fields.
func (c Config) withDefaults() (Config, error) {
	var errs []error
	if strings.TrimSpace(c.BaseURL) == "" {
		errs = append(errs, errors.New("BaseURL is empty"))
	}
	if strings.TrimSpace(c.Name) == "" {
		errs = append(errs, errors.New("Name is empty"))
	}
	if c.Kind != aihorde.KindImage && c.Kind != aihorde.KindText {
		errs = append(errs, fmt.Errorf("Kind %q: want %q or %q", c.Kind, aihorde.KindImage, aihorde.KindText))
	}
	if c.Backend == nil {
		errs = append(errs, errors.New("Backend is nil"))
	}
	models := make([]string, 0, len(c.Models))
	for _, m := range c.Models {
		if m = strings.TrimSpace(m); m != "" {
			models = append(models, m)
		}
	}
	if len(models) == 0 {
		if _, ok := c.Backend.(*Procedural); ok {
			models = []string{ProceduralModel}
		} else if _, ok := c.Backend.(ModelResolver); !ok {
			errs = append(errs, errors.New("Models is empty"))
		}
	}
	c.Models = models
	if c.Threads < 0 || c.Threads > MaxThreads {
		errs = append(errs, fmt.Errorf("Threads %d: want 1..%d", c.Threads, MaxThreads))
	}
	if c.MaxBatch < 0 || c.MaxBatch > aihorde.MaxPopAmount {
		errs = append(errs, fmt.Errorf("MaxBatch %d: want 1..%d", c.MaxBatch, aihorde.MaxPopAmount))
	}
	if c.MaxPixels < 0 || c.MaxLength < 0 || c.MaxContextLength < 0 {
		errs = append(errs, errors.New("MaxPixels, MaxLength and MaxContextLength must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("worker config: %w", err)
	}
	if c.Threads == 0 {
		c.Threads = 1
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = 1
	}
	if c.MaxPixels == 0 {
		c.MaxPixels = DefaultMaxPixels
	}
	if c.MaxLength == 0 {
		c.MaxLength = DefaultMaxLength
	}
	if c.MaxContextLength == 0 {
		c.MaxContextLength = DefaultMaxContextLength
	}
	if c.PopInterval <= 0 {
		c.PopInterval = DefaultPopInterval
	}
	if c.SubmitTimeout <= 0 {
		c.SubmitTimeout = DefaultSubmitTimeout
	}
	if c.PreviewInterval <= 0 {
		c.PreviewInterval = DefaultPreviewInterval
	}
	if c.PreviewInterval < time.Second {
		c.PreviewInterval = time.Second // the horde takes one a second per job
	}
	if c.Blacklist == nil {
		c.Blacklist = []string{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	c.Retry = c.Retry.withDefaults()
	return c, nil
}

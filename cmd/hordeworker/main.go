// Command hordeworker is the reference worker for hordebot and any
// AI-Horde-compatible server: it pops image or text jobs, or alchemy forms
// (--kind alchemy: captions, interrogations, upscales, face fixes,
// background removal), runs them on a backend (procedural,
// AUTOMATIC1111/Forge, ComfyUI, KoboldCpp, OpenAI-compatible) and submits
// the results.
//
//	HORDE_API_KEY=... hordeworker --url http://127.0.0.1:7001 --name my-gpu \
//	    --kind image --backend a1111 --backend-url http://127.0.0.1:7860 --models "AlbedoBase XL"
//	HORDE_API_KEY=... hordeworker --name my-gpu --backend comfyui --comfyui-url http://127.0.0.1:8188
//	HORDE_API_KEY=... hordeworker --name my-alchemist --kind alchemy --backend a1111 \
//	    --forms caption,interrogation,RealESRGAN_x4plus,GFPGAN --rembg-url http://127.0.0.1:7000
//	hordeworker version
//
// The first SIGINT or SIGTERM stops popping and lets the jobs in flight
// finish and be submitted; a second one quits at once.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/worker"
)

// Environment variables holding secrets (never flags: flags show in ps).
const (
	envAPIKey       = "HORDE_API_KEY"
	envOpenAIAPIKey = "OPENAI_API_KEY"
)

// Backend names and their default URLs.
var defaultBackendURLs = map[string]string{
	"procedural": "",
	"a1111":      "http://127.0.0.1:7860",
	"comfyui":    "http://127.0.0.1:8188",
	"kobold":     "http://127.0.0.1:5001",
	"openai":     "http://127.0.0.1:8080",
}

// kindAlchemy is --kind alchemy: an alchemist (the AI Horde's worker type
// "interrogation").
const kindAlchemy aihorde.Kind = "alchemy"

// publicHordes are hosts the procedural test backend must not serve: its
// pictures are not generations and would cheat requesters of kudos.
var publicHordes = []string{"aihorde.net", "stablehorde.net", "koboldai.net"}

// config is the parsed command line and environment.
type config struct {
	URL              string
	Name             string
	Kind             aihorde.Kind
	Backend          string
	BackendURL       string
	BackendModel     string
	Models           []string
	MaxPixels        int
	MaxLength        int
	MaxContextLength int
	NSFW             bool
	Threads          int
	MaxBatch         int
	LimitMaxSteps    bool
	ExtraSlowWorker  bool
	PopInterval      time.Duration
	Previews         bool
	PreviewInterval  time.Duration
	StepTime         time.Duration
	Contact          string
	LogLevel         slog.Level
	APIKey           string
	OpenAIAPIKey     string
	// Alchemists: the forms to offer (empty: all the backend can do), the
	// most 512x512 tiles of an image, and a rembg server for
	// strip_background (a1111).
	Forms    []string
	MaxTiles int
	RembgURL string
	// Image: take painting jobs (inpainting, outpainting) and jobs with
	// LoRAs (the pop's allow_painting and allow_lora).
	Painting  bool
	AllowLora bool
	// Image: take img2img jobs from IP addresses the horde counts as
	// unsafe (the pop's allow_unsafe_ipaddr; reGen's default is true).
	AllowUnsafeIPAddr bool
	// ComfyUI: workflow template files overriding the embedded ones, and
	// the LoRA files of horde LoRA names (ComfyUIOptions.Loras).
	ComfyWorkflow        string
	ComfyImg2ImgWorkflow string
	ComfyInpaintWorkflow string
	Loras                map[string]string
}

// paintingBackends are the image backends that paint (worker/painting.go):
// --painting is on by default with them.
var paintingBackends = []string{"procedural", "a1111", "comfyui"}

// loraBackends are the image backends that apply LoRAs: --allow-lora is on
// by default with them.
var loraBackends = []string{"comfyui"}

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main without the process exit, for tests.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "version" {
		fmt.Fprintf(stdout, "hordeworker %s\n", worker.Version)
		return 0
	}
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "hordeworker: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	var start func(context.Context) error
	if cfg.Kind == kindAlchemy {
		backend, err := newAlchemyBackend(cfg, log)
		if err != nil {
			fmt.Fprintf(stderr, "hordeworker: %v\n", err)
			return 2
		}
		start = func(ctx context.Context) error { return worker.RunAlchemist(ctx, alchemistConfig(cfg, backend, log)) }
	} else {
		backend, err := newBackend(cfg, log)
		if err != nil {
			fmt.Fprintf(stderr, "hordeworker: %v\n", err)
			return 2
		}
		start = func(ctx context.Context) error { return worker.Run(ctx, workerConfig(cfg, backend, log)) }
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(signals)
	go func() {
		select {
		case s := <-signals:
			log.Info("signal received: finishing the jobs in flight; send another to quit now", "signal", s.String())
			cancel()
		case <-ctx.Done():
			return
		}
		if s, ok := <-signals; ok {
			log.Warn("second signal: quitting without submitting the jobs in flight", "signal", s.String())
			os.Exit(130)
		}
	}()

	if err := start(ctx); err != nil {
		log.Error("worker stopped", "err", err)
		return 1
	}
	return 0
}

// parseConfig reads the flags and the environment.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("hordeworker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg      config
		kind     string
		models   string
		forms    string
		logLevel string
		comfyURL string
		loras    string
	)
	host, _ := os.Hostname()
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:7001", "the horde's root URL (AI Horde v2 API)")
	fs.StringVar(&cfg.Name, "name", "hordeworker-"+host, "worker name, unique on the horde")
	fs.StringVar(&kind, "kind", "image", "job kind: image, text or alchemy")
	fs.StringVar(&cfg.Backend, "backend", "procedural", "backend: procedural, a1111, comfyui, kobold or openai")
	fs.StringVar(&cfg.BackendURL, "backend-url", "", "backend root URL (default per backend: a1111 :7860, comfyui :8188, kobold :5001, openai :8080)")
	fs.StringVar(&comfyURL, "comfyui-url", "", "comfyui: ComfyUI's root URL (the same as --backend-url; default http://127.0.0.1:8188)")
	fs.StringVar(&cfg.ComfyWorkflow, "comfyui-workflow", "", "comfyui: a txt2img workflow in ComfyUI's API format with {{placeholders}}, instead of the built-in one")
	fs.StringVar(&cfg.ComfyImg2ImgWorkflow, "comfyui-img2img-workflow", "", "comfyui: an img2img workflow (it must load {{image}}), instead of the built-in one")
	fs.StringVar(&cfg.ComfyInpaintWorkflow, "comfyui-inpaint-workflow", "", "comfyui: an inpainting/outpainting workflow (it must load {{image}}, transparent where to paint), instead of the built-in one")
	fs.BoolVar(&cfg.Painting, "painting", true, "image: take inpainting and outpainting jobs (Zoom out); procedural, a1111 and comfyui paint, --painting=false turns it off")
	fs.BoolVar(&cfg.AllowLora, "allow-lora", false, "image: take jobs with LoRAs (default on with comfyui, the backend that applies them; --allow-lora=false turns it off)")
	fs.BoolVar(&cfg.AllowUnsafeIPAddr, "allow-unsafe-ipaddr", true, "image: take img2img jobs sent from IP addresses the horde counts as unsafe (VPNs, proxies), as horde-worker-reGen does by default")
	fs.StringVar(&loras, "loras", "", "comfyui: comma-separated Name=file.safetensors, the LoRA file of a horde LoRA name (others are looked up by file name)")
	fs.StringVar(&cfg.BackendModel, "backend-model", "", "openai: the server's model name (default: the job's model)")
	fs.StringVar(&models, "models", "", "comma-separated models to serve (procedural: default \"procedural\"; comfyui: default every checkpoint, Name=file.safetensors renames one)")
	fs.IntVar(&cfg.MaxPixels, "max-pixels", worker.DefaultMaxPixels, "image: largest width*height")
	fs.IntVar(&cfg.MaxLength, "max-length", worker.DefaultMaxLength, "text: most tokens to generate")
	fs.IntVar(&cfg.MaxContextLength, "max-context-length", worker.DefaultMaxContextLength, "text: most tokens of context")
	fs.BoolVar(&cfg.NSFW, "nsfw", false, "accept NSFW requests")
	fs.IntVar(&cfg.Threads, "threads", 1, "jobs run at once")
	fs.IntVar(&cfg.MaxBatch, "max-batch", 1, "image: most items of one request per pop, made in one backend call (reGen's max_batch)")
	fs.BoolVar(&cfg.LimitMaxSteps, "limit-max-steps", false, "image: take no job with more steps than its model's average")
	fs.BoolVar(&cfg.ExtraSlowWorker, "extra-slow-worker", false, "image: this worker is very slow (under 0.1 megapixel-steps/s); only requests that allow it")
	fs.StringVar(&forms, "forms", "", "alchemy: comma-separated forms to offer (default: every form the backend can do)")
	fs.IntVar(&cfg.MaxTiles, "max-tiles", worker.DefaultAlchemyMaxTiles, "alchemy: most 512x512 tiles of an image to take (1..256)")
	fs.StringVar(&cfg.RembgURL, "rembg-url", "", "alchemy, a1111: a rembg server (rembg s) for strip_background, e.g. http://127.0.0.1:7000")
	fs.DurationVar(&cfg.PopInterval, "pop-interval", worker.DefaultPopInterval, "wait after a pop that found no job")
	fs.BoolVar(&cfg.Previews, "previews", true, "image: send live previews of jobs in progress (hordebot's extension; a horde without them gets none after its first 404)")
	fs.DurationVar(&cfg.PreviewInterval, "preview-interval", worker.DefaultPreviewInterval, "image: least time between two previews of one job (at least 1s)")
	fs.DurationVar(&cfg.StepTime, "procedural-step-time", 0, "procedural: time each step of an image job takes, showing a partial render after each (0: drawn at once)")
	fs.StringVar(&cfg.Contact, "contact", worker.DefaultContact, "contact sent in the Client-Agent header")
	fs.StringVar(&logLevel, "log-level", "info", "debug, info, warn or error")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: hordeworker [flags] | hordeworker version\n\n"+
			"The API key comes from $%s (and $%s for --backend openai).\n\n", envAPIKey, envOpenAIAPIKey)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	var err error
	cfg.Kind = aihorde.Kind(kind)
	if cfg.Kind != aihorde.KindImage && cfg.Kind != aihorde.KindText && cfg.Kind != kindAlchemy {
		return config{}, fmt.Errorf("--kind %q: want image, text or alchemy", kind)
	}
	def, ok := defaultBackendURLs[cfg.Backend]
	if !ok {
		return config{}, fmt.Errorf("--backend %q: want procedural, a1111, comfyui, kobold or openai", cfg.Backend)
	}
	if comfyURL != "" || cfg.ComfyWorkflow != "" || cfg.ComfyImg2ImgWorkflow != "" || cfg.ComfyInpaintWorkflow != "" || loras != "" {
		if cfg.Backend != "comfyui" {
			return config{}, errors.New("--comfyui-url, --comfyui-workflow, --comfyui-img2img-workflow, --comfyui-inpaint-workflow and --loras are for --backend comfyui")
		}
		if comfyURL != "" && cfg.BackendURL != "" && comfyURL != cfg.BackendURL {
			return config{}, errors.New("--comfyui-url and --backend-url name two URLs; give one")
		}
		if comfyURL != "" {
			cfg.BackendURL = comfyURL
		}
	}
	if cfg.BackendURL == "" {
		cfg.BackendURL = def
	}
	switch {
	case cfg.Backend == "a1111" && cfg.Kind == aihorde.KindText:
		return config{}, errors.New("--backend a1111 serves --kind image and alchemy only")
	case cfg.Backend == "comfyui" && cfg.Kind != aihorde.KindImage:
		return config{}, errors.New("--backend comfyui serves --kind image only")
	case (cfg.Backend == "kobold" || cfg.Backend == "openai") && cfg.Kind != aihorde.KindText:
		return config{}, fmt.Errorf("--backend %s serves --kind text only", cfg.Backend)
	}
	if err := cfg.setCapabilities(set); err != nil {
		return config{}, err
	}
	if cfg.Loras, err = parseLoras(loras); err != nil {
		return config{}, err
	}
	if len(cfg.Loras) > 0 && !cfg.AllowLora {
		return config{}, errors.New("--loras names LoRA files, but --allow-lora=false takes no job with LoRAs")
	}
	for _, m := range strings.Split(models, ",") {
		if m = strings.TrimSpace(m); m != "" {
			cfg.Models = append(cfg.Models, m)
		}
	}
	for _, f := range strings.Split(forms, ",") {
		if f = strings.TrimSpace(f); f != "" {
			if !aihorde.IsAlchemyForm(f) {
				return config{}, fmt.Errorf("--forms: %q is not an alchemy form (want %s, %s)", f,
					strings.Join(aihorde.TextForms, ", "), strings.Join(aihorde.PostProcessorForms, ", "))
			}
			cfg.Forms = append(cfg.Forms, f)
		}
	}
	if cfg.MaxTiles < 1 || cfg.MaxTiles > aihorde.MaxWorkerTiles {
		return config{}, fmt.Errorf("--max-tiles %d: want 1..%d", cfg.MaxTiles, aihorde.MaxWorkerTiles)
	}
	if len(cfg.Models) == 0 && cfg.Backend != "procedural" && cfg.Backend != "comfyui" && cfg.Kind != kindAlchemy {
		return config{}, fmt.Errorf("--models is required with --backend %s", cfg.Backend)
	}
	if cfg.Threads < 1 || cfg.Threads > worker.MaxThreads {
		return config{}, fmt.Errorf("--threads %d: want 1..%d", cfg.Threads, worker.MaxThreads)
	}
	if cfg.MaxBatch < 1 || cfg.MaxBatch > aihorde.MaxPopAmount {
		return config{}, fmt.Errorf("--max-batch %d: want 1..%d", cfg.MaxBatch, aihorde.MaxPopAmount)
	}
	if cfg.MaxPixels < 64*64 || cfg.MaxLength < 1 || cfg.MaxContextLength < 1 {
		return config{}, errors.New("--max-pixels, --max-length and --max-context-length must be positive (max-pixels at least 4096)")
	}
	if cfg.PreviewInterval < time.Second {
		return config{}, fmt.Errorf("--preview-interval %s: want at least 1s (the horde takes one preview a second per job)", cfg.PreviewInterval)
	}
	if cfg.StepTime < 0 || cfg.StepTime > worker.MaxProceduralStepTime {
		return config{}, fmt.Errorf("--procedural-step-time %s: want 0..%s", cfg.StepTime, worker.MaxProceduralStepTime)
	}
	if cfg.StepTime > 0 && cfg.Backend != "procedural" {
		return config{}, errors.New("--procedural-step-time is for --backend procedural")
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(logLevel)); err != nil {
		return config{}, fmt.Errorf("--log-level %q: %w", logLevel, err)
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return config{}, fmt.Errorf("--url %q: want http(s)://host[:port]", cfg.URL)
	}
	if cfg.Backend == "procedural" && isPublicHorde(u.Hostname()) {
		return config{}, fmt.Errorf("--backend procedural is a test backend and must not serve the public horde at %s", u.Hostname())
	}
	cfg.APIKey = strings.TrimSpace(getenv(envAPIKey))
	if cfg.APIKey == "" {
		return config{}, fmt.Errorf("$%s is not set", envAPIKey)
	}
	cfg.OpenAIAPIKey = strings.TrimSpace(getenv(envOpenAIAPIKey))
	return cfg, nil
}

// setCapabilities settles --painting and --allow-lora (set: the flags
// given): each is on by default with the image backends that can do it,
// off otherwise, and refused when asked of a backend that cannot.
func (cfg *config) setCapabilities(set map[string]bool) error {
	image := cfg.Kind == aihorde.KindImage
	canPaint := image && slices.Contains(paintingBackends, cfg.Backend)
	canLora := image && slices.Contains(loraBackends, cfg.Backend)
	switch {
	case set["painting"] && cfg.Painting && !canPaint:
		return fmt.Errorf("--painting: --kind %s --backend %s does not paint (%s do, for --kind image)", cfg.Kind, cfg.Backend, strings.Join(paintingBackends, ", "))
	case set["allow-lora"] && cfg.AllowLora && !canLora:
		return fmt.Errorf("--allow-lora: --kind %s --backend %s applies no LoRAs (%s does, for --kind image)", cfg.Kind, cfg.Backend, strings.Join(loraBackends, ", "))
	}
	cfg.Painting = cfg.Painting && canPaint
	if !set["allow-lora"] {
		cfg.AllowLora = canLora
	}
	return nil
}

// parseLoras reads --loras: comma-separated Name=file pairs.
func parseLoras(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		if pair = strings.TrimSpace(pair); pair == "" {
			continue
		}
		name, file, ok := strings.Cut(pair, "=")
		name, file = strings.TrimSpace(name), strings.TrimSpace(file)
		if !ok || name == "" || file == "" {
			return nil, fmt.Errorf("--loras %q: want Name=file.safetensors", pair)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("--loras: %q is named twice", name)
		}
		out[name] = file
	}
	return out, nil
}

// isPublicHorde reports whether host is (a subdomain of) a public horde.
func isPublicHorde(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, h := range publicHordes {
		if host == h || strings.HasSuffix(host, "."+h) {
			return true
		}
	}
	return false
}

// newBackend builds the configured backend.
func newBackend(cfg config, log *slog.Logger) (worker.Backend, error) {
	switch cfg.Backend {
	case "procedural":
		return &worker.Procedural{StepTime: cfg.StepTime}, nil
	case "a1111":
		return worker.NewA1111(worker.A1111Options{URL: cfg.BackendURL, Logger: log})
	case "comfyui":
		opts := worker.ComfyUIOptions{URL: cfg.BackendURL, Logger: log}
		var err error
		if opts.Txt2Img, err = readWorkflow("--comfyui-workflow", cfg.ComfyWorkflow); err != nil {
			return nil, err
		}
		if opts.Img2Img, err = readWorkflow("--comfyui-img2img-workflow", cfg.ComfyImg2ImgWorkflow); err != nil {
			return nil, err
		}
		if opts.Inpaint, err = readWorkflow("--comfyui-inpaint-workflow", cfg.ComfyInpaintWorkflow); err != nil {
			return nil, err
		}
		opts.Loras = cfg.Loras
		return worker.NewComfyUI(opts)
	case "kobold":
		return worker.NewKobold(worker.KoboldOptions{URL: cfg.BackendURL})
	case "openai":
		return worker.NewOpenAI(worker.OpenAIOptions{URL: cfg.BackendURL, APIKey: cfg.OpenAIAPIKey, Model: cfg.BackendModel})
	default:
		return nil, fmt.Errorf("unknown backend %q", cfg.Backend)
	}
}

// readWorkflow reads a workflow template file; "" is none (nil).
func readWorkflow(flagName, file string) ([]byte, error) {
	if file == "" {
		return nil, nil
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flagName, err)
	}
	return data, nil
}

// newAlchemyBackend builds the configured alchemy backend.
func newAlchemyBackend(cfg config, log *slog.Logger) (worker.AlchemyBackend, error) {
	switch cfg.Backend {
	case "procedural":
		return worker.ProceduralAlchemy{}, nil
	case "a1111":
		return worker.NewA1111Alchemy(worker.A1111AlchemyOptions{URL: cfg.BackendURL, RembgURL: cfg.RembgURL, Logger: log})
	default:
		return nil, fmt.Errorf("--backend %s serves no alchemy; use procedural or a1111", cfg.Backend)
	}
}

// alchemistConfig turns the command's config into the alchemist's.
func alchemistConfig(cfg config, b worker.AlchemyBackend, log *slog.Logger) worker.AlchemistConfig {
	return worker.AlchemistConfig{
		BaseURL:     cfg.URL,
		APIKey:      cfg.APIKey,
		Name:        cfg.Name,
		Forms:       cfg.Forms,
		MaxTiles:    cfg.MaxTiles,
		Threads:     cfg.Threads,
		Backend:     b,
		PopInterval: cfg.PopInterval,
		Contact:     cfg.Contact,
		Logger:      log,
	}
}

// workerConfig turns the command's config into the worker's.
func workerConfig(cfg config, b worker.Backend, log *slog.Logger) worker.Config {
	return worker.Config{
		BaseURL:           cfg.URL,
		APIKey:            cfg.APIKey,
		Name:              cfg.Name,
		Kind:              cfg.Kind,
		Models:            cfg.Models,
		MaxPixels:         cfg.MaxPixels,
		NSFW:              cfg.NSFW,
		AllowImg2Img:      cfg.Backend == "a1111" || cfg.Backend == "comfyui" || cfg.Backend == "procedural",
		AllowPainting:     cfg.Painting,
		AllowLora:         cfg.AllowLora,
		AllowUnsafeIPAddr: cfg.AllowUnsafeIPAddr,
		MaxLength:         cfg.MaxLength,
		MaxContextLength:  cfg.MaxContextLength,
		Threads:           cfg.Threads,
		MaxBatch:          cfg.MaxBatch,
		LimitMaxSteps:     cfg.LimitMaxSteps,
		ExtraSlowWorker:   cfg.ExtraSlowWorker,
		Backend:           b,
		PopInterval:       cfg.PopInterval,
		Previews:          cfg.Previews,
		PreviewInterval:   cfg.PreviewInterval,
		Contact:           cfg.Contact,
		Logger:            log,
	}
}

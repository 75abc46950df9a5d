package worker

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"io"
	"log/slog"
	"maps"
	"math/big"
	"mime/multipart"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/disintegration/imaging"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// ComfyUIOptions configures the ComfyUI backend.
type ComfyUIOptions struct {
	// URL is ComfyUI's root, e.g. http://127.0.0.1:8188.
	URL string
	// Txt2Img and Img2Img are workflow templates in ComfyUI's API format
	// (comfyui_workflow.go); nil takes the embedded defaults. Img2Img must
	// use {{image}}.
	Txt2Img []byte
	Img2Img []byte
	// Inpaint is the template of painting jobs (inpainting and
	// outpainting), nil for the embedded one: it must load {{image}}, an
	// RGBA PNG transparent where to paint (LoadImage's MASK output).
	Inpaint []byte
	// Loras maps a LoRA's name as jobs give it (the AI Horde's: a CivitAI
	// name or id) to one of ComfyUI's LoRA files (LoraLoader's lora_name).
	// A LoRA not in it is looked up among ComfyUI's files by file name,
	// with or without the extension or folder, in any case.
	Loras map[string]string
	// HistoryPollInterval is how often a job asks /history whether its
	// prompt is done besides following the websocket (a backstop for a lost
	// message), default DefaultComfyHistoryPoll; without a websocket it
	// polls at most every second.
	HistoryPollInterval time.Duration
	HTTPClient          *http.Client
	Logger              *slog.Logger
}

// DefaultComfyHistoryPoll is ComfyUIOptions.HistoryPollInterval's default.
const DefaultComfyHistoryPoll = 5 * time.Second

// comfyQueueTimeout bounds POST /prompt.
const comfyQueueTimeout = 30 * time.Second

// ErrBackendSetup is returned (wrapped) by a ModelResolver whose server
// cannot serve the worker's configuration: none of its models, or a
// workflow node the server does not have. Retrying does not help.
var ErrBackendSetup = errors.New("the backend cannot serve this configuration")

// ModelResolver is a backend that learns from its server which models it
// serves. Run calls ResolveModels once the backend is up, before popping,
// with Config.Models (empty: every model the server has), and offers the
// names it returns. An error wrapping ErrBackendSetup stops Run; any other
// is retried.
type ModelResolver interface {
	ResolveModels(ctx context.Context, wanted []string) ([]string, error)
}

// ComfyUI is a backend for ComfyUI's own HTTP API: each image job is a
// workflow (txt2img, or img2img with the source uploaded through POST
// /upload/image) queued with POST /prompt, followed on the websocket /ws
// (progress, preview frames, the end or an execution_error), then read from
// /history/{prompt_id} and GET /view. A job that ends before its prompt
// (TTL, shutdown) takes it out of the queue, or interrupts it when it is
// running. The models are the checkpoints of CheckpointLoaderSimple
// (ResolveModels).
type ComfyUI struct {
	base      *url.URL
	txt2img   *ComfyWorkflow
	img2img   *ComfyWorkflow
	inpaint   *ComfyWorkflow
	loraNames map[string]string
	pollEvery time.Duration
	http      *http.Client
	log       *slog.Logger

	mu        sync.RWMutex
	ckpts     map[string]string // horde model name -> ckpt_name, from ResolveModels
	loraFiles []string          // LoraLoader's lora_name choices, from ResolveModels
}

var (
	_ BatchBackend  = (*ComfyUI)(nil)
	_ HealthChecker = (*ComfyUI)(nil)
	_ ModelResolver = (*ComfyUI)(nil)
)

// NewComfyUI checks opts (the URL, the workflows) and returns the backend.
func NewComfyUI(opts ComfyUIOptions) (*ComfyUI, error) {
	u, err := backendURL("comfyui", opts.URL)
	if err != nil {
		return nil, err
	}
	t2i, i2i, inp := opts.Txt2Img, opts.Img2Img, opts.Inpaint
	if t2i == nil {
		t2i = defaultComfyTxt2Img
	}
	if i2i == nil {
		i2i = defaultComfyImg2Img
	}
	if inp == nil {
		inp = defaultComfyInpaint
	}
	c := &ComfyUI{base: u, pollEvery: opts.HistoryPollInterval, http: opts.HTTPClient, log: opts.Logger, loraNames: opts.Loras}
	if c.txt2img, err = ParseComfyWorkflow("txt2img", t2i); err != nil {
		return nil, err
	}
	if c.txt2img.Uses("image") {
		return nil, errors.New("comfyui workflow txt2img: {{image}} is for the img2img workflow")
	}
	if c.img2img, err = ParseComfyWorkflow("img2img", i2i); err != nil {
		return nil, err
	}
	if !c.img2img.Uses("image") {
		return nil, errors.New("comfyui workflow img2img: it must load the source image {{image}} (LoadImage)")
	}
	if c.inpaint, err = ParseComfyWorkflow("inpaint", inp); err != nil {
		return nil, err
	}
	if !c.inpaint.Uses("image") {
		return nil, errors.New("comfyui workflow inpaint: it must load the source image {{image}} (LoadImage, whose MASK is where to paint)")
	}
	if c.pollEvery <= 0 {
		c.pollEvery = DefaultComfyHistoryPoll
	}
	if c.http == nil {
		c.http = defaultBackendHTTPClient()
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	return c, nil
}

// Healthy asks ComfyUI for its system stats (cheap, no generation).
func (c *ComfyUI) Healthy(ctx context.Context) error {
	return getHealthy(ctx, c.http, "comfyui", joinPath(c.base, "/system_stats"), nil)
}

// comfyNodeInfo is one node class of GET /object_info/{class}.
type comfyNodeInfo struct {
	Input struct {
		Required map[string]json.RawMessage `json:"required"`
	} `json:"input"`
	Output     []json.RawMessage `json:"output"`
	OutputNode bool              `json:"output_node"`
}

// objectInfo returns ComfyUI's description of a node class; ok is false
// when ComfyUI has no such node (it answers {}).
func (c *ComfyUI) objectInfo(ctx context.Context, class string) (comfyNodeInfo, bool, error) {
	var out map[string]comfyNodeInfo
	target := joinPath(c.base, "/object_info/"+url.PathEscape(class))
	if err := getBackendJSON(ctx, c.http, "comfyui", target, maxBackendResponse, &out); err != nil {
		return comfyNodeInfo{}, false, err
	}
	info, ok := out[class]
	return info, ok, nil
}

// ResolveModels checks that ComfyUI has every node the workflows use (and
// that their links name outputs those nodes have), lists the checkpoints of
// CheckpointLoaderSimple and returns the models to offer: with wanted
// empty, every checkpoint by its file name without the extension or folder
// (of two with one name, the first); else each wanted name that matches a
// checkpoint (its file name with or without the extension or folder, in
// any case), or "Name=checkpoint file" for a horde name of one's own.
// Wanted models ComfyUI does not have are logged and left out.
func (c *ComfyUI) ResolveModels(ctx context.Context, wanted []string) ([]string, error) {
	var err error
	infos := map[string]comfyNodeInfo{}
	var missing []string
	for _, w := range c.workflows() {
		for _, class := range w.classTypes() {
			if _, done := infos[class]; done || slices.Contains(missing, class) {
				continue
			}
			info, ok, err := c.objectInfo(ctx, class)
			if err != nil {
				return nil, err
			}
			if !ok {
				missing = append(missing, class)
				continue
			}
			infos[class] = info
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("comfyui: %w: ComfyUI has no node %s (a workflow uses it; install it or change the workflow)",
			ErrBackendSetup, strings.Join(missing, ", "))
	}
	for _, w := range c.workflows() {
		if err := checkComfyOutputs(w, infos); err != nil {
			return nil, fmt.Errorf("comfyui: %w: %w", ErrBackendSetup, err)
		}
	}
	loader, ok := infos["CheckpointLoaderSimple"]
	if !ok {
		if loader, ok, err = c.objectInfo(ctx, "CheckpointLoaderSimple"); err != nil {
			return nil, err
		}
	}
	var ckpts []string
	if ok {
		ckpts = comfyChoices(loader.Input.Required["ckpt_name"])
	}
	if len(ckpts) == 0 {
		return nil, fmt.Errorf("comfyui: %w: ComfyUI lists no checkpoint (models/checkpoints is empty)", ErrBackendSetup)
	}
	names, table := matchComfyCheckpoints(ckpts, wanted, c.log)
	if len(names) == 0 {
		return nil, fmt.Errorf("comfyui: %w: none of the models %q is a checkpoint of ComfyUI (it has %s)",
			ErrBackendSetup, wanted, strings.Join(firstN(ckpts, 20), ", "))
	}
	// LoRAs and the hires fix add nodes of their own: without them, jobs
	// run without the LoRAs or the second pass.
	loraInfo, hasLoras, err := c.objectInfo(ctx, "LoraLoader")
	if err != nil {
		return nil, err
	}
	var loraFiles []string
	if hasLoras {
		loraFiles = comfyChoices(loraInfo.Input.Required["lora_name"])
	}
	for name, file := range c.loraNames {
		if _, ok := findComfyCheckpoint(loraFiles, file); !ok {
			c.log.Warn("comfyui: no such LoRA file in ComfyUI; jobs asking for it run without it", "lora", name, "file", file)
		}
	}
	c.mu.Lock()
	c.ckpts, c.loraFiles = table, loraFiles
	c.mu.Unlock()
	return names, nil
}

// workflows are the templates the backend runs.
func (c *ComfyUI) workflows() []*ComfyWorkflow {
	return []*ComfyWorkflow{c.txt2img, c.img2img, c.inpaint}
}

// resolveLoras finds ComfyUI's file for each of a job's LoRAs: the name
// mapped in ComfyUIOptions.Loras, or a file of that name. The ones it has
// no file for are returned as gen_metadata (the job runs without them).
func (c *ComfyUI) resolveLoras(loras []aihorde.Lora) ([]comfyLora, []aihorde.GenMetadata) {
	c.mu.RLock()
	files := c.loraFiles
	c.mu.RUnlock()
	var out []comfyLora
	var missing []aihorde.GenMetadata
	for _, l := range loras {
		want := l.Name
		for k, v := range c.loraNames {
			if strings.EqualFold(k, l.Name) {
				want = v
			}
		}
		file, ok := findComfyCheckpoint(files, want)
		if !ok {
			missing = append(missing, loraMissing(l.Name))
			continue
		}
		out = append(out, comfyLora{file: file, model: l.Model, clip: l.Clip})
	}
	return out, missing
}

// checkComfyOutputs checks that each link of w names an output its node's
// class has, and that w has an output node.
func checkComfyOutputs(w *ComfyWorkflow, infos map[string]comfyNodeInfo) error {
	var errs []error
	hasOutput := false
	for _, id := range slices.Sorted(maps.Keys(w.nodes)) {
		n := w.nodes[id].(map[string]any)
		if infos[n["class_type"].(string)].OutputNode {
			hasOutput = true
		}
		inputs := n["inputs"].(map[string]any)
		for _, in := range slices.Sorted(maps.Keys(inputs)) {
			l, ok := asComfyLink(inputs[in])
			if !ok {
				continue
			}
			class := w.nodes[l.node].(map[string]any)["class_type"].(string)
			if l.output >= len(infos[class].Output) {
				errs = append(errs, fmt.Errorf("workflow %s: node %s input %s links to output %d of %s, which has %d",
					w.name, id, in, l.output, class, len(infos[class].Output)))
			}
		}
	}
	if !hasOutput {
		errs = append(errs, fmt.Errorf("workflow %s has no output node (SaveImage)", w.name))
	}
	return errors.Join(errs...)
}

// comfyChoices reads a combo input's choices from /object_info: [[a, b, ...], {...}]
// or, in newer ComfyUI, ["COMBO", {"options": [a, b, ...]}].
func comfyChoices(raw json.RawMessage) []string {
	var spec []json.RawMessage
	if json.Unmarshal(raw, &spec) != nil || len(spec) == 0 {
		return nil
	}
	var list []string
	if json.Unmarshal(spec[0], &list) == nil {
		return list
	}
	var kind string
	if json.Unmarshal(spec[0], &kind) == nil && kind == "COMBO" && len(spec) > 1 {
		var opts struct {
			Options []string `json:"options"`
		}
		if json.Unmarshal(spec[1], &opts) == nil {
			return opts.Options
		}
	}
	return nil
}

// matchComfyCheckpoints returns the model names to offer and the table from
// name to checkpoint.
func matchComfyCheckpoints(ckpts, wanted []string, log *slog.Logger) ([]string, map[string]string) {
	table := map[string]string{}
	var names []string
	add := func(name, ckpt string) {
		if prev, ok := table[name]; ok {
			if prev != ckpt {
				log.Warn("comfyui: two checkpoints for one model; using the first", "model", name, "first", prev, "other", ckpt)
			}
			return
		}
		table[name] = ckpt
		names = append(names, name)
	}
	if len(wanted) == 0 {
		for _, ck := range ckpts {
			base := path.Base(strings.ReplaceAll(ck, `\`, "/"))
			add(strings.TrimSuffix(base, path.Ext(base)), ck)
		}
		return names, table
	}
	for _, w := range wanted {
		name, file, explicit := strings.Cut(w, "=")
		name, file = strings.TrimSpace(name), strings.TrimSpace(file)
		if !explicit {
			file = name
		}
		ck, ok := findComfyCheckpoint(ckpts, file)
		if !ok || name == "" {
			log.Warn("comfyui: no checkpoint for this model; not offering it", "model", w)
			continue
		}
		add(name, ck)
	}
	return names, table
}

// findComfyCheckpoint finds the checkpoint named name: exactly, or in any
// case with or without its extension and folder.
func findComfyCheckpoint(ckpts []string, name string) (string, bool) {
	if slices.Contains(ckpts, name) {
		return name, true
	}
	for _, ck := range ckpts {
		slashed := strings.ReplaceAll(ck, `\`, "/")
		stem := strings.TrimSuffix(slashed, path.Ext(slashed))
		for _, form := range []string{slashed, stem, path.Base(slashed), path.Base(stem)} {
			if strings.EqualFold(form, name) {
				return ck, true
			}
		}
	}
	return "", false
}

// checkpoint returns the checkpoint of a job's model.
func (c *ComfyUI) checkpoint(model string) (string, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if ck, ok := c.ckpts[model]; ok {
		return ck, nil
	}
	if c.ckpts == nil && model != "" {
		return model, nil // not resolved (a library user): the model is the file
	}
	return "", fmt.Errorf("comfyui: no checkpoint for model %q", model)
}

// Generate runs an image job as a ComfyUI workflow.
func (c *ComfyUI) Generate(ctx context.Context, job Job) (Result, error) {
	rs, err := c.GenerateBatch(ctx, job, 1)
	if err != nil {
		return Result{}, err
	}
	return rs[0], nil
}

// GenerateBatch makes n images of an image job in one ComfyUI prompt
// (batch_size n: EmptyLatentImage's batch, or RepeatLatentBatch after the
// source is encoded). ComfyUI draws a batch's noise from one seed, so every
// image is submitted with the job's seed and its batch_index in
// gen_metadata, as reGen does. A workflow of one's own without
// {{batch_size}} makes the images one prompt each, image i with seed
// job.BatchSeed(i).
func (c *ComfyUI) GenerateBatch(ctx context.Context, job Job, n int) ([]Result, error) {
	if job.Kind != aihorde.KindImage || job.Image == nil {
		return nil, fmt.Errorf("comfyui: job %s: not an image job", job.ID)
	}
	if n < 1 {
		return nil, fmt.Errorf("comfyui: job %s: a batch of %d images", job.ID, n)
	}
	wf := c.txt2img
	switch {
	case isPainting(job.Image):
		wf = c.inpaint
	case len(job.Image.SourceImage) > 0:
		wf = c.img2img
	}
	if n > 1 && !wf.Uses("batch_size") {
		out := make([]Result, 0, n)
		for i := range n {
			one := job
			one.Seed, one.SeedStep = job.BatchSeed(i), 0
			rs, err := c.generate(ctx, one, wf, 1)
			if err != nil {
				return nil, fmt.Errorf("image %d of the batch: %w", i, err)
			}
			out = append(out, rs[0])
		}
		return out, nil
	}
	return c.generate(ctx, job, wf, n)
}

// generate queues one prompt of workflow wf making n images and reads them.
func (c *ComfyUI) generate(ctx context.Context, job Job, wf *ComfyWorkflow, n int) ([]Result, error) {
	ckpt, err := c.checkpoint(job.Model)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", job.ID, err)
	}
	p := job.Image
	pos, neg := aihorde.SplitPrompt(job.Prompt)
	sampler, scheduler, known := ComfyUISampler(p.SamplerName, p.Karras)
	if !known && p.SamplerName != "" {
		c.log.Warn("comfyui: unknown sampler; using the default", "sampler", p.SamplerName, "default", sampler, "job", job.ID)
	}
	seed := job.Seed
	if !job.SeedSet {
		r, err := rand.Int(rand.Reader, big.NewInt(1<<32))
		if err != nil {
			return nil, fmt.Errorf("comfyui: job %s: seed: %w", job.ID, err)
		}
		seed = r.Int64()
	}
	vals := map[string]any{
		"prompt":          pos,
		"negative_prompt": neg,
		// ComfyUI takes 0..2^64-1: a negative seed is sent as the same 64 bits.
		"seed":            uint64(seed),
		"steps":           p.Steps,
		"cfg":             p.CFGScale,
		"sampler_name":    sampler,
		"scheduler":       scheduler,
		"denoise":         1.0,
		"width":           p.Width,
		"height":          p.Height,
		"ckpt_name":       ckpt,
		"model":           job.Model,
		"clip_layer":      -max(1, p.ClipSkip),
		"filename_prefix": "hordeworker/" + safeFileName(job.ID),
		"batch_size":      n,
	}
	clientID, err := randomHex(16)
	if err != nil {
		return nil, fmt.Errorf("comfyui: job %s: %w", job.ID, err)
	}
	// The websocket is opened before the prompt is queued so that no
	// message of it is missed.
	ws := c.dialEvents(ctx, job.ID, clientID, job.Preview != nil)
	defer ws.close()

	switch wf {
	case c.inpaint:
		// VAEEncodeForInpaint blanks what it paints: it is sampled whole.
		pj, err := jobPaint(p)
		if err != nil {
			return nil, fmt.Errorf("comfyui: job %s: %w", job.ID, err)
		}
		canvas, err := pj.canvasPNG()
		if err != nil {
			return nil, fmt.Errorf("comfyui: job %s: %w", job.ID, err)
		}
		if vals["image"], err = c.upload(ctx, job, canvas); err != nil {
			return nil, fmt.Errorf("job %s: %w", job.ID, err)
		}
	case c.img2img:
		name, err := c.uploadSource(ctx, job)
		if err != nil {
			return nil, fmt.Errorf("job %s: %w", job.ID, err)
		}
		vals["image"] = name
		vals["denoise"] = p.DenoisingStrength
		if p.DenoisingStrength <= 0 || p.DenoisingStrength > 1 {
			vals["denoise"] = aihorde.DefaultDenoisingStrength
		}
	}
	graph, err := wf.fill(vals)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", job.ID, err)
	}
	loras, meta := c.resolveLoras(p.Loras)
	for _, m := range meta {
		c.log.Warn("comfyui: ComfyUI has no file for this LoRA; the job runs without it", "lora", m.Ref, "job", job.ID)
	}
	if !addComfyLoras(graph, loras) {
		c.log.Warn("comfyui: the workflow has no CheckpointLoaderSimple to add LoRAs after; the job runs without them", "job", job.ID)
		for _, l := range p.Loras {
			meta = append(meta, loraMissing(l.Name))
		}
	}
	if wf == c.txt2img && needsHiresFix(p) {
		d := p.HiresFixDenoisingStrength
		if d <= 0 || d > 1 {
			d = DefaultHiresFixDenoisingStrength
		}
		if !addComfyHiresFix(graph, p.Width, p.Height, d) {
			c.log.Warn("comfyui: the workflow has no KSampler on an EmptyLatentImage; the job runs without the hires fix", "job", job.ID)
		}
	}
	// Queuing is not cut short by the job's end: a prompt queued without
	// its id known could be neither deleted nor interrupted (follow does
	// that when ctx has ended).
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), comfyQueueTimeout)
	promptID, err := c.queuePrompt(qctx, graph, clientID)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", job.ID, err)
	}
	entry, err := c.follow(ctx, job, promptID, ws)
	if err != nil {
		if ce := (*ComfyUIError)(nil); errors.As(err, &ce) {
			c.forget(ctx, promptID)
		}
		return nil, fmt.Errorf("job %s: %w", job.ID, err)
	}
	images, err := c.outputImages(ctx, entry, n)
	c.forget(ctx, promptID)
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", job.ID, err)
	}
	out := make([]Result, 0, n)
	for i, data := range images {
		img, _, err := decodeImage(data)
		if err != nil {
			return nil, fmt.Errorf("comfyui: job %s: output %d: %w", job.ID, i, err)
		}
		webp, err := EncodeWebP(img)
		if err != nil {
			return nil, fmt.Errorf("comfyui: job %s: %w", job.ID, err)
		}
		md := slices.Clone(meta)
		if n > 1 {
			md = append(md, batchIndex(i))
		}
		out = append(out, Result{Image: webp, ContentType: "image/webp", Seed: seed, State: aihorde.StateOK, Metadata: md})
	}
	return out, nil
}

// uploadSource uploads an img2img job's source image, fitted to the job's
// size, as a PNG into ComfyUI's input folder (subfolder hordeworker) and
// returns the name LoadImage takes.
func (c *ComfyUI) uploadSource(ctx context.Context, job Job) (string, error) {
	src, _, err := decodeImage(job.Image.SourceImage)
	if err != nil {
		return "", fmt.Errorf("comfyui: source image: %w", err)
	}
	if b := src.Bounds(); b.Dx() != job.Image.Width || b.Dy() != job.Image.Height {
		src = imaging.Fill(src, job.Image.Width, job.Image.Height, imaging.Center, imaging.Lanczos)
	}
	var pngBuf bytes.Buffer
	if err := png.Encode(&pngBuf, src); err != nil {
		return "", fmt.Errorf("comfyui: source image: %w", err)
	}
	return c.upload(ctx, job, pngBuf.Bytes())
}

// upload uploads a job's PNG into ComfyUI's input folder (subfolder
// hordeworker) and returns the name LoadImage takes.
func (c *ComfyUI) upload(ctx context.Context, job Job, pngData []byte) (string, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("image", safeFileName(job.ID)+".png")
	if err != nil {
		return "", fmt.Errorf("comfyui: upload: %w", err)
	}
	_, _ = fw.Write(pngData)
	_ = mw.WriteField("type", "input")
	_ = mw.WriteField("subfolder", "hordeworker")
	_ = mw.WriteField("overwrite", "true")
	if err := mw.Close(); err != nil {
		return "", fmt.Errorf("comfyui: upload: %w", err)
	}
	var out struct {
		Name      string `json:"name"`
		Subfolder string `json:"subfolder"`
	}
	data, status, err := c.send(ctx, http.MethodPost, "/upload/image", mw.FormDataContentType(), body.Bytes())
	if err != nil {
		return "", err
	}
	if status/100 != 2 {
		return "", &BackendError{Backend: "comfyui", URL: joinPath(c.base, "/upload/image"), StatusCode: status, Body: snippet(data)}
	}
	if err := json.Unmarshal(data, &out); err != nil || out.Name == "" {
		return "", fmt.Errorf("comfyui: upload: answer %s", snippet(data))
	}
	if out.Subfolder != "" {
		return out.Subfolder + "/" + out.Name, nil
	}
	return out.Name, nil
}

// ComfyUIError is ComfyUI refusing a workflow (POST /prompt's error and
// node_errors) or failing to run it (an execution_error).
type ComfyUIError struct {
	// Message says what went wrong, with the node ids, classes and ComfyUI's text.
	Message string
}

func (e *ComfyUIError) Error() string { return "comfyui: " + e.Message }

// queuePrompt queues a workflow and returns its prompt id.
func (c *ComfyUI) queuePrompt(ctx context.Context, graph map[string]any, clientID string) (string, error) {
	body, err := json.Marshal(map[string]any{"prompt": graph, "client_id": clientID})
	if err != nil {
		return "", fmt.Errorf("comfyui: encode workflow: %w", err)
	}
	data, status, err := c.send(ctx, http.MethodPost, "/prompt", "application/json", body)
	if err != nil {
		return "", err
	}
	var out struct {
		PromptID   string                     `json:"prompt_id"`
		Error      json.RawMessage            `json:"error"`
		NodeErrors map[string]comfyNodeErrors `json:"node_errors"`
	}
	decodeErr := json.Unmarshal(data, &out)
	if status/100 != 2 {
		if decodeErr != nil {
			return "", &BackendError{Backend: "comfyui", URL: joinPath(c.base, "/prompt"), StatusCode: status, Body: snippet(data)}
		}
		return "", &ComfyUIError{Message: "the workflow was refused: " + describeComfyRefusal(out.Error, out.NodeErrors)}
	}
	if decodeErr != nil || out.PromptID == "" {
		return "", fmt.Errorf("comfyui: POST /prompt: answer %s", snippet(data))
	}
	if len(out.NodeErrors) > 0 {
		c.log.Warn("comfyui: some outputs of the workflow failed validation", "errors", describeComfyRefusal(nil, out.NodeErrors))
	}
	return out.PromptID, nil
}

// comfyNodeErrors is one node's entry in node_errors.
type comfyNodeErrors struct {
	ClassType string `json:"class_type"`
	Errors    []struct {
		Message string `json:"message"`
		Details string `json:"details"`
	} `json:"errors"`
}

// describeComfyRefusal turns POST /prompt's error and node_errors into one line.
func describeComfyRefusal(topErr json.RawMessage, nodeErrs map[string]comfyNodeErrors) string {
	var parts []string
	var s string
	var obj struct {
		Message string `json:"message"`
		Details string `json:"details"`
	}
	switch {
	case json.Unmarshal(topErr, &s) == nil && s != "":
		parts = append(parts, s)
	case json.Unmarshal(topErr, &obj) == nil && obj.Message != "":
		parts = append(parts, strings.TrimSuffix(obj.Message+": "+obj.Details, ": "))
	}
	for _, id := range slices.Sorted(maps.Keys(nodeErrs)) {
		ne := nodeErrs[id]
		for _, e := range ne.Errors {
			parts = append(parts, fmt.Sprintf("node %s (%s): %s", id, ne.ClassType, strings.TrimSuffix(e.Message+": "+e.Details, ": ")))
		}
	}
	if len(parts) == 0 {
		return "no reason given"
	}
	return strings.Join(parts, "; ")
}

// send makes one request to ComfyUI and returns the answer's body (bounded) and status.
func (c *ComfyUI) send(ctx context.Context, method, route, contentType string, body []byte) ([]byte, int, error) {
	target := joinPath(c.base, route)
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, 0, fmt.Errorf("comfyui: %w", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("comfyui: %s %s: %w", method, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBackendResponse+1))
	if err != nil {
		return nil, 0, fmt.Errorf("comfyui: %s %s: read answer: %w", method, target, err)
	}
	if len(data) > maxBackendResponse {
		return nil, 0, fmt.Errorf("comfyui: %s %s: answer over %d bytes", method, target, maxBackendResponse)
	}
	return data, resp.StatusCode, nil
}

// postQuietly POSTs a JSON body and logs a failure at debug level (cleanups).
func (c *ComfyUI) postQuietly(ctx context.Context, route string, body any) {
	data, _ := json.Marshal(body)
	if _, status, err := c.send(ctx, http.MethodPost, route, "application/json", data); err != nil || status/100 != 2 {
		c.log.Debug("comfyui: cleanup", "route", route, "status", status, "err", err)
	}
}

// safeFileName keeps the letters, digits, '-' and '_' of s (a job id) for a file name.
func safeFileName(s string) string {
	out := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
	if out == "" {
		return "job"
	}
	return out
}

// randomHex returns n random bytes in hex.
func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// firstN returns the first n of s, and "..." when there are more.
func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(slices.Clone(s[:n]), "...")
}

package worker

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// A1111AlchemyOptions configures the AUTOMATIC1111/Forge alchemy backend.
type A1111AlchemyOptions struct {
	// URL is the web UI's root, e.g. http://127.0.0.1:7860 (started with --api).
	URL string
	// CaptionModel is the interrogate model of a caption (default "blip");
	// a web UI that does not know it (AUTOMATIC1111 knows "clip" and
	// "deepdanbooru") answers 404, and the caption is then the part of a
	// "clip" interrogation before its first comma: the BLIP caption the
	// CLIP interrogator starts from.
	CaptionModel string
	// InterrogationModel is the interrogate model of an interrogation
	// (default "clip").
	InterrogationModel string
	// Upscalers maps a horde post-processor to the web UI's upscaler name
	// (upscaler_1), over DefaultA1111Upscalers.
	Upscalers map[string]string
	// RembgURL is the root of a rembg server ("rembg s", default port
	// 7000) for strip_background; empty: the form is not offered.
	RembgURL string
	// RembgModel is the rembg model (default: the server's, u2net).
	RembgModel string
	HTTPClient *http.Client
	Logger     *slog.Logger
}

// DefaultA1111Upscalers are the web UI's names of the horde's upscalers:
// the Real-ESRGAN ones it ships, and the ESRGAN models by their usual file
// names (models/ESRGAN/4x_NMKD-Siax_200k.pth, 4x-AnimeSharp.pth).
var DefaultA1111Upscalers = map[string]string{
	aihorde.FormRealESRGANx4:      "R-ESRGAN 4x+",
	aihorde.FormRealESRGANx2:      "R-ESRGAN 2x+",
	aihorde.FormRealESRGANx4Anime: "R-ESRGAN 4x+ Anime6B",
	aihorde.FormNMKDSiax:          "4x_NMKD-Siax_200k",
	aihorde.FormAnimeSharp:        "4x-AnimeSharp",
}

// defaultFacefixerStrength is CodeFormer's weight when the form's payload
// names no facefixer_strength (AI-Horde-Worker's default).
const defaultFacefixerStrength = 0.5

// A1111Alchemy is an alchemy backend for AUTOMATIC1111's web UI API and
// its forks (Forge): POST /sdapi/v1/interrogate for caption and
// interrogation, /sdapi/v1/extra-single-image for the upscalers and the
// face fixers (GFPGAN, CodeFormer), and a rembg server's POST /api/remove
// for strip_background. Results are re-encoded as WebP. nsfw is not
// offered: the web UI has no classifier behind its API.
type A1111Alchemy struct {
	base, rembg  *url.URL
	captionModel string
	clipModel    string
	rembgModel   string
	upscalers    map[string]string
	http         *http.Client
	log          *slog.Logger
}

var (
	_ AlchemyBackend = (*A1111Alchemy)(nil)
	_ HealthChecker  = (*A1111Alchemy)(nil)
)

// NewA1111Alchemy checks opts and returns the backend.
func NewA1111Alchemy(opts A1111AlchemyOptions) (*A1111Alchemy, error) {
	u, err := backendURL("a1111", opts.URL)
	if err != nil {
		return nil, err
	}
	a := &A1111Alchemy{
		base: u, captionModel: opts.CaptionModel, clipModel: opts.InterrogationModel, rembgModel: opts.RembgModel,
		upscalers: map[string]string{}, http: opts.HTTPClient, log: opts.Logger,
	}
	if strings.TrimSpace(opts.RembgURL) != "" {
		if a.rembg, err = backendURL("rembg", opts.RembgURL); err != nil {
			return nil, err
		}
	}
	if a.captionModel == "" {
		a.captionModel = "blip"
	}
	if a.clipModel == "" {
		a.clipModel = "clip"
	}
	for k, v := range DefaultA1111Upscalers {
		a.upscalers[k] = v
	}
	for k, v := range opts.Upscalers {
		if aihorde.Upscalers[k] == 0 {
			return nil, fmt.Errorf("a1111: upscaler for %q: not a horde upscaler", k)
		}
		a.upscalers[k] = v
	}
	if a.http == nil {
		a.http = defaultBackendHTTPClient()
	}
	if a.log == nil {
		a.log = slog.Default()
	}
	return a, nil
}

// Forms are caption, interrogation, the upscalers, GFPGAN and CodeFormers,
// and strip_background with a rembg server.
func (a *A1111Alchemy) Forms() []string {
	forms := []string{aihorde.FormCaption, aihorde.FormInterrogation}
	for _, f := range aihorde.PostProcessorForms {
		if f == aihorde.FormStripBackground && a.rembg == nil {
			continue
		}
		forms = append(forms, f)
	}
	return forms
}

// Healthy asks the web UI for its progress (cheap, no generation).
func (a *A1111Alchemy) Healthy(ctx context.Context) error {
	return getHealthy(ctx, a.http, "a1111", joinPath(a.base, "/sdapi/v1/progress")+"?skip_current_image=true", nil)
}

// Alchemize runs one form on the web UI (or rembg).
func (a *A1111Alchemy) Alchemize(ctx context.Context, job AlchemyJob) (AlchemyResult, error) {
	if len(job.Source) == 0 {
		return AlchemyResult{}, fmt.Errorf("a1111: form %s: no source image", job.ID)
	}
	switch {
	case job.Form == aihorde.FormCaption:
		c, err := a.caption(ctx, job)
		return AlchemyResult{Value: c}, err
	case job.Form == aihorde.FormInterrogation:
		text, err := a.interrogate(ctx, job, a.clipModel)
		if err != nil {
			return AlchemyResult{}, err
		}
		return AlchemyResult{Value: clipDetails(text)}, nil
	case job.Form == aihorde.FormStripBackground && a.rembg != nil:
		return a.removeBackground(ctx, job)
	case aihorde.Upscalers[job.Form] > 0 || job.Form == aihorde.FormGFPGAN || job.Form == aihorde.FormCodeFormers:
		return a.extras(ctx, job)
	}
	return AlchemyResult{}, fmt.Errorf("a1111: form %s: form %q is not offered", job.ID, job.Form)
}

// caption interrogates with the caption model, falling back to the part of
// a CLIP interrogation before its first comma when the web UI has no such
// model.
func (a *A1111Alchemy) caption(ctx context.Context, job AlchemyJob) (string, error) {
	text, err := a.interrogate(ctx, job, a.captionModel)
	var be *BackendError
	if errors.As(err, &be) && be.StatusCode == http.StatusNotFound && a.captionModel != a.clipModel {
		text, err = a.interrogate(ctx, job, a.clipModel)
		if err == nil {
			text, _, _ = strings.Cut(text, ",")
		}
	}
	if err != nil {
		return "", err
	}
	if text = strings.TrimSpace(text); text == "" {
		return "", fmt.Errorf("a1111: form %s: empty caption", job.ID)
	}
	return text, nil
}

// interrogate calls POST /sdapi/v1/interrogate.
func (a *A1111Alchemy) interrogate(ctx context.Context, job AlchemyJob, model string) (string, error) {
	req := struct {
		Image string `json:"image"`
		Model string `json:"model"`
	}{Image: base64.StdEncoding.EncodeToString(job.Source), Model: model}
	var resp struct {
		Caption string `json:"caption"`
	}
	if err := postBackendJSON(ctx, a.http, "a1111", joinPath(a.base, "/sdapi/v1/interrogate"), nil, req, &resp); err != nil {
		return "", fmt.Errorf("form %s: %w", job.ID, err)
	}
	return resp.Caption, nil
}

// a1111Extras is the body of /sdapi/v1/extra-single-image.
type a1111Extras struct {
	Image                string  `json:"image"`
	ResizeMode           int     `json:"resize_mode"`
	ShowExtrasResults    bool    `json:"show_extras_results"`
	GFPGANVisibility     float64 `json:"gfpgan_visibility"`
	CodeformerVisibility float64 `json:"codeformer_visibility"`
	CodeformerWeight     float64 `json:"codeformer_weight"`
	UpscalingResize      float64 `json:"upscaling_resize"`
	Upscaler1            string  `json:"upscaler_1"`
	Upscaler2            string  `json:"upscaler_2"`
	UpscaleFirst         bool    `json:"upscale_first"`
}

// extras runs an upscaler or a face fixer on the web UI's extras tab.
func (a *A1111Alchemy) extras(ctx context.Context, job AlchemyJob) (AlchemyResult, error) {
	req := a1111Extras{
		Image: base64.StdEncoding.EncodeToString(job.Source), ShowExtrasResults: true,
		UpscalingResize: 1, Upscaler1: "None", Upscaler2: "None",
	}
	switch job.Form {
	case aihorde.FormGFPGAN:
		req.GFPGANVisibility = 1
	case aihorde.FormCodeFormers:
		req.CodeformerVisibility = 1
		req.CodeformerWeight = defaultFacefixerStrength
		if s, err := strconv.ParseFloat(job.Payload["facefixer_strength"], 64); err == nil && s >= 0 && s <= 1 {
			req.CodeformerWeight = s
		}
	default:
		req.UpscalingResize = float64(aihorde.Upscalers[job.Form])
		req.Upscaler1 = a.upscalers[job.Form]
	}
	var resp struct {
		Image string `json:"image"`
	}
	if err := postBackendJSON(ctx, a.http, "a1111", joinPath(a.base, "/sdapi/v1/extra-single-image"), nil, req, &resp); err != nil {
		return AlchemyResult{}, fmt.Errorf("form %s: %w", job.ID, err)
	}
	raw, err := decodeBase64(resp.Image)
	if err != nil {
		return AlchemyResult{}, fmt.Errorf("a1111: form %s: %w", job.ID, err)
	}
	return reencode("a1111", job, raw)
}

// removeBackground posts the image to rembg's POST /api/remove (multipart
// field "file"), which answers a PNG with the background transparent.
func (a *A1111Alchemy) removeBackground(ctx context.Context, job AlchemyJob) (AlchemyResult, error) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", "source")
	if err == nil {
		_, err = fw.Write(job.Source)
	}
	if err == nil {
		err = mw.Close()
	}
	if err != nil {
		return AlchemyResult{}, fmt.Errorf("rembg: form %s: %w", job.ID, err)
	}
	target := joinPath(a.rembg, "/api/remove")
	if a.rembgModel != "" {
		target += "?model=" + url.QueryEscape(a.rembgModel)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, &body)
	if err != nil {
		return AlchemyResult{}, fmt.Errorf("rembg: %w", err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	resp, err := a.http.Do(req)
	if err != nil {
		return AlchemyResult{}, fmt.Errorf("rembg: POST %s: %w", target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBackendResponse+1))
	if err != nil {
		return AlchemyResult{}, fmt.Errorf("rembg: POST %s: read answer: %w", target, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return AlchemyResult{}, &BackendError{Backend: "rembg", URL: target, StatusCode: resp.StatusCode, Body: snippet(data)}
	}
	if len(data) > maxBackendResponse {
		return AlchemyResult{}, fmt.Errorf("rembg: POST %s: answer over %d bytes", target, maxBackendResponse)
	}
	return reencode("rembg", job, data)
}

// reencode decodes a backend's image and encodes it as WebP.
func reencode(backend string, job AlchemyJob, raw []byte) (AlchemyResult, error) {
	img, _, err := decodeImage(raw)
	if err != nil {
		return AlchemyResult{}, fmt.Errorf("%s: form %s: %w", backend, job.ID, err)
	}
	data, err := EncodeWebP(img)
	if err != nil {
		return AlchemyResult{}, fmt.Errorf("%s: form %s: %w", backend, job.ID, err)
	}
	return AlchemyResult{Image: data}, nil
}

// clipSites are words that mark a phrase of a CLIP interrogation as a site
// ("trending on artstation").
var clipSites = []string{"artstation", "pixiv", "deviantart", "behance", "flickr", "cgsociety", "unsplash", "pexels", "instagram", "reddit", "zbrush central", "polycount", "tumblr"}

// clipMediums are words that mark a phrase as a medium.
var clipMediums = []string{"painting", "photograph", "drawing", "illustration", "render", "sketch", "watercolor", "oil on canvas", "digital art", "poster", "sculpture", "cartoon", "anime", "pixel art"}

// clipDetails turns the prompt-like text of AUTOMATIC1111's CLIP
// interrogator ("a cat on a sofa, a photorealistic painting, by Artist,
// trending on artstation, soft light") into the horde's details: the
// caption before the first comma is skipped, "by X" phrases are artists,
// site names sites, medium words mediums, the rest flavors. The web UI
// gives no similarities, so each phrase's confidence is its rank: 1 for
// the first of its category, less for each later one (never 0).
func clipDetails(text string) aihorde.InterrogationDetails {
	d := aihorde.NewInterrogationDetails()
	parts := strings.Split(text, ",")
	if len(parts) > 1 {
		parts = parts[1:]
	}
	rank := func(list []aihorde.InterrogationItem, phrase string) []aihorde.InterrogationItem {
		if slices.ContainsFunc(list, func(it aihorde.InterrogationItem) bool { return it.Text == phrase }) {
			return list
		}
		return append(list, aihorde.InterrogationItem{Text: phrase, Confidence: round3(1 / float64(len(list)+1))})
	}
	for _, p := range parts {
		p = strings.TrimSpace(p)
		lower := strings.ToLower(p)
		switch {
		case p == "":
		case strings.HasPrefix(lower, "by "):
			d.Artists = rank(d.Artists, strings.TrimSpace(p[3:]))
		case slices.ContainsFunc(clipSites, func(s string) bool { return strings.Contains(lower, s) }):
			d.Sites = rank(d.Sites, p)
		case slices.ContainsFunc(clipMediums, func(s string) bool { return strings.Contains(lower, s) }):
			d.Mediums = rank(d.Mediums, p)
		default:
			d.Flavors = rank(d.Flavors, p)
		}
	}
	return d
}

package horde

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Model baselines as the AI Horde's image model reference names them
// (Haidra-Org/AI-Horde-image-model-reference, stable_diffusion.json).
const (
	BaselineSD1     = "stable diffusion 1"
	BaselineSD2     = "stable diffusion 2"
	BaselineSD2_512 = "stable diffusion 2 512"
	BaselineSDXL    = "stable_diffusion_xl"
	BaselineCascade = "stable_cascade"
	BaselineFlux    = "flux_1"
	BaselineQwen    = "qwen_image"
	BaselineZImage  = "z_image_turbo"
)

// The AI Horde's defaults for a model's step requirements when its reference
// entry names none: limit_max_steps compares a request's steps with their
// mean (horde/classes/stable/worker.py).
const (
	DefaultRefMinSteps = 20
	DefaultRefMaxSteps = 40
)

// ModelRequirements are the parameters a model needs (a reference entry's
// "requirements"); a zero or nil field is no requirement.
type ModelRequirements struct {
	MinSteps    int      `json:"min_steps,omitempty"`
	MaxSteps    int      `json:"max_steps,omitempty"`
	CFGScale    *float64 `json:"cfg_scale,omitempty"`
	MinCFGScale *float64 `json:"min_cfg_scale,omitempty"`
	MaxCFGScale *float64 `json:"max_cfg_scale,omitempty"`
	ClipSkip    int      `json:"clip_skip,omitempty"`
	Samplers    []string `json:"samplers,omitempty"`
	Schedulers  []string `json:"schedulers,omitempty"`
}

// ModelInfo is one entry of a model reference, image or text. The JSON names
// are the AI Horde's reference files'; fields hordebot does not use are
// dropped on load.
type ModelInfo struct {
	Name         string            `json:"name"`
	Baseline     string            `json:"baseline"`
	Type         string            `json:"type,omitempty"`
	Style        string            `json:"style,omitempty"`
	Description  string            `json:"description,omitempty"`
	Version      string            `json:"version,omitempty"`
	NSFW         bool              `json:"nsfw"`
	Inpainting   bool              `json:"inpainting,omitempty"`
	Requirements ModelRequirements `json:"requirements,omitzero"`
	// Parameters is a text model's parameter count (the text reference's
	// "parameters").
	Parameters int64 `json:"parameters,omitempty"`
}

// ModelReference is what the horde knows about the models it may be asked
// for: the AI Horde's image model reference (stable_diffusion.json) and text
// model reference (db.json). A nil *ModelReference knows no model; its
// methods answer as the AI Horde does for a model missing from its
// reference.
type ModelReference struct {
	Image map[string]ModelInfo
	Text  map[string]ModelInfo
}

// ParseModelReference reads an image reference and a text reference in the
// AI Horde's JSON formats (each an object from model name to entry). Either
// may be empty. An entry without a name takes its key.
func ParseModelReference(image, text []byte) (*ModelReference, error) {
	ref := &ModelReference{Image: map[string]ModelInfo{}, Text: map[string]ModelInfo{}}
	for _, part := range []struct {
		what string
		data []byte
		into map[string]ModelInfo
	}{{"image", image, ref.Image}, {"text", text, ref.Text}} {
		if len(strings.TrimSpace(string(part.data))) == 0 {
			continue
		}
		var m map[string]ModelInfo
		if err := json.Unmarshal(part.data, &m); err != nil {
			return nil, fmt.Errorf("%s model reference: %w", part.what, err)
		}
		for name, info := range m {
			if info.Name == "" {
				info.Name = name
			}
			part.into[name] = info
		}
	}
	return ref, nil
}

// ImageModel returns the image model's entry, if the reference has it.
func (r *ModelReference) ImageModel(name string) (ModelInfo, bool) {
	if r == nil {
		return ModelInfo{}, false
	}
	m, ok := r.Image[name]
	return m, ok
}

// TextModel returns the text model's entry, if the reference has it.
func (r *ModelReference) TextModel(name string) (ModelInfo, bool) {
	if r == nil {
		return ModelInfo{}, false
	}
	m, ok := r.Text[name]
	return m, ok
}

// Known reports whether the reference has the model of that kind.
func (r *ModelReference) Known(kind RequestKind, name string) bool {
	if kind == KindText {
		_, ok := r.TextModel(name)
		return ok
	}
	_, ok := r.ImageModel(name)
	return ok
}

// Baseline is an image model's baseline as the AI Horde guesses it: the
// reference's, else from a "[SDXL]", "[Flux]", "[Qwen]", "[ZImage]" tag in
// the name, else stable diffusion 1.
func (r *ModelReference) Baseline(model string) string {
	if m, ok := r.ImageModel(model); ok && m.Baseline != "" {
		return m.Baseline
	}
	switch {
	case strings.Contains(model, "[SDXL]"):
		return BaselineSDXL
	case strings.Contains(model, "[Flux]"):
		return BaselineFlux
	case strings.Contains(model, "[Qwen]"):
		return BaselineQwen
	case strings.Contains(model, "[ZModel]"), strings.Contains(model, "[ZImage]"):
		return BaselineZImage
	}
	return BaselineSD1
}

// AverageSteps is the mean of an image model's min_steps and max_steps
// (20 and 40 when the reference names none), the threshold over which a
// worker popping with limit_max_steps skips a request (the AI Horde's
// "step_count" skip). ok reports whether the reference has the model; the
// value is the AI Horde's default mean (30) when it does not.
func (r *ModelReference) AverageSteps(model string) (steps int, ok bool) {
	m, ok := r.ImageModel(model)
	lo, hi := DefaultRefMinSteps, DefaultRefMaxSteps
	if m.Requirements.MinSteps > 0 {
		lo = m.Requirements.MinSteps
	}
	if m.Requirements.MaxSteps > 0 {
		hi = m.Requirements.MaxSteps
	}
	return (lo + hi) / 2, ok
}

// StepLimits is an image model's min_steps and max_steps, in the shape
// Config.StepLimits takes (limit_max_steps pops); ok is false when the
// reference does not know the model.
func (r *ModelReference) StepLimits(model string) (minSteps, maxSteps int, ok bool) {
	m, ok := r.ImageModel(model)
	if !ok {
		return 0, 0, false
	}
	minSteps, maxSteps = DefaultRefMinSteps, DefaultRefMaxSteps
	if m.Requirements.MinSteps > 0 {
		minSteps = m.Requirements.MinSteps
	}
	if m.Requirements.MaxSteps > 0 {
		maxSteps = m.Requirements.MaxSteps
	}
	return minSteps, maxSteps, true
}

// The AI Horde's WarningMessage codes (horde/enums.py) for an image
// request's parameters that do not suit one of its models.
const (
	WarnClipSkipMismatch  = "ClipSkipMismatch"
	WarnStepsTooFew       = "StepsTooFew"
	WarnStepsTooMany      = "StepsTooMany"
	WarnCfgScaleMismatch  = "CfgScaleMismatch"
	WarnCfgScaleTooSmall  = "CfgScaleTooSmall"
	WarnCfgScaleTooLarge  = "CfgScaleTooLarge"
	WarnSamplerMismatch   = "SamplerMismatch"
	WarnSchedulerMismatch = "SchedulerMismatch"
)

// ModelWarning is a requirement of a model that a request does not meet: a
// warning (Code, one of the AI Horde's) in the 202, never a refusal.
type ModelWarning struct {
	Code    string
	Message string
}

// CheckImageParams checks an image request's parameters against the
// requirements of each model it names, as the AI Horde's ParamValidator
// does: requirement mismatches are warnings (one per code, in a stable
// order); hires_fix on a Flux, Qwen or Z-Image model is a KindInvalid error
// (rc HiResMismatch).
func (r *ModelReference) CheckImageParams(models []string, p ImageParams) ([]ModelWarning, error) {
	var out []ModelWarning
	seen := map[string]bool{}
	warn := func(code, format string, args ...any) {
		if !seen[code] {
			seen[code] = true
			out = append(out, ModelWarning{Code: code, Message: fmt.Sprintf(format, args...)})
		}
	}
	clipSkip := max(p.ClipSkip, 1)
	scheduler := "simple"
	if p.Karras {
		scheduler = "karras"
	}
	for _, name := range models {
		m, ok := r.ImageModel(name)
		if !ok {
			continue
		}
		q := m.Requirements
		if q.ClipSkip > 0 && q.ClipSkip != clipSkip {
			warn(WarnClipSkipMismatch, "%s expects clip_skip %d", name, q.ClipSkip)
		}
		if q.MinSteps > 0 && p.Steps < q.MinSteps {
			warn(WarnStepsTooFew, "%s needs at least %d steps", name, q.MinSteps)
		}
		if q.MaxSteps > 0 && p.Steps > q.MaxSteps {
			warn(WarnStepsTooMany, "%s works best with at most %d steps", name, q.MaxSteps)
		}
		if q.CFGScale != nil && *q.CFGScale != p.CFGScale {
			warn(WarnCfgScaleMismatch, "%s expects cfg_scale %g", name, *q.CFGScale)
		}
		if q.MinCFGScale != nil && p.CFGScale < *q.MinCFGScale {
			warn(WarnCfgScaleTooSmall, "%s needs cfg_scale of at least %g", name, *q.MinCFGScale)
		}
		if q.MaxCFGScale != nil && p.CFGScale > *q.MaxCFGScale {
			warn(WarnCfgScaleTooLarge, "%s needs cfg_scale of at most %g", name, *q.MaxCFGScale)
		}
		if len(q.Samplers) > 0 && !slices.Contains(q.Samplers, p.SamplerName) {
			warn(WarnSamplerMismatch, "%s expects one of the samplers %s", name, strings.Join(q.Samplers, ", "))
		}
		if len(q.Schedulers) > 0 && !slices.Contains(q.Schedulers, scheduler) {
			warn(WarnSchedulerMismatch, "%s expects the scheduler %s", name, strings.Join(q.Schedulers, " or "))
		}
	}
	for _, name := range models {
		b := r.Baseline(name)
		if p.HiresFix && (strings.HasPrefix(b, BaselineFlux) || strings.HasPrefix(b, BaselineQwen) || strings.HasPrefix(b, BaselineZImage)) {
			return nil, &Error{Kind: KindInvalid, Code: "HiResMismatch", Field: "params.hires_fix",
				Message: fmt.Sprintf("hires_fix does not work with %s (a %s model)", QuoteInput(name), b)}
		}
	}
	return out, nil
}

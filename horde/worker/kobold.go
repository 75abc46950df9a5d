package worker

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// KoboldOptions configures the KoboldCpp / KoboldAI backend.
type KoboldOptions struct {
	// URL is the server root, e.g. http://127.0.0.1:5001.
	URL        string
	HTTPClient *http.Client
}

// Kobold is a backend for the KoboldAI United API as KoboldCpp and KoboldAI
// serve it: POST /api/v1/generate, the text in results[0].text.
type Kobold struct {
	base *url.URL
	http *http.Client
}

var _ Backend = (*Kobold)(nil)

// NewKobold checks opts and returns the backend.
func NewKobold(opts KoboldOptions) (*Kobold, error) {
	u, err := backendURL("kobold", opts.URL)
	if err != nil {
		return nil, err
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = defaultBackendHTTPClient()
	}
	return &Kobold{base: u, http: hc}, nil
}

// koboldRequest is the body of /api/v1/generate.
type koboldRequest struct {
	Prompt           string `json:"prompt"`
	MaxLength        int    `json:"max_length"`
	MaxContextLength int    `json:"max_context_length"`
	KoboldSampling
	SamplerSeed *int64 `json:"sampler_seed,omitempty"`
	Softprompt  string `json:"softprompt,omitempty"`
	Quiet       bool   `json:"quiet"`
}

// koboldResponse is the answer of /api/v1/generate.
type koboldResponse struct {
	Results []struct {
		Text string `json:"text"`
	} `json:"results"`
}

// Generate runs a text job on the Kobold server.
func (k *Kobold) Generate(ctx context.Context, job Job) (Result, error) {
	if job.Kind != aihorde.KindText || job.Text == nil {
		return Result{}, fmt.Errorf("kobold: job %s: not a text job", job.ID)
	}
	t := job.Text
	req := koboldRequest{
		Prompt:           job.Prompt,
		MaxLength:        t.MaxLength,
		MaxContextLength: t.MaxContextLength,
		KoboldSampling:   t.KoboldSampling,
		Softprompt:       t.Softprompt,
		Quiet:            true, // KoboldCpp: do not print prompts of other people to its console
	}
	if job.SeedSet {
		s := job.Seed
		req.SamplerSeed = &s
	}
	var resp koboldResponse
	if err := postBackendJSON(ctx, k.http, "kobold", joinPath(k.base, "/api/v1/generate"), nil, req, &resp); err != nil {
		return Result{}, fmt.Errorf("job %s: %w", job.ID, err)
	}
	if len(resp.Results) == 0 {
		return Result{}, fmt.Errorf("kobold: job %s: answer has no results", job.ID)
	}
	return Result{Text: resp.Results[0].Text, Seed: job.Seed, State: aihorde.StateOK}, nil
}

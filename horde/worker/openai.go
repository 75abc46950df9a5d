package worker

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// OpenAIOptions configures the OpenAI-compatible completions backend.
type OpenAIOptions struct {
	// URL is the server root, e.g. http://127.0.0.1:8080 (llama.cpp),
	// http://127.0.0.1:8000 (vLLM) or http://127.0.0.1:11434 (Ollama);
	// "/v1/completions" is appended ("/completions" when URL ends in /v1).
	URL string
	// APIKey, when set, is sent as a bearer token.
	APIKey string
	// Model is the server's model name; empty means the job's model.
	Model      string
	HTTPClient *http.Client
}

// OpenAI is a backend for servers with an OpenAI-compatible legacy
// completions endpoint: POST /v1/completions, the text in choices[0].text.
type OpenAI struct {
	endpoint string
	apiKey   string
	model    string
	http     *http.Client
}

var _ Backend = (*OpenAI)(nil)

// maxOpenAIStops is the most stop sequences the OpenAI API accepts.
const maxOpenAIStops = 4

// NewOpenAI checks opts and returns the backend.
func NewOpenAI(opts OpenAIOptions) (*OpenAI, error) {
	u, err := backendURL("openai", opts.URL)
	if err != nil {
		return nil, err
	}
	path := "/v1/completions"
	if strings.HasSuffix(u.Path, "/v1") {
		path = "/completions"
	}
	hc := opts.HTTPClient
	if hc == nil {
		hc = defaultBackendHTTPClient()
	}
	return &OpenAI{endpoint: joinPath(u, path), apiKey: opts.APIKey, model: opts.Model, http: hc}, nil
}

// openAIRequest is the body of /v1/completions.
type openAIRequest struct {
	Model       string   `json:"model"`
	Prompt      string   `json:"prompt"`
	MaxTokens   int      `json:"max_tokens"`
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	Stop        []string `json:"stop,omitempty"`
	Seed        *int64   `json:"seed,omitempty"`
}

// openAIResponse is the answer of /v1/completions.
type openAIResponse struct {
	Choices []struct {
		Text         string `json:"text"`
		FinishReason string `json:"finish_reason"`
	} `json:"choices"`
}

// Generate runs a text job on the completions server.
func (o *OpenAI) Generate(ctx context.Context, job Job) (Result, error) {
	if job.Kind != aihorde.KindText || job.Text == nil {
		return Result{}, fmt.Errorf("openai: job %s: not a text job", job.ID)
	}
	t := job.Text
	model := o.model
	if model == "" {
		model = job.Model
	}
	req := openAIRequest{Model: model, Prompt: job.Prompt, MaxTokens: t.MaxLength}
	if t.Temperature > 0 {
		v := t.Temperature
		req.Temperature = &v
	}
	if t.TopP > 0 && t.TopP <= 1 {
		v := t.TopP
		req.TopP = &v
	}
	for _, s := range t.StopSequence {
		if s != "" && len(req.Stop) < maxOpenAIStops {
			req.Stop = append(req.Stop, s)
		}
	}
	if job.SeedSet {
		s := job.Seed
		req.Seed = &s
	}
	var header http.Header
	if o.apiKey != "" {
		header = http.Header{"Authorization": {"Bearer " + o.apiKey}}
	}
	var resp openAIResponse
	if err := postBackendJSON(ctx, o.http, "openai", o.endpoint, header, req, &resp); err != nil {
		return Result{}, fmt.Errorf("job %s: %w", job.ID, err)
	}
	if len(resp.Choices) == 0 {
		return Result{}, fmt.Errorf("openai: job %s: answer has no choices", job.ID)
	}
	return Result{Text: resp.Choices[0].Text, Seed: job.Seed, State: aihorde.StateOK}, nil
}

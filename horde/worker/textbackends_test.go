package worker

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// fakeTextServer records the last JSON body and header and answers with
// body at path, or with status when it is not 200.
type fakeTextServer struct {
	srv    *httptest.Server
	path   string
	body   map[string]any
	header http.Header
	status int
}

func newFakeTextServer(t *testing.T, path, answer string) *fakeTextServer {
	f := &fakeTextServer{status: http.StatusOK}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.path, f.header = r.URL.Path, r.Header.Clone()
		if r.Method != http.MethodPost || r.URL.Path != path {
			http.NotFound(w, r)
			return
		}
		f.body = nil
		if err := json.NewDecoder(r.Body).Decode(&f.body); err != nil {
			t.Errorf("body: %v", err)
		}
		if f.status != http.StatusOK {
			http.Error(w, `{"error":{"message":"model is loading"}}`, f.status)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func textJob() Job {
	return Job{ID: "txt-1", Kind: aihorde.KindText, Model: "koboldcpp/Llama-3-8B", Prompt: "The dragon said:",
		Seed: 99, SeedSet: true, Text: &TextParams{MaxLength: 120, MaxContextLength: 2048, KoboldSampling: KoboldSampling{Temperature: 0.7,
			TopP: 0.92, TopK: 40, RepPen: 1.1, RepPenRange: 320, StopSequence: []string{"\nYou:", "\n\n", "###", "</s>", "<|eot|>"},
			SamplerOrder: []int{6, 0, 1, 3, 4, 2, 5}}, Softprompt: ""}}
}

func TestKobold(t *testing.T) {
	f := newFakeTextServer(t, "/api/v1/generate", `{"results":[{"text":" \"Leave my cave.\""}]}`)
	k, err := NewKobold(KoboldOptions{URL: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	res, err := k.Generate(context.Background(), textJob())
	if err != nil {
		t.Fatal(err)
	}
	if res.Text != ` "Leave my cave."` || res.State != aihorde.StateOK || res.Seed != 99 {
		t.Fatalf("result %+v", res)
	}
	want := map[string]any{
		"prompt": "The dragon said:", "max_length": 120.0, "max_context_length": 2048.0, "temperature": 0.7,
		"top_p": 0.92, "top_k": 40.0, "rep_pen": 1.1, "rep_pen_range": 320.0, "sampler_seed": 99.0, "quiet": true,
	}
	for key, v := range want {
		if f.body[key] != v {
			t.Errorf("%s = %v, want %v", key, f.body[key], v)
		}
	}
	if got := f.body["sampler_order"]; !reflect.DeepEqual(got, []any{6.0, 0.0, 1.0, 3.0, 4.0, 2.0, 5.0}) {
		t.Errorf("sampler_order %v", got)
	}
	if got, _ := f.body["stop_sequence"].([]any); len(got) != 5 {
		t.Errorf("stop_sequence %v", f.body["stop_sequence"])
	}

	t.Run("server error", func(t *testing.T) {
		f.status = http.StatusServiceUnavailable
		defer func() { f.status = http.StatusOK }()
		_, err := k.Generate(context.Background(), textJob())
		var be *BackendError
		if !errors.As(err, &be) || be.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("empty results", func(t *testing.T) {
		f2 := newFakeTextServer(t, "/api/v1/generate", `{"results":[]}`)
		k2, err := NewKobold(KoboldOptions{URL: f2.srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := k2.Generate(context.Background(), textJob()); err == nil {
			t.Fatal("no error")
		}
	})
	t.Run("image job", func(t *testing.T) {
		if _, err := k.Generate(context.Background(), a1111Job()); err == nil {
			t.Fatal("an image job ran on kobold")
		}
	})
}

func TestOpenAI(t *testing.T) {
	answer := `{"id":"cmpl-1","object":"text_completion","model":"llama","choices":[{"index":0,"text":" Roar.","finish_reason":"stop"}],"usage":{"prompt_tokens":4,"completion_tokens":2}}`
	tests := []struct {
		name      string
		suffix    string
		opts      OpenAIOptions
		wantModel string
		wantAuth  string
	}{
		{"job model, no key", "", OpenAIOptions{}, "koboldcpp/Llama-3-8B", ""},
		{"configured model and key, URL ending in /v1", "/v1", OpenAIOptions{APIKey: "sk-test", Model: "llama-3-8b-instruct"},
			"llama-3-8b-instruct", "Bearer sk-test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeTextServer(t, "/v1/completions", answer)
			opts := tt.opts
			opts.URL = f.srv.URL + tt.suffix
			o, err := NewOpenAI(opts)
			if err != nil {
				t.Fatal(err)
			}
			res, err := o.Generate(context.Background(), textJob())
			if err != nil {
				t.Fatal(err)
			}
			if res.Text != " Roar." {
				t.Fatalf("text %q", res.Text)
			}
			if f.body["model"] != tt.wantModel || f.header.Get("Authorization") != tt.wantAuth {
				t.Errorf("model %v auth %q", f.body["model"], f.header.Get("Authorization"))
			}
			want := map[string]any{"prompt": "The dragon said:", "max_tokens": 120.0, "temperature": 0.7, "top_p": 0.92, "seed": 99.0}
			for key, v := range want {
				if f.body[key] != v {
					t.Errorf("%s = %v, want %v", key, f.body[key], v)
				}
			}
			if stop, _ := f.body["stop"].([]any); len(stop) != maxOpenAIStops {
				t.Errorf("stop %v, want the first %d", f.body["stop"], maxOpenAIStops)
			}
		})
	}
	t.Run("server error", func(t *testing.T) {
		f := newFakeTextServer(t, "/v1/completions", answer)
		f.status = http.StatusBadRequest
		o, err := NewOpenAI(OpenAIOptions{URL: f.srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		_, err = o.Generate(context.Background(), textJob())
		var be *BackendError
		if !errors.As(err, &be) || be.StatusCode != http.StatusBadRequest {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no choices", func(t *testing.T) {
		f := newFakeTextServer(t, "/v1/completions", `{"choices":[]}`)
		o, err := NewOpenAI(OpenAIOptions{URL: f.srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := o.Generate(context.Background(), textJob()); err == nil {
			t.Fatal("no error")
		}
	})
}

// TestKoboldPassesEveryTextSetting: every text setting of a pop payload
// (the AI Horde's text params) reaches the KoboldAI backend's body as the
// payload had it, and one the payload leaves out stays out.
func TestKoboldPassesEveryTextSetting(t *testing.T) {
	payload := `{"prompt":"The dragon said:","n":1,"max_length":120,"max_context_length":2048,` +
		`"top_a":0.1,"typical":0.95,"tfs":0.97,"min_p":0.05,"rep_pen_slope":0.7,"sampler_order":[6,0,1,3,4,2,5],` +
		`"singleline":true,"frmtadsnsp":true,"frmtrmblln":false,"frmtrmspch":true,"frmttriminc":true,` +
		`"use_default_badwordsids":false,"smoothing_factor":0.3,"dynatemp_range":0.5,"dynatemp_exponent":1.5}`
	var pl aihorde.TextPayload
	if err := json.Unmarshal([]byte(payload), &pl); err != nil {
		t.Fatal(err)
	}
	f := newFakeTextServer(t, "/api/v1/generate", `{"results":[{"text":"hi"}]}`)
	k, err := NewKobold(KoboldOptions{URL: f.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	job := Job{ID: "txt-1", Kind: aihorde.KindText, Prompt: pl.Prompt,
		Text: &TextParams{MaxLength: pl.MaxLength, MaxContextLength: pl.MaxContextLength, KoboldSampling: pl.KoboldSampling}}
	if _, err := k.Generate(context.Background(), job); err != nil {
		t.Fatal(err)
	}
	var sent map[string]any
	if err := json.Unmarshal([]byte(payload), &sent); err != nil {
		t.Fatal(err)
	}
	for key, want := range sent {
		if key == "n" {
			continue // the horde's, not the backend's
		}
		if got := f.body[key]; !reflect.DeepEqual(got, want) {
			t.Errorf("backend body %s = %v, want %v", key, got, want)
		}
	}
	if _, ok := f.body["temperature"]; ok {
		t.Errorf("the backend body carries temperature, which the payload left out: %v", f.body)
	}
}

package api

import (
	"net/http"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// textAsyncBody is the body of POST /generate/text/async.
type textAsyncBody struct {
	asyncCommon
	Prompt     *string         `json:"prompt"`
	Params     *textParamsBody `json:"params"`
	Softprompt *string         `json:"softprompt"`
}

// textParamsBody is its "params": the KoboldAI generation settings. Those
// the horde does not carry (formatting flags, tfs, top_a, typical...) are
// accepted so that KoboldAI clients work, and left to the worker's defaults.
type textParamsBody struct {
	N                     *int     `json:"n"`
	MaxLength             *int     `json:"max_length"`
	MaxContextLength      *int     `json:"max_context_length"`
	Temperature           *float64 `json:"temperature"`
	TopP                  *float64 `json:"top_p"`
	TopK                  *int     `json:"top_k"`
	RepPen                *float64 `json:"rep_pen"`
	RepPenRange           *int     `json:"rep_pen_range"`
	RepPenSlope           *float64 `json:"rep_pen_slope"`
	StopSequence          []string `json:"stop_sequence"`
	Frmtadsnsp            *bool    `json:"frmtadsnsp"`
	Frmtrmblln            *bool    `json:"frmtrmblln"`
	Frmtrmspch            *bool    `json:"frmtrmspch"`
	Frmttriminc           *bool    `json:"frmttriminc"`
	Singleline            *bool    `json:"singleline"`
	TFS                   *float64 `json:"tfs"`
	TopA                  *float64 `json:"top_a"`
	Typical               *float64 `json:"typical"`
	MinP                  *float64 `json:"min_p"`
	SamplerOrder          []int    `json:"sampler_order"`
	UseDefaultBadwordsids *bool    `json:"use_default_badwordsids"`
	SmoothingFactor       *float64 `json:"smoothing_factor"`
	DynatempRange         *float64 `json:"dynatemp_range"`
	DynatempExponent      *float64 `json:"dynatemp_exponent"`
}

// DecodeTextAsync parses and validates the body of POST /generate/text/async
// into a NewRequest (without ClientAgent and Source). Errors are KindInvalid
// *horde.Error naming the JSON field.
func DecodeTextAsync(data []byte) (horde.NewRequest, []Warning, error) {
	var b textAsyncBody
	unknown, err := decodeJSON(data, &b)
	if err != nil {
		return horde.NewRequest{}, nil, err
	}
	warnings := unknownFieldWarnings(unknown)
	var c check
	prompt := valueOr(b.Prompt, "")
	c.text("prompt", prompt, true, aihorde.MaxPromptLength)
	pb := b.Params
	if pb == nil {
		pb = &textParamsBody{}
	}
	n := valueOr(pb.N, aihorde.DefaultN)
	p := horde.TextParams{
		MaxLength:        valueOr(pb.MaxLength, aihorde.DefaultMaxLength),
		MaxContextLength: valueOr(pb.MaxContextLength, aihorde.DefaultMaxContextLength),
		Temperature:      valueOr(pb.Temperature, 0),
		TopP:             valueOr(pb.TopP, 0),
		TopK:             valueOr(pb.TopK, 0),
		RepPen:           valueOr(pb.RepPen, 0),
		RepPenRange:      valueOr(pb.RepPenRange, 0),
		StopSequence:     pb.StopSequence,
		Softprompt:       valueOr(b.Softprompt, ""),
	}
	c.intRange("params.n", n, aihorde.MinN, aihorde.MaxN)
	c.intRange("params.max_length", p.MaxLength, aihorde.MinMaxLength, aihorde.MaxMaxLength)
	c.intRange("params.max_context_length", p.MaxContextLength, aihorde.MinMaxContextLength, aihorde.MaxMaxContextLength)
	if pb.Temperature != nil {
		c.floatRange("params.temperature", p.Temperature, aihorde.MinTemperature, aihorde.MaxTemperature)
	}
	if pb.TopP != nil {
		c.floatRange("params.top_p", p.TopP, aihorde.MinTopP, aihorde.MaxTopP)
	}
	if pb.TopK != nil {
		c.intRange("params.top_k", p.TopK, aihorde.MinTopK, aihorde.MaxTopK)
	}
	if pb.RepPen != nil {
		c.floatRange("params.rep_pen", p.RepPen, aihorde.MinRepPen, aihorde.MaxRepPen)
	}
	if pb.RepPenRange != nil {
		c.intRange("params.rep_pen_range", p.RepPenRange, aihorde.MinRepPenRange, aihorde.MaxRepPenRange)
	}
	if len(p.StopSequence) > aihorde.MaxStopSequences {
		c.fail("params.stop_sequence", "params.stop_sequence may have at most %d entries, not %d", aihorde.MaxStopSequences, len(p.StopSequence))
	}
	for _, s := range p.StopSequence {
		c.text("params.stop_sequence", s, false, aihorde.MaxStopSequenceLength)
	}
	c.text("softprompt", p.Softprompt, false, aihorde.MaxSoftpromptLength)
	nr := horde.NewRequest{Kind: horde.KindText, Prompt: prompt, Text: &p, N: n, R2: true}
	b.asyncCommon.apply(&c, &nr, &warnings)
	if c.err != nil {
		return horde.NewRequest{}, nil, c.err
	}
	return nr, warnings, nil
}

func (s *server) textAsync(w http.ResponseWriter, r *http.Request) {
	s.async(w, r, s.bodyLimit(limitText), DecodeTextAsync)
}

// textStatusJSON is the AI Horde's text status view.
type textStatusJSON struct {
	progressJSON
	Generations []textGenerationJSON `json:"generations"`
}

type textGenerationJSON struct {
	Text        string            `json:"text"`
	Seed        int64             `json:"seed"`
	ID          string            `json:"id"`
	WorkerID    string            `json:"worker_id"`
	WorkerName  string            `json:"worker_name"`
	Model       string            `json:"model"`
	State       string            `json:"state"`
	GenMetadata []genMetadataJSON `json:"gen_metadata"`
}

func textStatusOf(p horde.Progress, gens []horde.Generation) textStatusJSON {
	out := textStatusJSON{progressJSON: progressOf(p), Generations: []textGenerationJSON{}}
	for _, g := range gens {
		out.Generations = append(out.Generations, textGenerationJSON{
			Text:        g.Text,
			Seed:        g.Seed,
			ID:          g.JobID,
			WorkerID:    g.WorkerID,
			WorkerName:  g.WorkerName,
			Model:       g.Model,
			State:       g.State,
			GenMetadata: metadataOut(g.Metadata),
		})
	}
	return out
}

func (s *server) textStatus(w http.ResponseWriter, r *http.Request) {
	p, gens, err := s.statusOfKind(r, horde.KindText)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, textStatusOf(p, gens))
}

func (s *server) textCancel(w http.ResponseWriter, r *http.Request) {
	p, gens, err := s.cancelOfKind(r, horde.KindText)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, textStatusOf(p, gens))
}

// textPopJSON is the answer to a text worker's pop. softprompt is always
// present: the KoboldAI bridge reads it without a default.
type textPopJSON struct {
	ID         *string       `json:"id"`
	IDs        []string      `json:"ids"`
	Payload    any           `json:"payload"`
	Model      string        `json:"model,omitempty"`
	Softprompt *string       `json:"softprompt"`
	Skipped    horde.Skipped `json:"skipped"`
	TTL        int           `json:"ttl,omitempty"`
}

// textPayloadJSON is the KoboldAI generation payload a text worker runs.
type textPayloadJSON struct {
	Prompt           string   `json:"prompt"`
	N                int      `json:"n"`
	MaxLength        int      `json:"max_length"`
	MaxContextLength int      `json:"max_context_length"`
	Temperature      float64  `json:"temperature,omitempty"`
	TopP             float64  `json:"top_p,omitempty"`
	TopK             int      `json:"top_k,omitempty"`
	RepPen           float64  `json:"rep_pen,omitempty"`
	RepPenRange      int      `json:"rep_pen_range,omitempty"`
	StopSequence     []string `json:"stop_sequence,omitempty"`
}

func (s *server) textPop(w http.ResponseWriter, r *http.Request) {
	as, skipped, err := s.pop(w, r, horde.KindText)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := textPopJSON{IDs: []string{}, Payload: struct{}{}, Skipped: skippedOf(skipped)}
	if len(as) == 0 || as[0].Request.Text == nil {
		s.ok(w, out)
		return
	}
	first := as[0]
	tp := *first.Request.Text
	out.IDs = jobIDs(as)
	out.ID = &out.IDs[0]
	out.Model = first.Job.Model
	out.TTL = ttlSeconds(first)
	if tp.Softprompt != "" {
		out.Softprompt = &tp.Softprompt
	}
	out.Payload = textPayloadJSON{
		Prompt:           first.Request.Prompt,
		N:                1,
		MaxLength:        tp.MaxLength,
		MaxContextLength: tp.MaxContextLength,
		Temperature:      tp.Temperature,
		TopP:             tp.TopP,
		TopK:             tp.TopK,
		RepPen:           tp.RepPen,
		RepPenRange:      tp.RepPenRange,
		StopSequence:     tp.StopSequence,
	}
	s.ok(w, out)
}

func (s *server) textSubmit(w http.ResponseWriter, r *http.Request) { s.submit(w, r, horde.KindText) }

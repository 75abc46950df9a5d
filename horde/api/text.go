package api

import (
	"net/http"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// DecodeTextAsync parses and validates the body of POST /generate/text/async
// into a NewRequest (without ClientAgent and Source). Errors are KindInvalid
// *horde.Error naming the JSON field.
func DecodeTextAsync(data []byte) (horde.NewRequest, []aihorde.Warning, error) {
	var b aihorde.TextAsyncRequest
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
		pb = &aihorde.TextParams{}
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
	applyCommon(&b.AsyncCommon, &c, &nr, &warnings)
	if c.err != nil {
		return horde.NewRequest{}, nil, c.err
	}
	return nr, warnings, nil
}

func (s *server) textAsync(w http.ResponseWriter, r *http.Request) {
	s.async(w, r, s.bodyLimit(limitText), horde.KindText, DecodeTextAsync)
}

func textStatusOf(p horde.Progress, gens []horde.Generation) aihorde.TextStatus {
	out := aihorde.TextStatus{RequestStatusCheck: progressOf(p), Generations: []aihorde.TextGeneration{}}
	for _, g := range gens {
		out.Generations = append(out.Generations, aihorde.TextGeneration{
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

func (s *server) textPop(w http.ResponseWriter, r *http.Request) {
	as, skipped, err := s.pop(w, r, horde.KindText)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := aihorde.TextPopResponse{IDs: []string{}, Skipped: skippedOf(skipped)}
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
	out.Payload = &aihorde.TextPayload{
		Prompt:           first.Request.Prompt,
		N:                1,
		MaxLength:        tp.MaxLength,
		MaxContextLength: tp.MaxContextLength,
		KoboldSampling: aihorde.KoboldSampling{
			Temperature:  tp.Temperature,
			TopP:         tp.TopP,
			TopK:         tp.TopK,
			RepPen:       tp.RepPen,
			RepPenRange:  tp.RepPenRange,
			StopSequence: tp.StopSequence,
		},
	}
	s.ok(w, out)
}

func (s *server) textSubmit(w http.ResponseWriter, r *http.Request) { s.submit(w, r, horde.KindText) }

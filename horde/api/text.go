package api

import (
	"net/http"
	"unicode/utf8"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// DecodeTextAsync parses and validates the body of POST /generate/text/async
// into a NewRequest (without ClientAgent and Source). Errors are KindInvalid
// *horde.Error naming the JSON field. It also returns what the body asked
// for that is ignored, for the log (see DecodeImageAsync).
func DecodeTextAsync(data []byte) (horde.NewRequest, []string, error) {
	var b aihorde.TextAsyncRequest
	unknown, err := decodeJSON(data, &b)
	if err != nil {
		return horde.NewRequest{}, nil, err
	}
	ig := ignored(unknown)
	var c check
	prompt := valueOr(b.Prompt, "")
	c.prompt(prompt, aihorde.MaxPromptLength)
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
		RepPenSlope:      valueOr(pb.RepPenSlope, 0),
		TopA:             valueOr(pb.TopA, 0),
		Typical:          valueOr(pb.Typical, 0),
		TFS:              valueOr(pb.TFS, 0),
		MinP:             valueOr(pb.MinP, 0),
		SmoothingFactor:  valueOr(pb.SmoothingFactor, 0),
		DynatempRange:    valueOr(pb.DynatempRange, 0),
		DynatempExponent: valueOr(pb.DynatempExponent, 0),
		SamplerOrder:     pb.SamplerOrder,
		Singleline:       pb.Singleline,
		Frmtadsnsp:       pb.Frmtadsnsp,
		Frmtrmblln:       pb.Frmtrmblln,
		Frmtrmspch:       pb.Frmtrmspch,
		Frmttriminc:      pb.Frmttriminc,

		UseDefaultBadwordsids: pb.UseDefaultBadwordsids,
		AnyBackend:            !valueOr(b.ValidatedBackends, true),
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
	for _, f := range []struct {
		name   string
		v      *float64
		lo, hi float64
	}{
		{"params.rep_pen_slope", pb.RepPenSlope, aihorde.MinRepPenSlope, aihorde.MaxRepPenSlope},
		{"params.top_a", pb.TopA, aihorde.MinUnitSampler, aihorde.MaxUnitSampler},
		{"params.typical", pb.Typical, aihorde.MinUnitSampler, aihorde.MaxUnitSampler},
		{"params.tfs", pb.TFS, aihorde.MinUnitSampler, aihorde.MaxUnitSampler},
		{"params.min_p", pb.MinP, aihorde.MinUnitSampler, aihorde.MaxUnitSampler},
		{"params.smoothing_factor", pb.SmoothingFactor, aihorde.MinSmoothingFactor, aihorde.MaxSmoothingFactor},
		{"params.dynatemp_range", pb.DynatempRange, aihorde.MinDynatempRange, aihorde.MaxDynatempRange},
		{"params.dynatemp_exponent", pb.DynatempExponent, aihorde.MinDynatempExponent, aihorde.MaxDynatempExponent},
	} {
		if f.v != nil {
			c.floatRange(f.name, *f.v, f.lo, f.hi)
		}
	}
	if pb.SamplerOrder != nil && len(distinct(pb.SamplerOrder)) < aihorde.FullSamplerOrder {
		c.failRC("MissingFullSamplerOrder", "params.sampler_order",
			"params.sampler_order must name all %d samplers", aihorde.FullSamplerOrder)
	}
	if len(p.StopSequence) > aihorde.MaxStopSequences {
		c.failRC("TooManyStopSequences", "params.stop_sequence", "params.stop_sequence may have at most %d entries, not %d", aihorde.MaxStopSequences, len(p.StopSequence))
	}
	for _, s := range p.StopSequence {
		if n := utf8.RuneCountInString(s); n > aihorde.MaxStopSequenceLength {
			c.failRC("ExcessiveStopSequence", "params.stop_sequence", "each params.stop_sequence entry must be at most %d characters, not %d", aihorde.MaxStopSequenceLength, n)
		}
	}
	c.text("softprompt", p.Softprompt, false, aihorde.MaxSoftpromptLength)
	nr := horde.NewRequest{Kind: horde.KindText, Prompt: prompt, Text: &p, N: n, R2: true}
	applyCommon(&b.AsyncCommon, &c, &nr, &ig)
	if c.err != nil {
		return horde.NewRequest{}, nil, c.err
	}
	return nr, ig, nil
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
	ans, err := s.pop(w, r, horde.KindText)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	as := ans.jobs
	out := aihorde.TextPopResponse{IDs: []string{}, Skipped: skippedOf(ans.skipped), Messages: ans.messages}
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
		KoboldSampling:   koboldSampling(tp),
	}
	s.ok(w, out)
}

// koboldSampling is the payload's copy of every text setting the request made.
func koboldSampling(tp horde.TextParams) aihorde.KoboldSampling {
	return aihorde.KoboldSampling{
		Temperature:           tp.Temperature,
		TopP:                  tp.TopP,
		TopK:                  tp.TopK,
		TopA:                  tp.TopA,
		Typical:               tp.Typical,
		TFS:                   tp.TFS,
		MinP:                  tp.MinP,
		RepPen:                tp.RepPen,
		RepPenRange:           tp.RepPenRange,
		RepPenSlope:           tp.RepPenSlope,
		SamplerOrder:          tp.SamplerOrder,
		StopSequence:          tp.StopSequence,
		SmoothingFactor:       tp.SmoothingFactor,
		DynatempRange:         tp.DynatempRange,
		DynatempExponent:      tp.DynatempExponent,
		Singleline:            tp.Singleline,
		Frmtadsnsp:            tp.Frmtadsnsp,
		Frmtrmblln:            tp.Frmtrmblln,
		Frmtrmspch:            tp.Frmtrmspch,
		Frmttriminc:           tp.Frmttriminc,
		UseDefaultBadwordsids: tp.UseDefaultBadwordsids,
	}
}

// distinct is the set of values in xs.
func distinct(xs []int) map[int]bool {
	set := make(map[int]bool, len(xs))
	for _, x := range xs {
		set[x] = true
	}
	return set
}

func (s *server) textSubmit(w http.ResponseWriter, r *http.Request) { s.submit(w, r, horde.KindText) }

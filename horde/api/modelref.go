package api

import (
	"net/http"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// modelWarnings checks an image request against the model reference's
// requirements of the models it names: mismatches are the AI Horde's
// warnings (StepsTooFew, CfgScaleMismatch, SamplerMismatch...); hires_fix on
// a Flux, Qwen or Z-Image model is a 400 HiResMismatch.
func (s *server) modelWarnings(nr horde.NewRequest) ([]aihorde.Warning, error) {
	if nr.Kind != horde.KindImage || nr.Image == nil {
		return nil, nil
	}
	ws, err := s.opt.Models.CheckImageParams(nr.Models, *nr.Image)
	if err != nil {
		return nil, err
	}
	out := make([]aihorde.Warning, 0, len(ws))
	for _, w := range ws {
		out = append(out, aihorde.Warning{Code: w.Code, Message: w.Message})
	}
	return out, nil
}

// modelStateParam is /status/models' ?model_state: "known" (models in the
// reference), "custom" (models not in it) or "all" (the default), as on the
// AI Horde.
func modelStateParam(r *http.Request) (string, error) {
	v := r.URL.Query().Get("model_state")
	switch v {
	case "":
		return "all", nil
	case "known", "custom", "all":
		return v, nil
	}
	return "", &horde.Error{Kind: horde.KindInvalid, Code: "BadRequest", Field: "model_state",
		Message: "model_state must be one of known, custom, all, not " + horde.QuoteInput(v)}
}

// keepModel reports whether a model of kind passes the model_state filter.
func (s *server) keepModel(state string, kind horde.RequestKind, name string) bool {
	switch state {
	case "known":
		return s.opt.Models.Known(kind, name)
	case "custom":
		return !s.opt.Models.Known(kind, name)
	}
	return true
}

package api

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"

	"github.com/hordebot/hordebot/horde"
)

// applyStyle rewrites an async body that names a "style" as the AI Horde
// does (horde/apis/v2/stable.py, kobold.py apply_style): the style (by id or
// name; a collection gives one of its styles at random) must be of the
// request's kind (else 400 StyleMismatch) and exist (else 404
// StyleNotFound: never silently ignored); the prompt goes into the
// template; the style's params replace the request's, which keep only their
// n (and, for images, width and height when the style sets none); the
// style's models and nsfw replace the request's. A body naming no style is
// returned as it is.
func (s *server) applyStyle(r *http.Request, kind horde.RequestKind, data []byte) ([]byte, error) {
	var body map[string]json.RawMessage
	if json.Unmarshal(data, &body) != nil {
		return data, nil // not an object: the decoder says why
	}
	raw, ok := body["style"]
	if !ok || string(raw) == "null" {
		return data, nil
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return nil, &horde.Error{Kind: horde.KindInvalid, Code: "ValidationError", Field: "style", Message: "style must be a string"}
	}
	delete(body, "style")
	if name == "" {
		return json.Marshal(body)
	}
	st, err := s.styleStore()
	if err != nil {
		return nil, horde.NotFoundf("StyleNotFound", "style %s not found: this horde has no styles", horde.QuoteInput(name))
	}
	sty, err := findStyle(r.Context(), r, st, kind, name)
	if err != nil {
		return nil, err
	}
	var prompt string
	if p, ok := body["prompt"]; ok {
		_ = json.Unmarshal(p, &prompt) // a non-string prompt: the decoder says why
	}
	out, err := json.Marshal(sty.ApplyPrompt(prompt))
	if err != nil {
		return nil, err
	}
	body["prompt"] = out

	var user, params map[string]json.RawMessage
	if p, ok := body["params"]; ok {
		_ = json.Unmarshal(p, &user)
	}
	if len(sty.Params) > 0 {
		if err := json.Unmarshal(sty.Params, &params); err != nil {
			return nil, err
		}
	}
	if params == nil {
		params = map[string]json.RawMessage{}
	}
	if n, ok := user["n"]; ok {
		params["n"] = n
	}
	if kind == horde.KindImage {
		for _, k := range []string{"width", "height"} {
			if _, set := params[k]; !set {
				if v, ok := user[k]; ok {
					params[k] = v
				}
			}
		}
		nsfw, _ := json.Marshal(sty.NSFW)
		body["nsfw"] = nsfw
	}
	if body["params"], err = json.Marshal(params); err != nil {
		return nil, err
	}
	if len(sty.Models) > 0 {
		if body["models"], err = json.Marshal(sty.Models); err != nil {
			return nil, err
		}
	}
	if err := st.UseStyle(r.Context(), sty.ID); err != nil {
		s.log.WarnContext(r.Context(), "count style use", "style", sty.ID, "err", err)
	}
	return json.Marshal(body)
}

// findStyle resolves a request's style: a style id, a collection id, a
// style name, a collection name (in the AI Horde's "style::", "collection::"
// and "user#id::" forms).
func findStyle(ctx context.Context, r *http.Request, st horde.StyleStore, kind horde.RequestKind, name string) (horde.Style, error) {
	mismatch := func(k horde.RequestKind) error {
		return horde.Errorf(horde.KindInvalid, "StyleMismatch", "%s is a %s style; this is a %s request", horde.QuoteInput(name), k, kind)
	}
	pick := func(c horde.StyleCollection) (horde.Style, error) {
		if c.Kind != kind {
			return horde.Style{}, mismatch(c.Kind)
		}
		if len(c.StyleIDs) == 0 {
			return horde.Style{}, horde.NotFoundf("StyleNotFound", "collection %s has no styles", horde.QuoteInput(name))
		}
		if err := st.UseStyle(ctx, c.ID); err != nil {
			return horde.Style{}, err
		}
		id := c.StyleIDs[rand.IntN(len(c.StyleIDs))]
		sty, err := st.Style(ctx, id)
		return sty, styleNotFound(err, "style", "StyleNotFound", id)
	}
	ref := horde.ParseStyleRef(name)
	if !ref.Collection {
		sty, err := st.Style(ctx, name)
		if err == nil {
			if sty.Kind != kind {
				return horde.Style{}, mismatch(sty.Kind)
			}
			return sty, nil
		}
		if !errors.Is(err, horde.ErrNotFound) {
			return horde.Style{}, err
		}
	}
	if !ref.Style {
		c, err := st.Collection(ctx, name)
		if err == nil {
			return pick(c)
		}
		if !errors.Is(err, horde.ErrNotFound) {
			return horde.Style{}, err
		}
	}
	if !ref.Collection {
		sty, err := styleByName(r, st, kind, name)
		if err == nil {
			return sty, nil
		}
		other := horde.KindText
		if kind == horde.KindText {
			other = horde.KindImage
		}
		if _, oerr := styleByName(r, st, other, name); oerr == nil {
			return horde.Style{}, mismatch(other)
		}
		var he *horde.Error
		if !errors.As(err, &he) || he.Kind != horde.KindNotFound {
			return horde.Style{}, err
		}
	}
	if !ref.Style {
		c, err := collectionByName(r, st, name)
		if err == nil {
			return pick(c)
		}
	}
	return horde.Style{}, horde.NotFoundf("StyleNotFound", "style %s not found", horde.QuoteInput(name))
}

package api

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"net/http"

	"github.com/hordebot/hordebot/horde"
)

// appliedStyle is the style an async body named: the style, the
// collection it was picked from ("" if none).
type appliedStyle struct {
	style      horde.Style
	collection string
}

// use is the request's record of the style.
func (a *appliedStyle) use() *horde.StyleUse {
	if a == nil {
		return nil
	}
	return &horde.StyleUse{StyleID: a.style.ID, CollectionID: a.collection, OwnerID: a.style.UserID}
}

// applyStyle rewrites an async body that names a "style" as the AI Horde
// does (horde/apis/v2/stable.py, kobold.py apply_style): the style (by id or
// name; a collection gives one of its styles at random) must be of the
// request's kind (else 400 StyleMismatch) and exist (else 404
// StyleNotFound: never silently ignored); the prompt goes into the
// template; the style's params replace the request's, which keep only their
// n (and, for images, width and height when the style sets none); the
// style's models and nsfw replace the request's. A body naming no style is
// returned as it is, with a nil style. The style is counted as used and
// its creator paid when the request is stored (horde.NewRequest.Style).
func (s *server) applyStyle(r *http.Request, kind horde.RequestKind, data []byte) ([]byte, *appliedStyle, error) {
	var body map[string]json.RawMessage
	if json.Unmarshal(data, &body) != nil {
		return data, nil, nil // not an object: the decoder says why
	}
	raw, ok := body["style"]
	if !ok || string(raw) == "null" {
		return data, nil, nil
	}
	var name string
	if err := json.Unmarshal(raw, &name); err != nil {
		return nil, nil, &horde.Error{Kind: horde.KindInvalid, Code: "ValidationError", Field: "style", Message: "style must be a string"}
	}
	delete(body, "style")
	if name == "" {
		data, err := json.Marshal(body)
		return data, nil, err
	}
	st, err := s.styleStore()
	if err != nil {
		return nil, nil, horde.NotFoundf("StyleNotFound", "style %s not found: this horde has no styles", horde.QuoteInput(name))
	}
	applied, err := findStyle(r.Context(), st, kind, name)
	if err != nil {
		return nil, nil, err
	}
	data, err = applyStyleBody(body, applied.style, kind)
	return data, applied, err
}

// applyStyleBody puts the style sty into the async body.
func applyStyleBody(body map[string]json.RawMessage, sty horde.Style, kind horde.RequestKind) ([]byte, error) {
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
	return json.Marshal(body)
}

// findStyle resolves a request's style: a style id, a collection id, a
// style name, a collection name (in the AI Horde's "style::", "collection::"
// and "user#id::" forms). A collection gives one of its styles at random,
// and both are counted as used (the AI Horde's text route does so; its
// image route counts the picked style twice and the collection never).
func findStyle(ctx context.Context, st horde.StyleStore, kind horde.RequestKind, name string) (*appliedStyle, error) {
	mismatch := func(k horde.RequestKind) error {
		return horde.Errorf(horde.KindInvalid, "StyleMismatch", "%s is a %s style; this is a %s request", horde.QuoteInput(name), k, kind)
	}
	pick := func(c horde.StyleCollection) (*appliedStyle, error) {
		if c.Kind != kind {
			return nil, mismatch(c.Kind)
		}
		if len(c.StyleIDs) == 0 {
			return nil, horde.NotFoundf("StyleNotFound", "collection %s has no styles", horde.QuoteInput(name))
		}
		id := c.StyleIDs[rand.IntN(len(c.StyleIDs))]
		sty, err := st.Style(ctx, id)
		if err != nil {
			return nil, styleNotFound(err, "style", "StyleNotFound", id)
		}
		return &appliedStyle{style: sty, collection: c.ID}, nil
	}
	ref := horde.ParseStyleRef(name)
	if !ref.Collection {
		sty, err := st.Style(ctx, name)
		if err == nil {
			if sty.Kind != kind {
				return nil, mismatch(sty.Kind)
			}
			return &appliedStyle{style: sty}, nil
		}
		if !errors.Is(err, horde.ErrNotFound) {
			return nil, err
		}
	}
	if !ref.Style {
		c, err := st.Collection(ctx, name)
		if err == nil {
			return pick(c)
		}
		if !errors.Is(err, horde.ErrNotFound) {
			return nil, err
		}
	}
	if !ref.Collection {
		sty, err := styleByName(ctx, st, kind, name)
		if err == nil {
			return &appliedStyle{style: sty}, nil
		}
		other := horde.KindText
		if kind == horde.KindText {
			other = horde.KindImage
		}
		if _, oerr := styleByName(ctx, st, other, name); oerr == nil {
			return nil, mismatch(other)
		}
		var he *horde.Error
		if !errors.As(err, &he) || he.Kind != horde.KindNotFound {
			return nil, err
		}
	}
	if !ref.Style {
		c, err := collectionByName(ctx, st, name)
		if err == nil {
			return pick(c)
		}
	}
	return nil, horde.NotFoundf("StyleNotFound", "style %s not found", horde.QuoteInput(name))
}

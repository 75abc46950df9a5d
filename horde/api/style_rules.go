package api

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hordebot/hordebot/horde"
)

// StyleRules are this API's rules for styles, for the front ends that make
// requests and styles without going through HTTP (the Discord commands): a
// style is found, applied to a request and validated exactly as the async
// routes' "style" field and POST /styles do, by the same code. It embeds
// the store that keeps the styles.
type StyleRules struct {
	horde.StyleStore
}

// NewStyleRules returns the rules over the styles of st.
func NewStyleRules(st horde.StyleStore) *StyleRules { return &StyleRules{StyleStore: st} }

// Find resolves a style reference of a request of kind as an async body's
// "style" does: a style id, a collection id (one of its styles at random),
// a style name or a collection name, in the AI Horde's "user#id::",
// "style::" and "collection::" forms. It returns the style and the use the
// request records (horde.NewRequest.Style). Unknown: KindNotFound
// StyleNotFound; of the other kind: KindInvalid StyleMismatch.
func (sr *StyleRules) Find(ctx context.Context, kind horde.RequestKind, ref string) (horde.Style, *horde.StyleUse, error) {
	a, err := findStyle(ctx, sr.StyleStore, kind, ref)
	if err != nil {
		return horde.Style{}, nil, err
	}
	return a.style, a.use(), nil
}

// Apply returns nr made with the style sty as an async body of nr's prompt,
// n, size, nsfw and models naming sty would be: the prompt put into the
// style's template, the style's params in place of nr's (which keep only
// n, and width and height when the style sets none), the style's models and
// nsfw in place of nr's. Everything else of nr is kept. The result is
// validated as the async route validates a body (an over-long templated
// prompt is KindInvalid); nr.Style is not set (Find returns the use).
func (sr *StyleRules) Apply(nr horde.NewRequest, sty horde.Style) (horde.NewRequest, error) {
	if sty.Kind != nr.Kind {
		return horde.NewRequest{}, horde.Errorf(horde.KindInvalid, "StyleMismatch", "%s is a %s style; this is a %s request", horde.QuoteInput(sty.Name), sty.Kind, nr.Kind)
	}
	params := map[string]any{"n": nr.N}
	decode := DecodeTextAsync
	if nr.Kind == horde.KindImage {
		decode = DecodeImageAsync
		if nr.Image != nil {
			params["width"], params["height"] = nr.Image.Width, nr.Image.Height
		}
	}
	body := map[string]json.RawMessage{}
	for k, v := range map[string]any{"prompt": nr.Prompt, "params": params, "nsfw": nr.NSFW, "models": nr.Models} {
		b, err := json.Marshal(v)
		if err != nil {
			return horde.NewRequest{}, fmt.Errorf("apply style %s: %w", sty.ID, err)
		}
		body[k] = b
	}
	data, err := applyStyleBody(body, sty, nr.Kind)
	if err != nil {
		return horde.NewRequest{}, fmt.Errorf("apply style %s: %w", sty.ID, err)
	}
	styled, _, err := decode(data)
	if err != nil {
		return horde.NewRequest{}, err
	}
	out := nr
	out.Prompt, out.Image, out.Text, out.N, out.NSFW, out.Models = styled.Prompt, styled.Image, styled.Text, styled.N, styled.NSFW, styled.Models
	return out, nil
}

// Validate checks a new or changed style as POST and PATCH /styles do:
// name, info, prompt ({p}, and {np} for images), models, tags, and params
// as a request's params of its kind. Errors are KindInvalid, naming the
// field.
func (sr *StyleRules) Validate(sty horde.Style) error {
	_, err := validStyle(sty)
	return err
}

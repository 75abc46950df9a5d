package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// noStyle, typed as /imagine's style, asks for no style, not even the
// member's default one (/settings).
const noStyle = "none"

// maxStyleRef bounds a typed style reference: a name, an id or the AI
// Horde's "user#id::name" forms.
const maxStyleRef = 2 * horde.MaxStyleNameLength

// stylesDisabled is the refusal of a style where the horde has none.
func stylesDisabled() error {
	return horde.Errorf(horde.KindDisabled, "StylesDisabled", "Styles are not enabled on this horde.")
}

// findStyle resolves what a member picked or typed as an image style
// (findStyleOf).
func (s *Set) findStyle(ctx context.Context, ix *interact.Interaction, ref string) (horde.Style, *horde.StyleUse, error) {
	return s.findStyleOf(ctx, ix, horde.KindImage, ref)
}

// findStyleOf resolves what a member picked or typed as a style of kind:
// one of their own styles by name first (a name may be taken by several
// members), then as an API request's "style" does (an id, which the
// autocomplete gives, a collection, any member's style by name). A style
// of the other kind is refused as one.
func (s *Set) findStyleOf(ctx context.Context, ix *interact.Interaction, kind horde.RequestKind, ref string) (horde.Style, *horde.StyleUse, error) {
	if s.styles == nil {
		return horde.Style{}, nil, stylesDisabled()
	}
	ref = strings.TrimSpace(ref)
	notFound := horde.NotFoundf("StyleNotFound", "There is no style %s. Pick one from the list as you type, or see `/style list`.", horde.QuoteInput(ref)).
		InCase("ref").With("Name", horde.QuoteInput(ref))
	mismatch := horde.Errorf(horde.KindInvalid, "StyleMismatch", "%s is a text style; /imagine takes image styles.", horde.QuoteInput(ref)).
		With("Name", horde.QuoteInput(ref))
	if kind == horde.KindText {
		notFound = horde.NotFoundf("StyleNotFound", "There is no text style %s. Pick one from the list as you type.", horde.QuoteInput(ref)).
			InCase("text").With("Style", horde.QuoteInput(ref))
		mismatch = horde.Errorf(horde.KindInvalid, "StyleMismatch", "%s is an image style; /write takes text styles.", horde.QuoteInput(ref)).
			InCase("write").With("Style", horde.QuoteInput(ref))
	}
	if ref == "" || len(ref) > maxStyleRef {
		return horde.Style{}, nil, notFound
	}
	if !ix.User.Anonymous() {
		sty, err := s.styles.StyleByName(ctx, kind, ix.User.ID, ref)
		if err == nil {
			return sty, &horde.StyleUse{StyleID: sty.ID, OwnerID: sty.UserID}, nil
		}
		if !isNotFound(err) {
			return horde.Style{}, nil, fmt.Errorf("find own style %q: %w", ref, err)
		}
	}
	sty, use, err := s.styles.Find(ctx, kind, ref)
	switch {
	case err == nil:
		return sty, use, nil
	case isNotFound(err):
		return horde.Style{}, nil, notFound
	case horde.IsKind(err, horde.KindInvalid):
		return horde.Style{}, nil, mismatch
	default:
		return horde.Style{}, nil, fmt.Errorf("find style %q: %w", ref, err)
	}
}

// isNotFound reports whether err says a thing does not exist.
func isNotFound(err error) bool {
	return errors.Is(err, horde.ErrNotFound) || horde.IsKind(err, horde.KindNotFound)
}

// withStyle applies the style sty to nr exactly as an API request naming it
// would be (Styles.Apply: the prompt into its template, its params, models
// and nsfw), then puts back what the member typed in this command: an
// explicit model, steps, seed or nsfw wins over the style, as it wins over
// their /settings. The request records the style (its creator is paid).
func (s *Set) withStyle(nr horde.NewRequest, sty horde.Style, use *horde.StyleUse, o interact.Options) (horde.NewRequest, error) {
	typed := nr
	if pos, neg := aihorde.SplitPrompt(nr.Prompt); neg != "" {
		// The same request, its separator written without the spaces
		// JoinPrompt puts around it: the template's own text sits next to
		// each part.
		nr.Prompt = pos + aihorde.NegativeSeparator + neg
	}
	out, err := s.styles.Apply(nr, sty)
	if err != nil {
		return horde.NewRequest{}, fmt.Errorf("apply style %s: %w", sty.ID, err)
	}
	if o.Has("model") {
		out.Models = typed.Models
	}
	if o.Has("steps") {
		out.Image.Steps = typed.Image.Steps
	}
	if o.Has("seed") {
		out.Image.Seed = typed.Image.Seed
	}
	if o.Has("nsfw") {
		out.NSFW = typed.NSFW
	}
	out.Style = use
	return out, nil
}

// styleOfRequest is the style use a request made with a style passes on to
// its rerun (already applied: the prompt is the template's), so that the
// style's creator is paid for it too; nil when it had none or the style is
// gone.
func (s *Set) styleOfRequest(ctx context.Context, r horde.Request) *horde.StyleUse {
	if s.styles == nil || r.Extras == nil || r.Extras.StyleID == "" {
		return nil
	}
	sty, err := s.styles.Style(ctx, r.Extras.StyleID)
	if err != nil {
		if !isNotFound(err) {
			s.log.Warn("read the style of a rerun request", "request", r.ID, "style", r.Extras.StyleID, "err", err)
		}
		return nil
	}
	return &horde.StyleUse{StyleID: sty.ID, CollectionID: r.Extras.CollectionID, OwnerID: sty.UserID}
}

package commands

import (
	"context"
	"fmt"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/horde"
)

// /write style: the horde's text styles (the AI Horde's /styles/text,
// made through the API), autocompleted as /imagine's image styles are
// (styleChoicesOf) and applied as an API text request naming the style
// is: the prompt goes into the style's template ({p}), the style's params
// and models replace the request's. What the member typed in this
// command (model, max_length) still wins; the style's values win over
// their /settings.

// writeStyleOption is /write's style option.
const writeStyleOption = "style"

// applyWriteStyle applies the style the member picked for /write, if any,
// to nr, and forgets the settings (from) the style replaced.
func (s *Set) applyWriteStyle(ctx context.Context, ix *interact.Interaction, o interact.Options, nr *horde.NewRequest, from fromSettings) error {
	ref := o.String(writeStyleOption, "")
	if ref == "" {
		return nil
	}
	sty, use, err := s.findStyleOf(ctx, ix, horde.KindText, ref)
	if err != nil {
		return err
	}
	typed := *nr
	out, err := s.styles.Apply(*nr, sty)
	if err != nil {
		return fmt.Errorf("apply text style %s: %w", sty.ID, err)
	}
	if o.Has("model") {
		out.Models = typed.Models
	}
	if o.Has("max_length") {
		out.Text.MaxLength = typed.Text.MaxLength
	}
	// The community's own workers serve its members whatever bridge they
	// run, styled or not (handleWrite).
	out.Text.AnyBackend = typed.Text.AnyBackend
	out.Style = use
	if len(sty.Models) > 0 {
		delete(from, "model")
	}
	delete(from, "max_length")
	*nr = out
	return nil
}

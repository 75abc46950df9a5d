package bot

import (
	"strings"
	"testing"

	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
)

// TestValidationWordingOfEveryField: each field the bot words a horde
// validation error of reads, in every language, as the catalog's sentence
// with its limits filled in, not the horde's English and no option note.
func TestValidationWordingOfEveryField(t *testing.T) {
	t.Parallel()
	fields := []string{"prompt", "n", "models", "width", "height", "steps", "cfg_scale", "denoising_strength",
		"seed", "loras", "post_processing", "max_length", "max_context_length"}
	for _, l := range locale.Languages {
		p := locale.Default().For(l.Discord[0], "")
		for _, f := range fields {
			if _, ok := validationLimits(p, f); !ok {
				t.Fatalf("%s is not worded", f)
			}
			const english = "the horde's english text"
			msg, internal := Reply(p, horde.Invalidf(f, english))
			if internal || strings.Contains(msg, english) || strings.Contains(msg, "<no value>") || strings.Contains(msg, "`"+f+"`") {
				t.Errorf("%s: %s reads %q", l.Code, f, msg)
			}
		}
	}
	// A field the catalogs do not word keeps the horde's message.
	if msg, _ := Reply(locale.Default().English(), horde.Invalidf("source_processing", "unknown source_processing x")); !strings.Contains(msg, "Unknown source_processing x") {
		t.Errorf("an unworded field reads %q", msg)
	}
}

package bot

import (
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// The horde says its own validation errors (code ValidationError with no
// Case: a request's prompt, size, steps, lengths...) in English, as the AI
// Horde does, and its domain knows no languages. A member meets them when
// an option Discord should have bounded was not (a stale command
// registration, a style's settings): the bot words them here, by the
// field they name, with the limits of the AI Horde's wire rules, as
// error.ValidationError.field.<field> (wording).

// validationLimits are the values the wording of a field's validation
// error shows, in p's language; ok is false for a field the catalogs do
// not word (its English message is shown, as before).
func validationLimits(p *locale.Printer, field string) (args locale.Args, ok bool) {
	switch field {
	case "prompt":
		return locale.Args{"Max": aihorde.MaxPromptLength}, true
	case "n":
		return locale.Args{"Min": aihorde.MinN, "Max": aihorde.MaxN}, true
	case "models":
		return locale.Args{"Max": aihorde.MaxRequestModels}, true
	case "width", "height":
		return locale.Args{"Min": aihorde.MinSide, "Max": aihorde.MaxSide, "Multiple": aihorde.SideMultiple}, true
	case "steps":
		return locale.Args{"Min": aihorde.MinSteps, "Max": aihorde.MaxSteps}, true
	case "cfg_scale":
		return locale.Args{"Min": p.Decimal(aihorde.MinCFGScale, 0), "Max": p.Decimal(aihorde.MaxCFGScale, 0)}, true
	case "denoising_strength":
		return locale.Args{"Min": p.Decimal(aihorde.MinDenoisingStrength, 2), "Max": p.Decimal(aihorde.MaxDenoisingStrength, 0)}, true
	case "seed":
		return locale.Args{"Max": aihorde.MaxSeedLength}, true
	case "loras":
		return locale.Args{"Max": aihorde.MaxLoras}, true
	case "post_processing":
		return locale.Args{"Max": aihorde.MaxPostProcessors}, true
	case "max_length":
		return locale.Args{"Min": aihorde.MinMaxLength, "Max": aihorde.MaxMaxLength}, true
	case "max_context_length":
		return locale.Args{"Min": aihorde.MinMaxContextLength, "Max": aihorde.MaxMaxContextLength}, true
	}
	return nil, false
}

// validationFieldKey is the catalog key of a field's validation error.
func validationFieldKey(field string) string { return "error.ValidationError.field." + field }

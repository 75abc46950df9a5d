package bot

import (
	"github.com/bwmarrin/discordgo"
)

// Outcome is how an interaction ended, for the InteractionDone hook.
type Outcome string

// Outcomes of an interaction.
const (
	// OutcomeOK: the handler succeeded.
	OutcomeOK Outcome = "ok"
	// OutcomeRefused: the member was told why not (bad input, a rule, a rate
	// limit, not enough kudos, an unknown or stale command or button).
	OutcomeRefused Outcome = "refused"
	// OutcomeError: something failed on our side (an internal error, a
	// panic, Discord refusing the acknowledgement); it was logged.
	OutcomeError Outcome = "error"
)

// Interaction kinds, for the InteractionDone hook.
const (
	InteractionCommand      = "command"
	InteractionComponent    = "component"
	InteractionAutocomplete = "autocomplete"
	InteractionModal        = "modal"
)

// nameUnknown names an interaction the bot has no handler for, so that a
// stale command name or a forged custom ID does not become a label of its own.
const nameUnknown = "unknown"

// outcomeOf classifies a handler's error the way replyError shows it.
func outcomeOf(err error) Outcome {
	if err == nil {
		return OutcomeOK
	}
	if _, internal := UserMessage(err); internal {
		return OutcomeError
	}
	return OutcomeRefused
}

// interactionName is the kind of an interaction and a bounded name for it:
// the command's name, or the button's registered prefix (never its full
// custom ID, which carries job ids), or nameUnknown. kind is "" for
// interactions that need no answer (pings).
func (b *Bot) interactionName(i *discordgo.Interaction) (kind, name string) {
	switch i.Type {
	case discordgo.InteractionApplicationCommand, discordgo.InteractionApplicationCommandAutocomplete:
		kind = InteractionCommand
		if i.Type == discordgo.InteractionApplicationCommandAutocomplete {
			kind = InteractionAutocomplete
		}
		if cmd := b.set.Command(i.ApplicationCommandData().Name); cmd != nil && cmd.Def != nil {
			return kind, cmd.Def.Name
		}
		return kind, nameUnknown
	case discordgo.InteractionMessageComponent:
		if comp, _ := b.set.Component(i.MessageComponentData().CustomID); comp != nil {
			return InteractionComponent, comp.Prefix
		}
		return InteractionComponent, nameUnknown
	case discordgo.InteractionModalSubmit:
		if form, _ := b.set.Form(i.ModalSubmitData().CustomID); form != nil {
			return InteractionModal, form.Prefix
		}
		return InteractionModal, nameUnknown
	}
	return "", ""
}

// interactionDone reports a handled interaction to the InteractionDone hook.
func (b *Bot) interactionDone(kind, name string, err error) {
	if b.cfg.InteractionDone != nil && kind != "" {
		b.cfg.InteractionDone(kind, name, outcomeOf(err))
	}
}

package interact

import (
	"context"
	"fmt"

	"github.com/bwmarrin/discordgo"
)

// Modal answers the interaction with a modal: a form of text inputs (one
// per row, at most five) that the member fills in. Its submit arrives as
// a new interaction (a modal submit) carrying customID and the values
// (ModalValues). A modal can only be the first response: an interaction
// already deferred or answered cannot show one.
func (ix *Interaction) Modal(ctx context.Context, customID, title string, inputs ...discordgo.TextInput) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.acked {
		return fmt.Errorf("show modal %s: the interaction was already answered", customID)
	}
	rows := make([]discordgo.MessageComponent, len(inputs))
	for i, in := range inputs {
		rows[i] = discordgo.ActionsRow{Components: []discordgo.MessageComponent{in}}
	}
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseModal,
		Data: &discordgo.InteractionResponseData{CustomID: customID, Title: title, Components: rows}}
	if err := ix.respond(ctx, resp); err != nil {
		return fmt.Errorf("show modal %s: %w", customID, err)
	}
	ix.acked = true
	return nil
}

// ModalValues are the text inputs of a modal submit, by custom id; nil for
// another kind of interaction.
func ModalValues(i *discordgo.Interaction) map[string]string {
	if i.Type != discordgo.InteractionModalSubmit {
		return nil
	}
	out := map[string]string{}
	for _, row := range i.ModalSubmitData().Components {
		r, ok := row.(*discordgo.ActionsRow)
		if !ok {
			continue
		}
		for _, c := range r.Components {
			if ti, ok := c.(*discordgo.TextInput); ok {
				out[ti.CustomID] = ti.Value
			}
		}
	}
	return out
}

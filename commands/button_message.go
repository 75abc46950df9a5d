package commands

import (
	"context"
	"slices"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/horde"
)

// A button's custom ID is whatever the client sends, while the message it
// was pressed on is Discord's: so a button is handled only when the
// message carries it (onItsMessage). That binds the request id in the
// custom ID to a message the clicker sees in that channel: a forged click
// cannot reroll a request whose prompt the clicker never saw, delete
// another member's message with a delete button of one's own request, or
// write a rating line into any post of the bot's. Who may press a button
// (the requester for share and delete, anyone else for rating) is each
// handler's own check.

// onItsMessage is handle, run only for a click of a button its message
// carries (a message of this bot's, when the session knows who that is).
func onItsMessage(handle func(context.Context, *interact.Interaction, []string) error) func(context.Context, *interact.Interaction, []string) error {
	return func(ctx context.Context, ix *interact.Interaction, args []string) error {
		if !pressedOnItsMessage(ix) {
			return horde.Invalidf("", "this button is not on this message").InCase("button_elsewhere")
		}
		return handle(ctx, ix, args)
	}
}

// pressedOnItsMessage reports whether the component the interaction names
// is on the interaction's message, and the message is the bot's.
func pressedOnItsMessage(ix *interact.Interaction) bool {
	m := ix.I.Message
	if ix.I.Type != discordgo.InteractionMessageComponent || m == nil {
		return false
	}
	if ix.S != nil && ix.S.State != nil && ix.S.State.User != nil && m.Author != nil && m.Author.ID != ix.S.State.User.ID {
		return false
	}
	return carries(m.Components, ix.I.MessageComponentData().CustomID)
}

// carries reports whether components (at any depth) hold one of custom ID id.
func carries(components []discordgo.MessageComponent, id string) bool {
	for _, c := range components {
		own, inner := componentParts(c)
		if (own != "" && own == id) || carries(inner, id) {
			return true
		}
	}
	return false
}

// componentParts is a component's own custom ID ("" if it has none) and the
// components it holds (discordgo decodes them as pointers, a message built
// here holds values).
func componentParts(c discordgo.MessageComponent) (customID string, inner []discordgo.MessageComponent) {
	switch c := c.(type) {
	case *discordgo.ActionsRow:
		return "", c.Components
	case discordgo.ActionsRow:
		return "", c.Components
	case *discordgo.Button:
		return c.CustomID, nil
	case discordgo.Button:
		return c.CustomID, nil
	case *discordgo.SelectMenu:
		return c.CustomID, nil
	case discordgo.SelectMenu:
		return c.CustomID, nil
	case *discordgo.Section:
		if c.Accessory != nil {
			return "", append(slices.Clone(c.Components), c.Accessory)
		}
		return "", c.Components
	case *discordgo.Container:
		return "", c.Components
	}
	return "", nil
}

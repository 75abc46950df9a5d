package discordtest

import (
	"fmt"

	"github.com/bwmarrin/discordgo"
)

// Interaction describes an interaction a user triggers, for SendInteraction.
// In a guild set GuildID (the user must be a member); without GuildID it
// happens in the user's DM with the bot (ChannelID may be left empty).
type Interaction struct {
	// Type is inferred when zero: Command gives an application command (or
	// autocomplete when an option is Focused), Fields a modal submit, CustomID
	// a message component.
	Type discordgo.InteractionType

	GuildID   string
	ChannelID string
	UserID    string
	Locale    discordgo.Locale

	// Command is the command name for application commands and autocomplete.
	Command     string
	CommandType discordgo.ApplicationCommandType // default ChatApplicationCommand
	Options     []*discordgo.ApplicationCommandInteractionDataOption
	TargetID    string // user and message commands

	// CustomID is the component's or modal's custom_id.
	CustomID      string
	ComponentType discordgo.ComponentType // default ButtonComponent
	Values        []string                // select menus
	// MessageID is the message carrying the component (components; optional for modals).
	MessageID string

	// Fields are a modal's text inputs, in order.
	Fields []ModalField
}

// ModalField is a text input value in a modal submit.
type ModalField struct {
	CustomID string
	Value    string
}

// Opt builds a command option, its type inferred from value: string is a
// string option, int/int64 an integer, float64 a number, bool a boolean.
// Use UserOpt, ChannelOpt and RoleOpt for snowflake options.
func Opt(name string, value any) *discordgo.ApplicationCommandInteractionDataOption {
	o := &discordgo.ApplicationCommandInteractionDataOption{Name: name, Value: value}
	switch v := value.(type) {
	case string:
		o.Type = discordgo.ApplicationCommandOptionString
	case int:
		o.Type, o.Value = discordgo.ApplicationCommandOptionInteger, float64(v)
	case int64:
		o.Type, o.Value = discordgo.ApplicationCommandOptionInteger, float64(v)
	case float64:
		o.Type = discordgo.ApplicationCommandOptionNumber
	case bool:
		o.Type = discordgo.ApplicationCommandOptionBoolean
	default:
		o.Type, o.Value = discordgo.ApplicationCommandOptionString, fmt.Sprint(v)
	}
	return o
}

// Focused is Opt for the option being typed in an autocomplete interaction.
func Focused(name string, value any) *discordgo.ApplicationCommandInteractionDataOption {
	o := Opt(name, value)
	o.Focused = true
	return o
}

// UserOpt is a user option; the user is added to the interaction's resolved data.
func UserOpt(name, userID string) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionUser, Value: userID}
}

// ChannelOpt is a channel option; the channel is added to the resolved data.
func ChannelOpt(name, channelID string) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionChannel, Value: channelID}
}

// RoleOpt is a role option; the role is added to the resolved data.
func RoleOpt(name, roleID string) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionRole, Value: roleID}
}

// SubCommand wraps options in a subcommand, e.g. /kudos give.
func SubCommand(name string, opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionSubCommand, Options: opts}
}

// SubCommandGroup wraps subcommands in a group.
func SubCommandGroup(name string, subs ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.ApplicationCommandInteractionDataOption {
	return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionSubCommandGroup, Options: subs}
}

// Opts collects options, for Interaction.Options.
func Opts(opts ...*discordgo.ApplicationCommandInteractionDataOption) []*discordgo.ApplicationCommandInteractionDataOption {
	return opts
}

func anyFocused(opts []*discordgo.ApplicationCommandInteractionDataOption) bool {
	for _, o := range opts {
		if o.Focused || anyFocused(o.Options) {
			return true
		}
	}
	return false
}

// inferType returns the interaction type the description stands for.
func (in Interaction) inferType() (discordgo.InteractionType, error) {
	if in.Type != 0 {
		return in.Type, nil
	}
	switch {
	case in.Command != "" && anyFocused(in.Options):
		return discordgo.InteractionApplicationCommandAutocomplete, nil
	case in.Command != "":
		return discordgo.InteractionApplicationCommand, nil
	case len(in.Fields) > 0:
		return discordgo.InteractionModalSubmit, nil
	case in.CustomID != "":
		return discordgo.InteractionMessageComponent, nil
	}
	return 0, fmt.Errorf("discordtest: interaction needs a Command, CustomID or Fields")
}

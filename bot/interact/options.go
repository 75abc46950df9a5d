package interact

import (
	"strings"

	"github.com/bwmarrin/discordgo"
)

// Options are the values a member typed into a slash command, with the
// subcommand (and group) path that led to them.
type Options struct {
	Sub     string // "give", or "group sub"; empty without subcommands
	values  map[string]*discordgo.ApplicationCommandInteractionDataOption
	focused string
}

// ParseOptions flattens the options of an application command or
// autocomplete interaction.
func ParseOptions(i *discordgo.Interaction) Options {
	o := Options{values: map[string]*discordgo.ApplicationCommandInteractionDataOption{}}
	if i.Type != discordgo.InteractionApplicationCommand && i.Type != discordgo.InteractionApplicationCommandAutocomplete {
		return o
	}
	opts := i.ApplicationCommandData().Options
	var path []string
	for len(opts) == 1 && (opts[0].Type == discordgo.ApplicationCommandOptionSubCommand ||
		opts[0].Type == discordgo.ApplicationCommandOptionSubCommandGroup) {
		path = append(path, opts[0].Name)
		opts = opts[0].Options
	}
	o.Sub = strings.Join(path, " ")
	for _, v := range opts {
		o.values[v.Name] = v
		if v.Focused {
			o.focused = v.Name
		}
	}
	return o
}

// Has reports whether the option was given.
func (o Options) Has(name string) bool { _, ok := o.values[name]; return ok }

// Focused is the name of the option being autocompleted.
func (o Options) Focused() string { return o.focused }

// String returns a string option, or def when absent.
func (o Options) String(name, def string) string {
	v, ok := o.values[name]
	if !ok {
		return def
	}
	if s, ok := v.Value.(string); ok {
		return strings.TrimSpace(s)
	}
	return def
}

// Int returns an integer option, or def when absent.
func (o Options) Int(name string, def int64) int64 {
	v, ok := o.values[name]
	if !ok {
		return def
	}
	if f, ok := v.Value.(float64); ok {
		return int64(f)
	}
	return def
}

// Float returns a number option, or def when absent.
func (o Options) Float(name string, def float64) float64 {
	v, ok := o.values[name]
	if !ok {
		return def
	}
	if f, ok := v.Value.(float64); ok {
		return f
	}
	return def
}

// Bool returns a boolean option, or def when absent.
func (o Options) Bool(name string, def bool) bool {
	v, ok := o.values[name]
	if !ok {
		return def
	}
	if b, ok := v.Value.(bool); ok {
		return b
	}
	return def
}

// UserID returns a user option's id, or "" when absent.
func (o Options) UserID(name string) string {
	v, ok := o.values[name]
	if !ok {
		return ""
	}
	if s, ok := v.Value.(string); ok {
		return s
	}
	return ""
}

// ResolvedUser returns the user object Discord resolved for a user option, or nil.
func ResolvedUser(i *discordgo.Interaction, id string) *discordgo.User {
	if i.Type != discordgo.InteractionApplicationCommand {
		return nil
	}
	r := i.ApplicationCommandData().Resolved
	if r == nil || r.Users == nil {
		return nil
	}
	return r.Users[id]
}

// ResolvedMember returns the member object Discord resolved for a user option, or nil.
func ResolvedMember(i *discordgo.Interaction, id string) *discordgo.Member {
	if i.Type != discordgo.InteractionApplicationCommand {
		return nil
	}
	r := i.ApplicationCommandData().Resolved
	if r == nil || r.Members == nil {
		return nil
	}
	return r.Members[id]
}

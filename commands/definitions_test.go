package commands_test

import (
	"regexp"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/commands"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/store"
)

// TestDefinitionsKeepDiscordsRules checks every command definition, /style
// and /settings included, against the rules Discord refuses a bulk
// overwrite for: names of 1-32 lowercase characters, descriptions of 1-100,
// at most 25 options and choices, required options before optional ones.
func TestDefinitionsKeepDiscordsRules(t *testing.T) {
	set := commands.New(commands.Config{}, commands.Deps{Styles: api.NewStyleRules(nil), Settings: (*store.Store)(nil)})
	name := regexp.MustCompile(`^[-_\p{Ll}\p{N}]{1,32}$`)
	var check func(where string, opts []*discordgo.ApplicationCommandOption)
	check = func(where string, opts []*discordgo.ApplicationCommandOption) {
		if len(opts) > 25 {
			t.Errorf("%s: %d options", where, len(opts))
		}
		optional := false
		for _, o := range opts {
			w := where + " " + o.Name
			if !name.MatchString(o.Name) {
				t.Errorf("%s: bad name", w)
			}
			if n := len([]rune(o.Description)); n < 1 || n > 100 {
				t.Errorf("%s: description of %d characters", w, n)
			}
			if len(o.Choices) > 25 {
				t.Errorf("%s: %d choices", w, len(o.Choices))
			}
			if o.Required && optional {
				t.Errorf("%s: a required option after an optional one", w)
			}
			optional = optional || !o.Required
			check(w, o.Options)
		}
	}
	seen := map[string]bool{}
	for _, d := range set.Definitions() {
		seen[d.Name] = true
		if d.Type == discordgo.MessageApplicationCommand || d.Type == discordgo.UserApplicationCommand {
			// A context menu's name is what the menu shows (any case, spaces
			// allowed, 1-32 characters); it has no description.
			if n := len([]rune(d.Name)); n < 1 || n > 32 || d.Description != "" || len(d.Options) > 0 {
				t.Errorf("context menu %q: bad name, or a description or options", d.Name)
			}
			continue
		}
		if n := len([]rune(d.Description)); !name.MatchString(d.Name) || n < 1 || n > 100 {
			t.Errorf("/%s: bad name or description", d.Name)
		}
		check("/"+d.Name, d.Options)
	}
	if !seen["style"] || !seen["settings"] {
		t.Errorf("definitions %v, want /style and /settings with their deps", seen)
	}
}

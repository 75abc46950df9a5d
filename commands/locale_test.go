package commands_test

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/commands"
	"github.com/hordebot/hordebot/kudos"
)

// everyCommand are deps under which New declares every command, the
// optional ones too (/party, /style, /settings): only the declarations
// are read, no handler runs.
func everyCommand() commands.Deps {
	return commands.Deps{Parties: partiesOn{}, Styles: struct{ commands.Styles }{}, Settings: struct{ commands.MemberSettingsStore }{}}
}

// partiesOn declares /party; its other methods are never called here.
type partiesOn struct{ commands.Parties }

func (partiesOn) PartyConfig() kudos.PartyConfig { return kudos.DefaultPartyConfig() }

// TestEveryCommandPathIsTranslated: every command, subcommand, option and
// choice has a German and a Spanish name and description that Discord
// accepts (names lowercase, 1-32 letters, digits, - or _, unique at their
// level; descriptions 1-100 characters), and they are what the bot
// registers.
func TestEveryCommandPathIsTranslated(t *testing.T) {
	t.Parallel()
	defs := commands.New(commands.Config{}, everyCommand()).Definitions()
	for _, d := range defs {
		problems := locale.Default().LocalizeCommands([]*discordgo.ApplicationCommand{d})
		for _, p := range problems {
			t.Errorf("/%s: %s", d.Name, p)
		}
		for _, p := range locale.CommandPaths([]*discordgo.ApplicationCommand{d}) {
			for _, lang := range locale.Languages[1:] {
				forms, ok := locale.Default().Message(lang.Code, p.NameKey())
				if !ok {
					continue // reported above
				}
				if name := forms["other"]; p.ChatInput && !locale.ValidChatInputName(name) {
					t.Errorf("%s: %s %q breaks Discord's name rule", lang.Code, p.NameKey(), name)
				}
			}
		}
	}
	// No translation is left of a path that no longer exists.
	paths := map[string]bool{}
	for _, p := range locale.CommandPaths(defs) {
		paths[p.NameKey()], paths[p.DescriptionKey()] = true, true
	}
	for _, lang := range locale.Languages {
		for _, k := range locale.Default().Keys(lang.Code) {
			if strings.HasPrefix(k, "command.") && !paths[k] {
				t.Errorf("%s.yaml has %q, which no command declares", lang.Code, k)
			}
		}
	}
	// The declared (English) names follow the rule too.
	for _, d := range defs {
		for _, p := range locale.CommandPaths([]*discordgo.ApplicationCommand{d}) {
			if !p.ChatInput {
				continue
			}
			name := p.Key[strings.LastIndex(p.Key, ".")+1:]
			if !locale.ValidChatInputName(name) {
				t.Errorf("declared name %q of %s breaks Discord's name rule", name, p.Key)
			}
		}
	}
}

// TestDefinitionsCarryLocalizations: the set's definitions (what the bot
// registers) are localised already.
func TestDefinitionsCarryLocalizations(t *testing.T) {
	t.Parallel()
	for _, d := range commands.New(commands.Config{}, everyCommand()).Definitions() {
		if d.Type == discordgo.MessageApplicationCommand || d.Type == discordgo.UserApplicationCommand {
			// A context menu has a name and no description.
			if d.NameLocalizations == nil || (*d.NameLocalizations)[discordgo.German] == "" || (*d.NameLocalizations)[discordgo.SpanishES] == "" {
				t.Errorf("menu %q has no German or Spanish name: %v", d.Name, d.NameLocalizations)
			}
			continue
		}
		// A context menu has a name and no description.
		locs, what := d.DescriptionLocalizations, "description"
		if d.Type == discordgo.UserApplicationCommand || d.Type == discordgo.MessageApplicationCommand {
			locs, what = d.NameLocalizations, "name"
		}
		if locs == nil || (*locs)[discordgo.German] == "" || (*locs)[discordgo.SpanishLATAM] == "" {
			t.Errorf("/%s has no German or Spanish %s: %v", d.Name, what, locs)
		}
	}
}

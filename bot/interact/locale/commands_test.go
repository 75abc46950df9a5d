package locale_test

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact/locale"
)

func TestValidChatInputName(t *testing.T) {
	for name, want := range map[string]bool{
		"kudos": true, "rotate-key": true, "new_name": true, "größe": true, "año": true, "名前": true,
		"": false, "Kudos": false, "two words": false, strings.Repeat("a", 33): false, "emoji🙂": false,
	} {
		if got := locale.ValidChatInputName(name); got != want {
			t.Errorf("ValidChatInputName(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestLocalizeCommands: the localisations land on the command, its
// subcommands, options and choices, under every Discord locale of the
// language; a wording Discord would refuse is left out and reported.
func TestLocalizeCommands(t *testing.T) {
	fsys := fstest.MapFS{
		"c/en.yaml": {Data: []byte(`x: "x"`)},
		"c/de.yaml": {Data: []byte(`
x: "x"
command.pet.name: "haustier"
command.pet.description: "Ein Haustier"
command.pet.feed.name: "füttern"
command.pet.feed.description: "Füttere es"
command.pet.feed.option.food.name: "futter"
command.pet.feed.option.food.description: "Was"
command.pet.feed.option.food.choice.fish: "Fisch"
command.pet.pat.name: "füttern"
command.pet.pat.description: "Streichle es"
`)},
		"c/es.yaml": {Data: []byte(`
x: "x"
command.pet.name: "Mascota"
command.pet.description: "Una mascota"
`)},
	}
	c, err := locale.Load(fsys, "c")
	if err != nil {
		t.Fatal(err)
	}
	food := &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "food", Description: "What",
		Choices: []*discordgo.ApplicationCommandOptionChoice{{Name: "fish", Value: "fish"}}}
	def := &discordgo.ApplicationCommand{Name: "pet", Description: "A pet", Options: []*discordgo.ApplicationCommandOption{
		{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "feed", Description: "Feed it", Options: []*discordgo.ApplicationCommandOption{food}},
		{Type: discordgo.ApplicationCommandOptionSubCommand, Name: "pat", Description: "Pat it"},
	}}
	problems := c.LocalizeCommands([]*discordgo.ApplicationCommand{def})

	if got := (*def.NameLocalizations)[discordgo.German]; got != "haustier" {
		t.Errorf("German command name %q", got)
	}
	if got := (*def.DescriptionLocalizations)[discordgo.SpanishLATAM]; got != "Una mascota" {
		t.Errorf("es-419 description %q", got)
	}
	if got := (*def.DescriptionLocalizations)[discordgo.SpanishES]; got != "Una mascota" {
		t.Errorf("es-ES description %q", got)
	}
	if _, ok := (*def.NameLocalizations)[discordgo.SpanishES]; ok {
		t.Error("a capitalised Spanish name was registered")
	}
	feed := def.Options[0]
	if feed.NameLocalizations[discordgo.German] != "füttern" || feed.DescriptionLocalizations[discordgo.German] != "Füttere es" {
		t.Errorf("subcommand localisations %v %v", feed.NameLocalizations, feed.DescriptionLocalizations)
	}
	if food.NameLocalizations[discordgo.German] != "futter" || food.Choices[0].NameLocalizations[discordgo.German] != "Fisch" {
		t.Errorf("option and choice localisations %v %v", food.NameLocalizations, food.Choices[0].NameLocalizations)
	}
	if _, ok := def.Options[1].NameLocalizations[discordgo.German]; ok {
		t.Error("a second subcommand named like the first was registered")
	}
	for _, want := range []string{
		`es: command.pet.name "Mascota" is not a name`,
		`de: command.pet.pat.name "füttern" is also the name of command.pet.feed`,
		"es: no command.pet.feed.option.food.choice.fish",
	} {
		found := false
		for _, p := range problems {
			found = found || strings.Contains(p, want)
		}
		if !found {
			t.Errorf("problems %q lack %q", problems, want)
		}
	}
}

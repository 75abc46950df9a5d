package commands

import (
	"testing"

	"github.com/bwmarrin/discordgo"
)

// TestCarries: a button is found at any depth of a message's components,
// as discordgo decodes them (pointers) or as the bot builds them (values).
func TestCarries(t *testing.T) {
	btn := discordgo.Button{CustomID: "imagine/reroll/r1"}
	for _, tt := range []struct {
		name  string
		comps []discordgo.MessageComponent
		want  bool
	}{
		{"in a row of values", []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{btn}}}, true},
		{"in a row of pointers", []discordgo.MessageComponent{&discordgo.ActionsRow{Components: []discordgo.MessageComponent{&btn}}}, true},
		{"a section's accessory in a container", []discordgo.MessageComponent{&discordgo.Container{Components: []discordgo.MessageComponent{
			&discordgo.Section{Components: []discordgo.MessageComponent{&discordgo.TextDisplay{Content: "x"}}, Accessory: &btn}}}}, true},
		{"a select menu", []discordgo.MessageComponent{&discordgo.ActionsRow{Components: []discordgo.MessageComponent{&discordgo.SelectMenu{CustomID: "imagine/reroll/r1"}}}}, true},
		{"another button", []discordgo.MessageComponent{&discordgo.ActionsRow{Components: []discordgo.MessageComponent{&discordgo.Button{CustomID: "imagine/reroll/r2"}}}}, false},
		{"a link button (no custom ID)", []discordgo.MessageComponent{&discordgo.ActionsRow{Components: []discordgo.MessageComponent{&discordgo.Button{URL: "https://x"}}}}, false},
		{"no components", nil, false},
	} {
		if got := carries(tt.comps, btn.CustomID); got != tt.want {
			t.Errorf("%s: carries = %v, want %v", tt.name, got, tt.want)
		}
	}
	if carries([]discordgo.MessageComponent{&discordgo.Button{URL: "https://x"}}, "") {
		t.Error("an empty custom ID is carried by a link button")
	}
}

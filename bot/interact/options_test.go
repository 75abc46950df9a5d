package interact_test

import (
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
)

func command(opts ...*discordgo.ApplicationCommandInteractionDataOption) *discordgo.Interaction {
	return &discordgo.Interaction{Type: discordgo.InteractionApplicationCommand,
		Data: discordgo.ApplicationCommandInteractionData{Name: "mod", Options: opts}}
}

func TestParseOptions(t *testing.T) {
	str := func(name, v string) *discordgo.ApplicationCommandInteractionDataOption {
		return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: discordgo.ApplicationCommandOptionString, Value: v}
	}
	num := &discordgo.ApplicationCommandInteractionDataOption{Name: "amount", Type: discordgo.ApplicationCommandOptionInteger, Value: float64(25)}
	group := &discordgo.ApplicationCommandInteractionDataOption{Name: "kudos", Type: discordgo.ApplicationCommandOptionSubCommandGroup,
		Options: []*discordgo.ApplicationCommandInteractionDataOption{{Name: "adjust", Type: discordgo.ApplicationCommandOptionSubCommand,
			Options: []*discordgo.ApplicationCommandInteractionDataOption{str("reason", "  typo  "), num}}}}
	tests := []struct {
		name       string
		i          *discordgo.Interaction
		wantSub    string
		wantReason string
		wantAmount int64
	}{
		{"no subcommand", command(str("reason", "x"), num), "", "x", 25},
		{"group and subcommand make one path; strings are trimmed", command(group), "kudos adjust", "typo", 25},
		{"absent options take their defaults", command(), "", "def", -1},
		{"a button has no options", &discordgo.Interaction{Type: discordgo.InteractionMessageComponent, Data: discordgo.MessageComponentInteractionData{CustomID: "x"}}, "", "def", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := interact.ParseOptions(tt.i)
			if o.Sub != tt.wantSub || o.String("reason", "def") != tt.wantReason || o.Int("amount", -1) != tt.wantAmount {
				t.Fatalf("sub %q reason %q amount %d; want %q %q %d", o.Sub, o.String("reason", "def"), o.Int("amount", -1), tt.wantSub, tt.wantReason, tt.wantAmount)
			}
		})
	}
}

func TestDisplayName(t *testing.T) {
	tests := []struct {
		u    *discordgo.User
		want string
	}{
		{nil, ""},
		{&discordgo.User{Username: "ada"}, "ada"},
		{&discordgo.User{Username: "ada", GlobalName: "Ada L."}, "Ada L."},
	}
	for _, tt := range tests {
		if got := interact.DisplayName(tt.u); got != tt.want {
			t.Errorf("DisplayName(%+v) = %q, want %q", tt.u, got, tt.want)
		}
	}
}

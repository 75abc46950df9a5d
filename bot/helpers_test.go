package bot_test

import (
	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/bottest"
)

// The bot's tests run it on the fake Discord of bottest (shared with the
// commands' tests); these are its short local names.
type (
	harness       = bottest.Harness
	harnessOption = bottest.Option
	userT         = discordgo.User
	discordOption = discordgo.ApplicationCommandInteractionDataOption
)

var (
	newHarness    = bottest.New
	newModHarness = bottest.NewModeration
	quietLogger   = bottest.QuietLogger
	stop          = bottest.Stop
	solidPNG      = bottest.SolidPNG
	customIDs     = bottest.CustomIDs
	findID        = bottest.FindID
	decodeImage   = bottest.DecodeImage
	must          = bottest.Must
	wantContains  = bottest.WantContains
)

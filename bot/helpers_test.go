package bot_test

import (
	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/bottest"
	"github.com/hordebot/hordebot/bot/discordtest"
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

	sub     = discordtest.SubCommand
	opt     = discordtest.Opt
	userOpt = discordtest.UserOpt
	modSub  = bottest.SubCommand

	hasFiles  = bottest.HasFiles
	queuedMsg = bottest.Queued
)

// finishedImagine runs /imagine for alice and serves it; it returns the result message.
func finishedImagine(h *harness, count int) discordtest.Message { return h.FinishedImagine(count) }

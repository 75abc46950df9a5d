package commands_test

import (
	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/bottest"
	"github.com/hordebot/hordebot/bot/discordtest"
)

// The commands are tested through the bot on the fake Discord of bottest
// (their transport in production too); these are its short local names.
type (
	harness       = bottest.Harness
	harnessOption = bottest.Option
	userT         = discordgo.User
	discordOption = discordgo.ApplicationCommandInteractionDataOption
)

var (
	newHarness    = bottest.New
	newModHarness = bottest.NewModeration
	// newUnstartedHarness is newHarness without the bot, to configure it first.
	newUnstartedHarness = bottest.NewUnstarted
	quietLogger         = bottest.QuietLogger
	stop                = bottest.Stop
	solidPNG            = bottest.SolidPNG
	customIDs           = bottest.CustomIDs
	findID              = bottest.FindID
	decodeImage         = bottest.DecodeImage
	must                = bottest.Must
	wantContains        = bottest.WantContains

	sub     = discordtest.SubCommand
	opt     = discordtest.Opt
	userOpt = discordtest.UserOpt
	modSub  = bottest.SubCommand

	hasFiles  = bottest.HasFiles
	queuedMsg = bottest.Queued
)

// finishedImagine runs /imagine for alice and serves it; it returns the result message.
func finishedImagine(h *harness, count int) discordtest.Message { return h.FinishedImagine(count) }

// botButton posts a message of the bot's in ch carrying a button of
// customID and returns its id (Harness.BotButtons).
func botButton(h *harness, ch *discordgo.Channel, customID string) string {
	h.T.Helper()
	return h.BotButtons(ch, customID)
}

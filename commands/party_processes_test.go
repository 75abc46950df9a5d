package commands_test

import (
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/bot/bottest"
	"github.com/hordebot/hordebot/bot/discordtest"
)

// TestTwoProcessesEndAPartyOnce: a party's end time passes while no bot
// runs; two bot processes on the one database then start, each checking
// for due parties every 10 ms. The party is ended, refunded and announced
// once: one summary in the channel, the host's unspent budget back once.
func TestTwoProcessesEndAPartyOnce(t *testing.T) {
	t.Parallel()
	h := partyPastItsEnd(t)
	h.StartProcess(bottest.ProcessSpec{ShardCount: 1})
	h.StartProcess(bottest.ProcessSpec{ShardCount: 1})
	summary, err := h.Srv.WaitForMessage(h.Ctx, h.General.ID, func(m discordtest.Message) bool {
		return strings.Contains(m.Content, "Party over")
	})
	must(t, err)
	wantContains(t, summary.Content, "Budget **20** kudos: 5 awarded, **15** returned")
	// Both processes have had many rounds to end or announce it again.
	time.Sleep(300 * time.Millisecond)
	if n := len(partySummaries(h, h.General)); n != 1 {
		t.Fatalf("%d summaries of the party, want 1", n)
	}
	if b := h.Balance(h.Alice); b != 95 {
		t.Fatalf("alice has %d, want 95 (100 - 20 held + 15 returned)", b)
	}
	wantBooks(t, h)
}

package commands_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// fund gives a member kudos with an admin entry.
func fund(t *testing.T, h *harness, u *userT, amount int64) {
	t.Helper()
	_, err := h.Store.Apply(h.Ctx, kudos.Entry{UserID: h.User(u).ID, Delta: amount, Kind: kudos.KindAdmin,
		Key: fmt.Sprintf("fund:%s:%d", u.ID, amount), Reason: "test funds", Floor: kudos.NoFloor})
	must(t, err)
}

// partyKudos is what a member's party entries sum to: their awards, or for
// a host minus the budget plus the refund. (Their requests cost kudos too,
// which this leaves out.)
func partyKudos(t *testing.T, h *harness, u *userT) int64 {
	t.Helper()
	entries, err := h.Kudos.History(h.Ctx, h.User(u).ID, 1000)
	must(t, err)
	var sum int64
	for _, e := range entries {
		if e.Kind == kudos.KindParty {
			sum += e.Delta
		}
	}
	return sum
}

// wantBooks fails unless the ledger and every party balance (kudos verify).
func wantBooks(t *testing.T, h *harness) {
	t.Helper()
	m, err := h.Kudos.Verify(h.Ctx)
	must(t, err)
	pm, err := h.Kudos.VerifyParties(h.Ctx)
	must(t, err)
	if len(m) > 0 || len(pm) > 0 {
		t.Fatalf("kudos verify: ledger %+v, parties %+v", m, pm)
	}
}

func partyStartOpts(minutes, award, budget int, more ...*discordOption) *discordOption {
	return sub("start", append([]*discordOption{opt("duration", minutes), opt("theme", "lighthouses at dusk"),
		opt("award", award), opt("budget", budget)}, more...)...)
}

// imagineIn runs /imagine for u in ch, serves it with worker w and returns the result.
func imagineIn(h *harness, u *userT, ch *discordgo.Channel, w string, prompt string) discordtest.Message {
	h.T.Helper()
	c := h.WorkerCred(w)
	h.PopImages(c, w) // an online worker: the request is possible
	tok := h.Run(u, ch, "imagine", opt("prompt", prompt))
	h.Original(tok, "queued", queuedMsg)
	h.ServeImages(c, w)
	return h.Original(tok, "result", hasFiles)
}

// partySummaries are the summaries posted in a channel.
func partySummaries(h *harness, ch *discordgo.Channel) []discordtest.Message {
	var out []discordtest.Message
	for _, m := range h.Srv.Messages(ch.ID) {
		if strings.Contains(m.Content, "Party over") {
			out = append(out, m)
		}
	}
	return out
}

// TestPartyFlow: alice hosts a party; bob and mod imagine in its channel
// (awarded once each in the interval); bob's second image in the interval
// and alice's own earn nothing; /party end posts the summary with the
// images and returns the rest; a replayed /party end pays nothing twice.
func TestPartyFlow(t *testing.T) {
	t.Parallel()
	done := make(chan string, 64)
	h := newHarness(t, func(c *bot.Config, _ *kudos.Config) {
		c.InteractionDone = func(kind, name string, outcome bot.Outcome) { done <- name + " " + string(outcome) }
	})
	fund(t, h, h.Alice, 100)

	text, private := h.Reply(h.Run(h.Alice, h.General, "party", partyStartOpts(60, 5, 30, opt("interval_minutes", 10))))
	wantContains(t, text, "Party: “lighthouses at dusk”")
	wantContains(t, text, "**5** kudos, once per member every 10 minutes")
	if private {
		t.Fatalf("the party's announcement is private: %q", text)
	}
	if b := h.Balance(h.Alice); b != 70 {
		t.Fatalf("alice has %d after putting in a budget of 30, want 70", b)
	}
	steps := []struct {
		name      string
		who       *userT
		wantLine  string
		wantParty map[*userT]int64 // party kudos of each member after the step
	}{
		{"bob's first image is awarded", h.Bob, "**+5** kudos", map[*userT]int64{h.Bob: 5, h.Alice: -30}},
		{"mod's first image is awarded", h.Mod, "**+5** kudos", map[*userT]int64{h.Mod: 5, h.Bob: 5}},
		{"bob's second image in the interval earns nothing", h.Bob, "your next award can come", map[*userT]int64{h.Bob: 5}},
		{"the host's own image earns nothing", h.Alice, "counted.", map[*userT]int64{h.Alice: -30}},
	}
	for i, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			h := h.On(t)
			m := imagineIn(h, st.who, h.General, fmt.Sprint("gpu-", i), "a lighthouse")
			wantContains(t, m.Content, "Party “lighthouses at dusk”")
			wantContains(t, m.Content, st.wantLine)
			for u, want := range st.wantParty {
				if got := partyKudos(t, h, u); got != want {
					t.Fatalf("%s's party kudos %d, want %d", u.Username, got, want)
				}
			}
			wantBooks(t, h)
		})
	}
	// /party status shows the party to anyone, privately.
	text, private = h.Reply(h.Run(h.Bob, h.General, "party", sub("status")))
	wantContains(t, text, "4 generations so far · budget 30: 10 awarded, **20** left")
	if !private {
		t.Fatalf("status is public: %q", text)
	}
	// Only the host or a moderator may end it.
	text, private = h.Reply(h.Run(h.Bob, h.General, "party", sub("end")))
	wantContains(t, text, "Only the host")
	if !private {
		t.Fatalf("refusal is public: %q", text)
	}

	endTok := h.Run(h.Alice, h.General, "party", sub("end"))
	summary := h.Original(endTok, "summary", hasFiles)
	for _, want := range []string{
		"Party over: “lighthouses at dusk”", "**4** generations by 3 members",
		"<@" + h.Bob.ID + ">: **5** kudos (1 award, 2 generations)",
		"<@" + h.Mod.ID + ">: **5** kudos (1 award, 1 generation)",
		"<@" + h.Alice.ID + ">: 1 generation (the host)",
		"Budget **30** kudos: 10 awarded, **20** returned to <@" + h.Alice.ID + ">",
	} {
		wantContains(t, summary.Content, want)
	}
	if len(summary.Files) != 1 {
		t.Fatalf("summary has %d files, want the grid", len(summary.Files))
	}
	if g := decodeImage(t, summary.Files[0].Data).Bounds(); g.Dx() <= 512 || g.Dy() <= 512 {
		t.Fatalf("summary image is %v, want a grid of the party's 512x512 images", g)
	}
	if got := partyKudos(t, h, h.Alice); got != -10 {
		t.Fatalf("alice's party kudos %d after the refund, want -10", got)
	}
	wantBooks(t, h)
	drain := func() {
		for {
			select {
			case <-done:
			default:
				return
			}
		}
	}
	drain()

	// The same /party end delivered again (a gateway replay), and a new
	// one: neither pays nor posts anything.
	i, ok := h.Srv.InteractionSent(endTok)
	if !ok {
		t.Fatal("the /party end interaction is unknown to the fake Discord")
	}
	must(t, h.Srv.Dispatch("INTERACTION_CREATE", i))
	for ev := ""; !strings.HasPrefix(ev, "party "); {
		select {
		case ev = <-done:
		case <-h.Ctx.Done():
			t.Fatalf("the replayed /party end was not handled: %v", h.Ctx.Err())
		}
	}
	text, private = h.Reply(h.Run(h.Alice, h.General, "party", sub("end")))
	wantContains(t, text, "There is no party running in this channel.")
	if !private {
		t.Fatalf("refusal is public: %q", text)
	}
	if n := len(partySummaries(h, h.General)); n != 1 {
		t.Fatalf("%d summaries posted, want 1", n)
	}
	if got := partyKudos(t, h, h.Alice); got != -10 {
		t.Fatalf("alice's party kudos %d after a replayed end, want -10", got)
	}
	for u, want := range map[*userT]int64{h.Bob: 5, h.Mod: 5} {
		if got := partyKudos(t, h, u); got != want {
			t.Fatalf("%s's party kudos %d after a replayed end, want %d", u.Username, got, want)
		}
	}
	wantBooks(t, h)

	// After the party an image earns nothing and says nothing of it.
	m := imagineIn(h, h.Bob, h.General, "gpu-after", "a lighthouse")
	if strings.Contains(m.Content, "Party") {
		t.Fatalf("an image after the party mentions it: %q", m.Content)
	}
}

// TestPartyRefusals: each refusal is a clear private message and holds nothing.
func TestPartyRefusals(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fund(t, h, h.Alice, 100)
	fund(t, h, h.Bob, 10)
	steps := []struct {
		name        string
		who         *userT
		ch          *discordgo.Channel // nil: a DM
		cmd         *discordOption
		want        string
		wantPrivate bool
	}{
		{"status with no party", h.Bob, h.General, sub("status"), "There is no party running in this channel.", true},
		{"end with no party", h.Alice, h.General, sub("end"), "There is no party running in this channel.", true},
		{"not enough kudos", h.Bob, h.General, partyStartOpts(30, 5, 50), "You do not have 50 kudos for the budget: you have 10.", true},
		{"no kudos at all", h.Mod, h.General, partyStartOpts(30, 5, 50), "you have 0", true},
		{"a budget below the award", h.Alice, h.General, partyStartOpts(30, 10, 5), "The budget (5) must cover at least one award (10).", true},
		{"too long", h.Alice, h.General, partyStartOpts(24*60+1, 5, 50), "A party lasts from 1 minute to 1 day.", true},
		{"in a DM", h.Alice, nil, partyStartOpts(30, 5, 50), "Parties run in a server channel, not in direct messages.", true},
		{"a mention in the theme is not made", h.Alice, h.General, sub("start", opt("duration", 30), opt("theme", "ping <@"+h.Bob.ID+"> @everyone"),
			opt("award", 5), opt("budget", 50)), "Party: “ping <@\u200b" + h.Bob.ID + "> @\u200beveryone”", false},
		{"its host ends it", h.Alice, h.General, sub("end"), "Party over: “ping <@\u200b", false},
		{"alice starts one", h.Alice, h.General, partyStartOpts(30, 5, 50), "Party: “lighthouses at dusk”", false},
		{"a second one in the channel", h.Bob, h.General, partyStartOpts(30, 1, 5), "A party is already running in this channel; it must end before another starts.", true},
		{"another channel is free", h.Bob, h.Art, partyStartOpts(30, 1, 5), "Party: “lighthouses at dusk”", false},
		{"bob may not end alice's", h.Bob, h.General, sub("end"), "Only the host of this party or a moderator can end it.", true},
		{"a moderator may", h.Mod, h.General, sub("end"), "(ended by <@" + h.Mod.ID + ">)", false},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			h := h.On(t)
			var tok string
			if st.ch == nil {
				tok = h.DM(st.who, "party", st.cmd)
			} else {
				tok = h.Run(st.who, st.ch, "party", st.cmd)
			}
			text, private := h.Reply(tok)
			wantContains(t, text, st.want)
			if private != st.wantPrivate {
				t.Fatalf("reply %q private %v, want %v", text, private, st.wantPrivate)
			}
		})
	}
	if a, b := h.Balance(h.Alice), h.Balance(h.Bob); a != 100 || b != 5 {
		t.Fatalf("alice %d (her party ended unspent: 100), bob %d (5 held in #art)", a, b)
	}
	wantBooks(t, h)
}

// TestPartyEndsWhenItsTimeIsUp: a party whose end time passes ends on its
// own, even when it passed while the bot was down: the next bot ends it,
// posts the summary and refunds the host.
func TestPartyEndsWhenItsTimeIsUp(t *testing.T) {
	t.Parallel()
	h := partyPastItsEnd(t)
	if n := len(partySummaries(h, h.General)); n != 0 {
		t.Fatalf("%d summaries while no bot ran", n)
	}
	h.Start()
	summary, err := h.Srv.WaitForMessage(h.Ctx, h.General.ID, func(m discordtest.Message) bool {
		return strings.Contains(m.Content, "Party over")
	})
	must(t, err)
	for _, want := range []string{"(its time is up)", "**1** generation by 1 member", "Budget **20** kudos: 5 awarded, **15** returned"} {
		wantContains(t, summary.Content, want)
	}
	if len(summary.Files) != 1 {
		t.Fatalf("summary has %d files, want the party's image", len(summary.Files))
	}
	if b := h.Balance(h.Alice); b != 95 {
		t.Fatalf("alice has %d, want 95", b)
	}
	// The channel is free again, and /party end finds nothing to end.
	text, _ := h.Reply(h.Run(h.Alice, h.General, "party", sub("end")))
	wantContains(t, text, "There is no party running")
	if n := len(partySummaries(h, h.General)); n != 1 {
		t.Fatalf("%d summaries, want 1", n)
	}
	wantBooks(t, h)
}

// partyPastItsEnd is a harness whose bot checks for due parties every
// 10 ms, where alice hosted a 5-minute party (award 5, budget 20 of her
// 100 kudos) in which bob earned one award, then the bot stopped and the
// clock passed the party's end.
func partyPastItsEnd(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, func(c *bot.Config, _ *kudos.Config) { c.PartyCheckEvery = 10 * time.Millisecond })
	fund(t, h, h.Alice, 100)
	text, _ := h.Reply(h.Run(h.Alice, h.General, "party", partyStartOpts(5, 5, 20)))
	wantContains(t, text, "Party: “lighthouses at dusk”")
	m := imagineIn(h, h.Bob, h.General, "gpu-1", "a lighthouse")
	wantContains(t, m.Content, "**+5** kudos")
	stop(h.Bot, h.Sess)
	h.Clock.Advance(6 * time.Minute)
	return h
}

// TestPartyThemeGoesThroughTheFilter: /party start refuses a theme the
// prompt filter would refuse (or rewrite) in the channel, in the member's
// language, holds nothing, and tells the moderators of a theme pairing
// minors with sexual content; an NSFW theme is fine in an age-restricted
// channel.
func TestPartyThemeGoesThroughTheFilter(t *testing.T) {
	t.Parallel()
	h := newModHarness(t, horde.Config{})
	fund(t, h, h.Alice, 100)
	start := func(theme string) *discordOption {
		return sub("start", opt("duration", 30), opt("theme", theme), opt("award", 5), opt("budget", 20))
	}
	tests := []struct {
		name    string
		locale  discordgo.Locale
		ch      *discordgo.Channel
		theme   string
		want    string
		started bool
	}{
		{"an NSFW theme in a SFW channel", discordgo.EnglishUS, h.General, "nude portraits",
			"⚠️ This theme was refused: NSFW content is not allowed in this channel. Pick another theme, or host the party in an age-restricted channel.", false},
		{"in German", discordgo.German, h.General, "N U D E portraits",
			"⚠️ Dieses Thema wurde abgelehnt: NSFW-Inhalte sind in diesem Kanal nicht erlaubt.", false},
		{"minors with sexual content, in Spanish", discordgo.SpanishES, h.NSFW, "loli, nude",
			"⚠️ Este tema ha sido rechazado: mezcla menores con contenido sexual, algo que nunca está permitido.", false},
		{"an NSFW theme in an NSFW channel", discordgo.EnglishUS, h.NSFW, "nude portraits", "Party: “nude portraits”", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := h.On(t)
			tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: tt.ch.GuildID, ChannelID: tt.ch.ID, UserID: h.Alice.ID,
				Locale: tt.locale, Command: "party", Options: []*discordOption{start(tt.theme)}})
			must(t, err)
			text, private := h.Reply(tok)
			wantContains(t, text, tt.want)
			if private == tt.started {
				t.Fatalf("reply %q private %v", text, private)
			}
			if want := map[bool]int64{true: 80, false: 100}[tt.started]; h.Balance(h.Alice) != want {
				t.Fatalf("alice has %d, want %d", h.Balance(h.Alice), want)
			}
		})
	}
	h.AuditLine("tried to start a party in <#"+h.NSFW.ID+">", "loli, nude")
	wantBooks(t, h)
}

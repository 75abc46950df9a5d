package kudos_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// partyStart is a valid start by host in channel "c1", changed by mod.
func partyStart(host int64, key string, mod ...func(*kudos.PartyStart)) kudos.PartyStart {
	ps := kudos.PartyStart{HostID: host, GuildID: "g", ChannelID: "c1", Theme: "lighthouses", Duration: time.Hour,
		Award: 5, Budget: 20, Interval: 10 * time.Minute, Key: key}
	for _, m := range mod {
		m(&ps)
	}
	return ps
}

// verifyParties fails unless every party's books balance, and the ledger's.
func (e *env) verifyParties() {
	e.tb.Helper()
	e.verify()
	m, err := e.eng.VerifyParties(e.ctx)
	if err != nil {
		e.tb.Fatalf("verify parties: %v", err)
	}
	if len(m) != 0 {
		e.tb.Fatalf("party mismatches: %+v", m)
	}
}

func TestStartPartyRules(t *testing.T) {
	e := newEnv(t, testConfig())
	host, poor := e.user("host"), e.user("poor")
	bad := e.user("bad", flagged)
	e.fund(host, 100)
	e.fund(bad, 100)
	e.fund(poor, 10)
	off := testConfig()
	off.Party.Enabled = false
	disabled := newEnv(t, off)
	tests := []struct {
		name string
		eng  *kudos.Engine
		ps   kudos.PartyStart
		want string
	}{
		{"switched off", disabled.eng, partyStart(host, "k1"), kudos.RefuseNotEnabled},
		{"in a DM", nil, partyStart(host, "k2", func(p *kudos.PartyStart) { p.GuildID = "" }), kudos.RefusePartyPlace},
		{"by the anonymous user", nil, partyStart(0, "k3"), kudos.RefuseAnonymous},
		{"without a theme", nil, partyStart(host, "k4", func(p *kudos.PartyStart) { p.Theme = "  \n " }), kudos.RefuseAmount},
		{"a theme too long", nil, partyStart(host, "k5", func(p *kudos.PartyStart) { p.Theme = strings.Repeat("x", 201) }), kudos.RefuseAmount},
		{"shorter than a minute", nil, partyStart(host, "k6", func(p *kudos.PartyStart) { p.Duration = 30 * time.Second }), kudos.RefuseAmount},
		{"longer than the maximum", nil, partyStart(host, "k7", func(p *kudos.PartyStart) { p.Duration = 25 * time.Hour }), kudos.RefuseAmount},
		{"no award", nil, partyStart(host, "k8", func(p *kudos.PartyStart) { p.Award = 0 }), kudos.RefuseAmount},
		{"a budget below one award", nil, partyStart(host, "k9", func(p *kudos.PartyStart) { p.Budget = 4 }), kudos.RefuseAmount},
		{"a budget over the maximum", nil, partyStart(host, "k10", func(p *kudos.PartyStart) { p.Budget = 10001 }), kudos.RefuseAmount},
		{"an interval below the minimum", nil, partyStart(host, "k11", func(p *kudos.PartyStart) { p.Interval = time.Second }), kudos.RefuseAmount},
		{"a flagged host", nil, partyStart(bad, "k12"), kudos.RefuseFlagged},
		{"an unknown host", nil, partyStart(9999, "k13"), kudos.RefuseUnknownUser},
		{"more than the host has", nil, partyStart(poor, "k14"), kudos.RefuseInsufficient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			eng := tt.eng
			if eng == nil {
				eng = e.eng
			}
			_, err := eng.StartParty(e.ctx, tt.ps)
			wantCode(t, err, tt.want)
		})
	}
	if h, p := e.balance(host), e.balance(poor); h != 100 || p != 10 {
		t.Fatalf("refused starts took kudos: host %d, poor %d", h, p)
	}
	e.verifyParties()
}

// TestStartPartyLeavesWhatQueuedRequestsHold: the budget may not take what
// the host's queued requests hold, as a transfer may not.
func TestStartPartyLeavesWhatQueuedRequestsHold(t *testing.T) {
	held := func(context.Context, int64) (int, int64) { return 1, 15 }
	e := newEnv(t, testConfig(), kudos.WithHeld(held))
	host := e.user("host")
	e.fund(host, 30)
	_, err := e.eng.StartParty(e.ctx, partyStart(host, "k1"))
	wantCode(t, err, kudos.RefuseInsufficient)
	if !strings.Contains(kudos.RefusalCode(err)+err.Error(), "held for your queued requests") {
		t.Fatalf("refusal %q does not say why", err)
	}
	if _, err := e.eng.StartParty(e.ctx, partyStart(host, "k2", func(p *kudos.PartyStart) { p.Budget = 15 })); err != nil {
		t.Fatalf("a budget the free kudos cover: %v", err)
	}
	if b := e.balance(host); b != 15 {
		t.Fatalf("host has %d, want 15", b)
	}
}

func TestPartyPaysOncePerIntervalAndRefunds(t *testing.T) {
	e := newEnv(t, testConfig())
	host, ann, ben, bad := e.user("host"), e.user("ann"), e.user("ben"), e.user("bad", flagged)
	e.fund(host, 100)

	early := e.clock.Now()
	e.clock.Advance(time.Minute)
	p, err := e.eng.StartParty(e.ctx, partyStart(host, "start-1"))
	if err != nil {
		t.Fatal(err)
	}
	if b := e.balance(host); b != 80 {
		t.Fatalf("host has %d after holding a budget of 20, want 80", b)
	}
	// A replayed start (the same interaction) holds nothing more.
	again, err := e.eng.StartParty(e.ctx, partyStart(host, "start-1"))
	if err != nil || again.ID != p.ID {
		t.Fatalf("replayed start: %+v %v", again, err)
	}
	// Another party in the same channel is refused; one elsewhere is not.
	_, err = e.eng.StartParty(e.ctx, partyStart(host, "start-2"))
	wantCode(t, err, kudos.RefusePartyRunning)
	if b := e.balance(host); b != 80 {
		t.Fatalf("host has %d after a replay and a refusal, want 80", b)
	}
	e.verifyParties()

	start := p.StartsAt
	steps := []struct {
		name      string
		member    int64
		request   string
		submitted time.Time
		counted   bool
		awarded   int64
		noAward   string
	}{
		{"ann's first", ann, "r1", start.Add(time.Minute), true, 5, ""},
		{"ann again in the interval", ann, "r2", start.Add(2 * time.Minute), true, 0, kudos.PartyNoAwardInterval},
		{"ann's replayed delivery", ann, "r1", start.Add(time.Minute), false, 0, ""},
		{"the host's own", host, "r3", start.Add(3 * time.Minute), true, 0, kudos.PartyNoAwardHost},
		{"a flagged member", bad, "r4", start.Add(3 * time.Minute), true, 0, kudos.PartyNoAwardFlagged},
		{"ben's first", ben, "r5", start.Add(4 * time.Minute), true, 5, ""},
		{"made before the party", ben, "r6", early, false, 0, ""},
		{"ann in the next interval", ann, "r7", start.Add(11 * time.Minute), true, 5, ""},
		{"ben in the next interval", ben, "r8", start.Add(12 * time.Minute), true, 5, ""},
		{"the budget is spent", ann, "r9", start.Add(21 * time.Minute), true, 0, kudos.PartyNoAwardBudget},
		{"made after the end time", ann, "r10", start.Add(2 * time.Hour), false, 0, ""},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c, err := e.eng.CreditPartyGeneration(e.ctx, kudos.PartyGeneration{ChannelID: "c1", MemberID: st.member,
				RequestID: st.request, SubmittedAt: st.submitted, ImageRef: "blob-" + st.request})
			if err != nil {
				t.Fatal(err)
			}
			if c.Counted != st.counted || c.Awarded != st.awarded || c.NoAward != st.noAward {
				t.Fatalf("credit %+v, want counted %v awarded %d no award %q", c, st.counted, st.awarded, st.noAward)
			}
			e.verifyParties()
		})
	}
	if a, b := e.balance(ann), e.balance(ben); a != 10 || b != 10 {
		t.Fatalf("ann %d ben %d, want 10 each", a, b)
	}
	// A generation in another channel is none of this party's business.
	if c, err := e.eng.CreditPartyGeneration(e.ctx, kudos.PartyGeneration{ChannelID: "c2", MemberID: ann, RequestID: "r11",
		SubmittedAt: start.Add(time.Minute)}); err != nil || c.Counted || c.Party.ID != 0 {
		t.Fatalf("credit in another channel: %+v %v", c, err)
	}

	// Only the host or a moderator ends it.
	_, _, err = e.eng.EndParty(e.ctx, kudos.PartyEnd{ChannelID: "c1", ByID: ann})
	wantCode(t, err, kudos.RefuseNotHost)
	ended, closed, err := e.eng.EndParty(e.ctx, kudos.PartyEnd{ChannelID: "c1", ByID: host})
	if err != nil || !closed {
		t.Fatalf("end: %v closed %v", err, closed)
	}
	if ended.Spent != 20 || ended.Refunded != 0 || ended.Generations != 8 {
		t.Fatalf("ended party %+v, want spent 20, refunded 0, 8 generations", ended)
	}
	// A second end finds no party and pays nothing.
	_, _, err = e.eng.EndParty(e.ctx, kudos.PartyEnd{ChannelID: "c1", ByID: host})
	wantCode(t, err, kudos.RefuseNoParty)
	if c, err := e.eng.CreditPartyGeneration(e.ctx, kudos.PartyGeneration{ChannelID: "c1", MemberID: ben, RequestID: "r12",
		SubmittedAt: start.Add(30 * time.Minute)}); err != nil || c.Counted {
		t.Fatalf("credit after the end: %+v %v", c, err)
	}
	if h := e.balance(host); h != 80 {
		t.Fatalf("host has %d, want 80 (all 20 spent)", h)
	}
	e.verifyParties()

	rep, err := e.eng.PartyReport(e.ctx, p.ID, 4)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range rep.Members {
		got = append(got, fmt.Sprintf("%d:%d/%d/%d", m.UserID, m.Generations, m.Awards, m.Kudos))
	}
	want := []string{
		fmt.Sprintf("%d:4/2/10", ann), fmt.Sprintf("%d:2/2/10", ben),
		fmt.Sprintf("%d:1/0/0", host), fmt.Sprintf("%d:1/0/0", bad),
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("members %v, want %v", got, want)
	}
	var refs []string
	for _, im := range rep.Images {
		refs = append(refs, im.ImageRef)
	}
	// One per member first, in the order they came, then the next ones.
	if strings.Join(refs, " ") != "blob-r1 blob-r3 blob-r4 blob-r5" {
		t.Fatalf("images %v", refs)
	}
}

func TestPartyRefundsTheRestAndEndsOnceWhenDue(t *testing.T) {
	e := newEnv(t, testConfig())
	host, ann, mod := e.user("host"), e.user("ann"), e.user("mod", moderator)
	e.fund(host, 100)
	p, err := e.eng.StartParty(e.ctx, partyStart(host, "s1", func(p *kudos.PartyStart) { p.Budget = 50 }))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.eng.CreditPartyGeneration(e.ctx, kudos.PartyGeneration{ChannelID: "c1", MemberID: ann, RequestID: "r1", SubmittedAt: p.StartsAt}); err != nil {
		t.Fatal(err)
	}
	// Not due yet: nothing ends.
	if ended, err := e.eng.EndDueParties(e.ctx, nil); err != nil || len(ended) != 0 {
		t.Fatalf("before the end time: %v %v", ended, err)
	}
	e.clock.Advance(time.Hour)
	// A guild this process does not own is left to its owner.
	if ended, err := e.eng.EndDueParties(e.ctx, func(string) bool { return false }); err != nil || len(ended) != 0 {
		t.Fatalf("another process's guild: %v %v", ended, err)
	}
	ended, err := e.eng.EndDueParties(e.ctx, nil)
	if err != nil || len(ended) != 1 {
		t.Fatalf("due: %v %v", ended, err)
	}
	if got := ended[0]; got.Refunded != 45 || got.EndedBy != 0 || !got.Ended {
		t.Fatalf("ended %+v, want 45 refunded by the end time", got)
	}
	if again, err := e.eng.EndDueParties(e.ctx, nil); err != nil || len(again) != 0 {
		t.Fatalf("second pass: %v %v", again, err)
	}
	if h, a := e.balance(host), e.balance(ann); h != 95 || a != 5 {
		t.Fatalf("host %d ann %d, want 95 and 5", h, a)
	}
	e.verifyParties()

	// One caller posts the summary; a failed post gives the claim back.
	un, err := e.eng.UnannouncedParties(e.ctx, 10)
	if err != nil || len(un) != 1 {
		t.Fatalf("unannounced: %v %v", un, err)
	}
	for i, want := range []bool{true, false} {
		ok, err := e.eng.ClaimPartyAnnouncement(e.ctx, p.ID)
		if err != nil || ok != want {
			t.Fatalf("claim %d: %v %v, want %v", i, ok, err, want)
		}
	}
	if err := e.eng.ReleasePartyAnnouncement(e.ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if ok, err := e.eng.ClaimPartyAnnouncement(e.ctx, p.ID); err != nil || !ok {
		t.Fatalf("claim after a release: %v %v", ok, err)
	}

	// A moderator may end another member's party.
	if _, err := e.eng.StartParty(e.ctx, partyStart(host, "s2")); err != nil {
		t.Fatal(err)
	}
	if _, closed, err := e.eng.EndParty(e.ctx, kudos.PartyEnd{ChannelID: "c1", ByID: mod, ByModerator: true}); err != nil || !closed {
		t.Fatalf("moderator's end: %v %v", closed, err)
	}
	if h := e.balance(host); h != 95 {
		t.Fatalf("host %d after an unspent party, want 95", h)
	}
	e.verifyParties()
}

// TestPartyAwardRaces: many deliveries of one member's generations in one
// interval at once, and ends racing them, pay at most one award each
// interval and never more than the budget.
func TestPartyAwardRaces(t *testing.T) {
	e := newEnv(t, testConfig())
	host := e.user("host")
	members := e.users(4)
	e.fund(host, 100)
	p, err := e.eng.StartParty(e.ctx, partyStart(host, "s1", func(p *kudos.PartyStart) { p.Budget = 15 }))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	paid := map[int64]int64{}
	for i := 0; i < 40; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			m := members[i%len(members)]
			c, err := e.eng.CreditPartyGeneration(e.ctx, kudos.PartyGeneration{ChannelID: "c1", MemberID: m,
				RequestID: fmt.Sprint("r", i), SubmittedAt: p.StartsAt.Add(time.Second)})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			paid[m] += c.Awarded
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	var total int64
	for m, k := range paid {
		if k > 5 {
			t.Errorf("member %d was paid %d in one interval", m, k)
		}
		total += k
	}
	if total != 15 {
		t.Fatalf("paid %d in all, want the whole budget of 15", total)
	}
	e.verifyParties()
}

// TestPartiesJobEndsADuePartyOnce: the "parties" job of the kudos
// schedules ends a party whose end time passed with no Discord at all, and
// two engines over one store (two processes, one of them briefly holding
// the schedules during a takeover) running it at once end and refund it
// once.
func TestPartiesJobEndsADuePartyOnce(t *testing.T) {
	e := newEnv(t, testConfig())
	other, err := kudos.New(e.st, e.cfg, e.clock, kudos.WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	host := e.user("host")
	e.fund(host, 100)
	if _, err := e.eng.StartParty(e.ctx, partyStart(host, "s1", func(p *kudos.PartyStart) { p.Budget = 50 })); err != nil {
		t.Fatal(err)
	}
	job := func(eng *kudos.Engine) func(context.Context) error {
		for _, j := range eng.Jobs() {
			if j.Name == "parties" {
				if j.Spec == "" {
					t.Fatal("the parties job has no schedule by default")
				}
				return j.Run
			}
		}
		t.Fatal("no parties job among the kudos schedules")
		return nil
	}
	if err := job(e.eng)(e.ctx); err != nil {
		t.Fatal(err)
	}
	if un, err := e.eng.UnannouncedParties(e.ctx, 10); err != nil || len(un) != 0 {
		t.Fatalf("a party ended before its end time: %v %v", un, err)
	}
	e.clock.Advance(time.Hour)
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = job([]*kudos.Engine{e.eng, other}[i%2])(e.ctx)
		}(i)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	un, err := e.eng.UnannouncedParties(e.ctx, 10)
	if err != nil || len(un) != 1 || un[0].Refunded != 50 {
		t.Fatalf("ended parties owed a summary: %+v %v; want one, 50 refunded", un, err)
	}
	if b := e.balance(host); b != 100 {
		t.Fatalf("host has %d, want 100 (the whole budget back, once)", b)
	}
	e.verifyParties()
}

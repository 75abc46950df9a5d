package commands_test

import (
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

func TestModRefusesNonModerators(t *testing.T) {
	t.Parallel()
	h := newModHarness(t, horde.Config{})
	h.MemberWorker(h.Alice, "alices-rig")
	member := userOpt("member", h.Alice.ID)
	subs := []struct {
		name string
		opts []*discordOption
	}{
		{"flag", []*discordOption{member, opt("reason", "x")}},
		{"unflag", []*discordOption{member}},
		{"trust", []*discordOption{member}},
		{"untrust", []*discordOption{member}},
		{"pause-worker", []*discordOption{opt("worker", "alices-rig"), opt("reason", "x")}},
		{"unpause-worker", []*discordOption{opt("worker", "alices-rig")}},
		{"kudos adjust", []*discordOption{member, opt("amount", 500), opt("reason", "x")}},
		{"filter test", []*discordOption{opt("prompt", "a cat")}},
		{"info", []*discordOption{member}},
	}
	for _, st := range subs {
		t.Run(st.name+" by a member", func(t *testing.T) {
			h := h.On(t)
			text, private := h.Reply(h.Run(h.Bob, h.General, "mod", modSub(st.name, st.opts...)))
			wantContains(t, text, "Only moderators")
			if !private {
				t.Fatalf("refusal %q is public", text)
			}
		})
	}
	t.Run("in a DM even a moderator is refused", func(t *testing.T) {
		h := h.On(t)
		text, private := h.Reply(h.DM(h.Mod, "mod", sub("info", member)))
		wantContains(t, text, "Only moderators")
		if !private {
			t.Fatalf("refusal %q is public", text)
		}
	})
	// Nothing changed and nothing was audited.
	alice := h.User(h.Alice)
	if alice.Flagged || alice.Trusted || h.Balance(h.Alice) != 0 {
		t.Fatalf("a refused /mod changed alice: %+v, %d kudos", alice, h.Balance(h.Alice))
	}
	if w, _ := h.Horde.WorkerByName(h.Ctx, "alices-rig"); w.Paused {
		t.Fatal("a refused /mod paused the worker")
	}
	if n := len(h.Srv.Messages(h.Audit.ID)); n != 0 {
		t.Fatalf("%d audit lines for refused commands", n)
	}
}

func TestModCommands(t *testing.T) {
	t.Parallel()
	h := newModHarness(t, horde.Config{Payments: kudos.PaymentRules{EscrowPercent: kudos.DefaultEscrowPercent}, Trust: horde.TrustConfig{TrustAfterKudos: -1}})
	rig := h.MemberWorker(h.Bob, "bobs-rig")
	var earned int64
	for range 2 {
		earned += h.RequestAndServe(h.Alice, rig, "bobs-rig", "a lighthouse", horde.ResultOK)
	}
	aliceStart := h.Balance(h.Alice)

	steps := []struct {
		name     string
		sub      string
		opts     []*discordOption
		wantText string
		audit    []string // parts of the audit line it must write
		check    func(t *testing.T, h *harness)
	}{
		{name: "flag", sub: "flag", opts: []*discordOption{userOpt("member", h.Alice.ID), opt("reason", "spamming prompts")},
			wantText: "flagged <@" + h.Alice.ID + ">", audit: []string{"flagged <@" + h.Alice.ID + ">", "spamming prompts", "<@" + h.Mod.ID + ">"},
			check: func(t *testing.T, h *harness) {
				if !h.User(h.Alice).Flagged {
					t.Fatal("alice is not flagged")
				}
				// A flagged member's /imagine is refused.
				text, private := h.Reply(h.Run(h.Alice, h.General, "imagine", opt("prompt", "a cat")))
				wantContains(t, text, "flagged")
				if !private {
					t.Fatalf("refusal %q is public", text)
				}
			}},
		{name: "unflag", sub: "unflag", opts: []*discordOption{userOpt("member", h.Alice.ID)},
			wantText: "unflagged", audit: []string{"unflagged <@" + h.Alice.ID + ">"},
			check: func(t *testing.T, h *harness) {
				if h.User(h.Alice).Flagged {
					t.Fatal("alice is still flagged")
				}
			}},
		{name: "kudos adjust up", sub: "kudos adjust", opts: []*discordOption{userOpt("member", h.Alice.ID), opt("amount", 40), opt("reason", "contest prize")},
			wantText: "by **+40**", audit: []string{"adjusted the kudos of <@" + h.Alice.ID + "> by **+40**", "contest prize"},
			check: func(t *testing.T, h *harness) {
				if got := h.Balance(h.Alice); got != aliceStart+40 {
					t.Fatalf("alice has %d kudos, want %d", got, aliceStart+40)
				}
				hist, err := h.Kudos.History(h.Ctx, h.User(h.Alice).ID, 1)
				must(t, err)
				if len(hist) != 1 || hist[0].Kind != kudos.KindAdmin || hist[0].ActorID != h.User(h.Mod).ID {
					t.Fatalf("latest entry %+v, want an admin entry by the moderator", hist)
				}
			}},
		{name: "kudos adjust down", sub: "kudos adjust", opts: []*discordOption{userOpt("member", h.Alice.ID), opt("amount", -15), opt("reason", "correction")},
			wantText: "by **-15**", audit: []string{"by **-15**", "correction"},
			check: func(t *testing.T, h *harness) {
				if got := h.Balance(h.Alice); got != aliceStart+25 {
					t.Fatalf("alice has %d kudos, want %d", got, aliceStart+25)
				}
			}},
		{name: "pause worker", sub: "pause-worker", opts: []*discordOption{opt("worker", "bobs-rig"), opt("reason", "odd results")},
			wantText: "paused worker **bobs-rig**", audit: []string{"paused worker **bobs-rig** (of <@" + h.Bob.ID + ">)", "odd results"},
			check: func(t *testing.T, h *harness) {
				_, _, err := h.Horde.Submit(h.Ctx, h.User(h.Alice), horde.NewRequest{Kind: horde.KindImage, Prompt: "a boat", N: 1,
					Image: &horde.ImageParams{Width: 512, Height: 512, Steps: 20}})
				must(t, err)
				if as := h.PopImages(rig, "bobs-rig"); len(as) != 0 {
					t.Fatalf("a paused worker got %d jobs", len(as))
				}
			}},
		{name: "unpause worker", sub: "unpause-worker", opts: []*discordOption{opt("worker", "bobs-rig")},
			wantText: "unpaused worker **bobs-rig**", audit: []string{"unpaused worker **bobs-rig**"},
			check: func(t *testing.T, h *harness) {
				if as := h.PopImages(rig, "bobs-rig"); len(as) != 1 {
					t.Fatalf("an unpaused worker got %d jobs, want the waiting one", len(as))
				}
			}},
		{name: "unknown worker", sub: "pause-worker", opts: []*discordOption{opt("worker", "nobody"), opt("reason", "x")},
			wantText: "No worker is named"},
		{name: "trust releases escrow", sub: "trust", opts: []*discordOption{userOpt("member", h.Bob.ID), opt("reason", "long-time member")},
			wantText: "kudos released from escrow", audit: []string{"trusted <@" + h.Bob.ID + ">", "released from escrow", "long-time member"},
			check: func(t *testing.T, h *harness) {
				if got := h.Balance(h.Bob); got != earned {
					t.Fatalf("bob has %d kudos after trust, want all %d earned", got, earned)
				}
				if ms, err := h.Store.Verify(h.Ctx); err != nil || len(ms) != 0 {
					t.Fatalf("verify: %v %v", ms, err)
				}
			}},
		{name: "info", sub: "info", opts: []*discordOption{userOpt("member", h.Bob.ID)},
			wantText: "Trusted: yes",
			check:    func(t *testing.T, h *harness) {}},
		{name: "untrust", sub: "untrust", opts: []*discordOption{userOpt("member", h.Bob.ID)},
			wantText: "stopped trusting", audit: []string{"stopped trusting <@" + h.Bob.ID + ">"},
			check: func(t *testing.T, h *harness) {
				if h.User(h.Bob).Trusted {
					t.Fatal("bob is still trusted")
				}
			}},
		{name: "filter test allows a harmless prompt", sub: "filter test", opts: []*discordOption{opt("prompt", "a cat on a windowsill")},
			wantText: "Action: **allow**", audit: []string{"a cat on a windowsill", "allow"}},
		{name: "filter test explains a refusal", sub: "filter test", opts: []*discordOption{opt("prompt", "N U D E portrait")},
			wantText: "Action: **refuse**", audit: []string{"N U D E portrait", "refuse"},
			check: func(t *testing.T, h *harness) { h.NoPublicMention("N U D E portrait") }},
		{name: "filter test in an NSFW context", sub: "filter test", opts: []*discordOption{opt("prompt", "nude portrait"), opt("nsfw", true)},
			wantText: "Action: **allow**"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			h := h.On(t)
			text, private := h.Reply(h.Run(h.Mod, h.General, "mod", modSub(st.sub, st.opts...)))
			wantContains(t, text, st.wantText)
			if !private {
				t.Fatalf("/mod reply %q is public", text)
			}
			if st.audit != nil {
				h.AuditLine(st.audit...)
			}
			if st.check != nil {
				st.check(t, h)
			}
		})
	}
}

func TestModFilterTestShowsWhy(t *testing.T) {
	t.Parallel()
	h := newModHarness(t, horde.Config{})
	text, _ := h.Reply(h.Run(h.Mod, h.General, "mod", modSub("filter test", opt("prompt", "N-U-D-E portrait, (masterpiece:1.2) ### blurry"))))
	for _, want := range []string{"Action: **refuse**", "rule `nsfw`", "sexual:nude", "Normalized:", "nude portrait masterpiece", "Why:"} {
		wantContains(t, text, want)
	}
	if strings.Contains(text, "blurry") {
		t.Fatalf("the negative part was shown as checked: %q", text)
	}
}

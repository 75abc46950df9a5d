package bot_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/filter"
	"github.com/hordebot/hordebot/kudos"
)

// newModHarness is newHarness with a horde configured by hcfg whose
// moderation events go to the bot's audit channel, and the default prompt
// filter in the horde and behind /mod filter test.
func newModHarness(t *testing.T, hcfg horde.Config) *harness {
	t.Helper()
	h := newHarness(t)
	stop(h.bot, h.sess)

	var current atomic.Pointer[bot.Bot]
	hcfg.Clock, hcfg.Logger = h.clock, quietLogger()
	hcfg.Payments.MemberFloor, hcfg.Payments.AnonymousFloor = -100, -1000000
	hcfg.OnModeration = func(ctx context.Context, ev horde.ModerationEvent) {
		if b := current.Load(); b != nil {
			b.OnModeration(ctx, ev)
		}
	}
	pf, err := filter.New(filter.Lists{
		Minors: assets.FilterMinors, Sexual: assets.FilterSexual, NSFW: assets.FilterNSFW, Negative: assets.FilterNegative,
	}, filter.Options{})
	must(t, err)
	hcfg.Filter = pf
	h.horde, err = horde.New(h.ctx, h.st, hcfg)
	must(t, err)

	b := bot.New(h.cfg, bot.Deps{Horde: h.horde, Kudos: h.kudos, Store: h.st, Filter: pf})
	s, err := h.srv.NewSession(h.srv.Token())
	must(t, err)
	s.LogLevel = discordgo.LogError
	must(t, b.Start(h.ctx, s))
	current.Store(b)
	h.bot, h.sess = b, s
	t.Cleanup(func() { stop(b, s) })
	return h
}

// user is the horde user of a Discord member.
func (h *harness) user(u *discordgo.User) horde.User {
	h.t.Helper()
	hu, err := h.horde.DiscordUser(h.ctx, u.ID, u.Username)
	must(h.t, err)
	return hu
}

// memberWorker registers an image worker owned by a member and returns its credential.
func (h *harness) memberWorker(owner *discordgo.User, name string) horde.Credential {
	h.t.Helper()
	_, key, err := h.horde.RegisterWorker(h.ctx, h.user(owner), name, horde.KindImage)
	must(h.t, err)
	c, err := h.horde.Authenticate(h.ctx, key)
	must(h.t, err)
	return c
}

// requestAndServe has requester ask for an image and worker c serve it
// with state; it returns the worker's reward.
func (h *harness) requestAndServe(requester *discordgo.User, c horde.Credential, worker, prompt, state string) int64 {
	h.t.Helper()
	_, _, err := h.horde.Submit(h.ctx, h.user(requester), horde.NewRequest{
		Kind: horde.KindImage, Prompt: prompt, N: 1, Source: "discord",
		Image: &horde.ImageParams{Width: 512, Height: 512, Steps: 20},
	})
	must(h.t, err)
	as := h.popImages(c, worker)
	if len(as) != 1 {
		h.t.Fatalf("worker %s popped %d jobs, want 1", worker, len(as))
	}
	reward, err := h.horde.SubmitResult(h.ctx, c, horde.Submission{JobID: as[0].Job.ID, State: state, Image: solidPNG(h.t, 8, 8, 0)})
	must(h.t, err)
	return reward
}

// auditLine waits for an audit channel message containing every one of parts.
func (h *harness) auditLine(parts ...string) discordtest.Message {
	h.t.Helper()
	m, err := h.srv.WaitForMessage(h.ctx, h.audit.ID, func(m discordtest.Message) bool {
		for _, p := range parts {
			if !strings.Contains(m.Content, p) {
				return false
			}
		}
		return true
	})
	if err != nil {
		var seen []string
		for _, m := range h.srv.Messages(h.audit.ID) {
			seen = append(seen, m.Content)
		}
		h.t.Fatalf("no audit line with %q: %v (audit channel: %q)", parts, err, seen)
	}
	return m
}

// noPublicMention fails if a message outside the audit channel contains text.
func (h *harness) noPublicMention(text string) {
	h.t.Helper()
	for _, ch := range []*discordgo.Channel{h.general, h.nsfw, h.art} {
		for _, m := range h.srv.Messages(ch.ID) {
			if strings.Contains(m.Content, text) {
				h.t.Fatalf("%q appeared in public channel #%s: %q", text, ch.Name, m.Content)
			}
		}
	}
}

func TestModRefusesNonModerators(t *testing.T) {
	t.Parallel()
	h := newModHarness(t, horde.Config{})
	h.memberWorker(h.alice, "alices-rig")
	member := userOpt("member", h.alice.ID)
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
			h := h.on(t)
			text, private := h.reply(h.run(h.bob, h.general, "mod", modSub(st.name, st.opts...)))
			wantContains(t, text, "Only moderators")
			if !private {
				t.Fatalf("refusal %q is public", text)
			}
		})
	}
	t.Run("in a DM even a moderator is refused", func(t *testing.T) {
		h := h.on(t)
		text, private := h.reply(h.dm(h.mod, "mod", sub("info", member)))
		wantContains(t, text, "Only moderators")
		if !private {
			t.Fatalf("refusal %q is public", text)
		}
	})
	// Nothing changed and nothing was audited.
	alice := h.user(h.alice)
	if alice.Flagged || alice.Trusted || h.balance(h.alice) != 0 {
		t.Fatalf("a refused /mod changed alice: %+v, %d kudos", alice, h.balance(h.alice))
	}
	if w, _ := h.horde.WorkerByName(h.ctx, "alices-rig"); w.Paused {
		t.Fatal("a refused /mod paused the worker")
	}
	if n := len(h.srv.Messages(h.audit.ID)); n != 0 {
		t.Fatalf("%d audit lines for refused commands", n)
	}
}

func TestModCommands(t *testing.T) {
	t.Parallel()
	h := newModHarness(t, horde.Config{Payments: kudos.PaymentRules{EscrowPercent: kudos.DefaultEscrowPercent}, Trust: horde.TrustConfig{TrustAfterKudos: -1}})
	rig := h.memberWorker(h.bob, "bobs-rig")
	var earned int64
	for range 2 {
		earned += h.requestAndServe(h.alice, rig, "bobs-rig", "a lighthouse", horde.ResultOK)
	}
	aliceStart := h.balance(h.alice)

	steps := []struct {
		name     string
		sub      string
		opts     []*discordOption
		wantText string
		audit    []string // parts of the audit line it must write
		check    func(t *testing.T, h *harness)
	}{
		{name: "flag", sub: "flag", opts: []*discordOption{userOpt("member", h.alice.ID), opt("reason", "spamming prompts")},
			wantText: "flagged <@" + h.alice.ID + ">", audit: []string{"flagged <@" + h.alice.ID + ">", "spamming prompts", "<@" + h.mod.ID + ">"},
			check: func(t *testing.T, h *harness) {
				if !h.user(h.alice).Flagged {
					t.Fatal("alice is not flagged")
				}
				// A flagged member's /imagine is refused.
				text, private := h.reply(h.run(h.alice, h.general, "imagine", opt("prompt", "a cat")))
				wantContains(t, text, "flagged")
				if !private {
					t.Fatalf("refusal %q is public", text)
				}
			}},
		{name: "unflag", sub: "unflag", opts: []*discordOption{userOpt("member", h.alice.ID)},
			wantText: "unflagged", audit: []string{"unflagged <@" + h.alice.ID + ">"},
			check: func(t *testing.T, h *harness) {
				if h.user(h.alice).Flagged {
					t.Fatal("alice is still flagged")
				}
			}},
		{name: "kudos adjust up", sub: "kudos adjust", opts: []*discordOption{userOpt("member", h.alice.ID), opt("amount", 40), opt("reason", "contest prize")},
			wantText: "by **+40**", audit: []string{"adjusted the kudos of <@" + h.alice.ID + "> by **+40**", "contest prize"},
			check: func(t *testing.T, h *harness) {
				if got := h.balance(h.alice); got != aliceStart+40 {
					t.Fatalf("alice has %d kudos, want %d", got, aliceStart+40)
				}
				hist, err := h.kudos.History(h.ctx, h.user(h.alice).ID, 1)
				must(t, err)
				if len(hist) != 1 || hist[0].Kind != kudos.KindAdmin || hist[0].ActorID != h.user(h.mod).ID {
					t.Fatalf("latest entry %+v, want an admin entry by the moderator", hist)
				}
			}},
		{name: "kudos adjust down", sub: "kudos adjust", opts: []*discordOption{userOpt("member", h.alice.ID), opt("amount", -15), opt("reason", "correction")},
			wantText: "by **-15**", audit: []string{"by **-15**", "correction"},
			check: func(t *testing.T, h *harness) {
				if got := h.balance(h.alice); got != aliceStart+25 {
					t.Fatalf("alice has %d kudos, want %d", got, aliceStart+25)
				}
			}},
		{name: "pause worker", sub: "pause-worker", opts: []*discordOption{opt("worker", "bobs-rig"), opt("reason", "odd results")},
			wantText: "paused worker **bobs-rig**", audit: []string{"paused worker **bobs-rig** (of <@" + h.bob.ID + ">)", "odd results"},
			check: func(t *testing.T, h *harness) {
				_, _, err := h.horde.Submit(h.ctx, h.user(h.alice), horde.NewRequest{Kind: horde.KindImage, Prompt: "a boat", N: 1,
					Image: &horde.ImageParams{Width: 512, Height: 512, Steps: 20}})
				must(t, err)
				if as := h.popImages(rig, "bobs-rig"); len(as) != 0 {
					t.Fatalf("a paused worker got %d jobs", len(as))
				}
			}},
		{name: "unpause worker", sub: "unpause-worker", opts: []*discordOption{opt("worker", "bobs-rig")},
			wantText: "unpaused worker **bobs-rig**", audit: []string{"unpaused worker **bobs-rig**"},
			check: func(t *testing.T, h *harness) {
				if as := h.popImages(rig, "bobs-rig"); len(as) != 1 {
					t.Fatalf("an unpaused worker got %d jobs, want the waiting one", len(as))
				}
			}},
		{name: "unknown worker", sub: "pause-worker", opts: []*discordOption{opt("worker", "nobody"), opt("reason", "x")},
			wantText: "No worker is named"},
		{name: "trust releases escrow", sub: "trust", opts: []*discordOption{userOpt("member", h.bob.ID), opt("reason", "long-time member")},
			wantText: "kudos released from escrow", audit: []string{"trusted <@" + h.bob.ID + ">", "released from escrow", "long-time member"},
			check: func(t *testing.T, h *harness) {
				if got := h.balance(h.bob); got != earned {
					t.Fatalf("bob has %d kudos after trust, want all %d earned", got, earned)
				}
				if ms, err := h.st.Verify(h.ctx); err != nil || len(ms) != 0 {
					t.Fatalf("verify: %v %v", ms, err)
				}
			}},
		{name: "info", sub: "info", opts: []*discordOption{userOpt("member", h.bob.ID)},
			wantText: "Trusted: yes",
			check:    func(t *testing.T, h *harness) {}},
		{name: "untrust", sub: "untrust", opts: []*discordOption{userOpt("member", h.bob.ID)},
			wantText: "stopped trusting", audit: []string{"stopped trusting <@" + h.bob.ID + ">"},
			check: func(t *testing.T, h *harness) {
				if h.user(h.bob).Trusted {
					t.Fatal("bob is still trusted")
				}
			}},
		{name: "filter test allows a harmless prompt", sub: "filter test", opts: []*discordOption{opt("prompt", "a cat on a windowsill")},
			wantText: "Action: **allow**", audit: []string{"a cat on a windowsill", "allow"}},
		{name: "filter test explains a refusal", sub: "filter test", opts: []*discordOption{opt("prompt", "N U D E portrait")},
			wantText: "Action: **refuse**", audit: []string{"N U D E portrait", "refuse"},
			check: func(t *testing.T, h *harness) { h.noPublicMention("N U D E portrait") }},
		{name: "filter test in an NSFW context", sub: "filter test", opts: []*discordOption{opt("prompt", "nude portrait"), opt("nsfw", true)},
			wantText: "Action: **allow**"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			h := h.on(t)
			text, private := h.reply(h.run(h.mod, h.general, "mod", modSub(st.sub, st.opts...)))
			wantContains(t, text, st.wantText)
			if !private {
				t.Fatalf("/mod reply %q is public", text)
			}
			if st.audit != nil {
				h.auditLine(st.audit...)
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
	text, _ := h.reply(h.run(h.mod, h.general, "mod", modSub("filter test", opt("prompt", "N-U-D-E portrait, (masterpiece:1.2) ### blurry"))))
	for _, want := range []string{"Action: **refuse**", "rule `nsfw`", "sexual:nude", "Normalized:", "nude portrait masterpiece", "Why:"} {
		wantContains(t, text, want)
	}
	if strings.Contains(text, "blurry") {
		t.Fatalf("the negative part was shown as checked: %q", text)
	}
}

func TestModerationAlertsReachAudit(t *testing.T) {
	t.Parallel()
	t.Run("every report reaches the audit channel; an untrusted owner's flag no one", func(t *testing.T) {
		t.Parallel()
		h := newModHarness(t, horde.Config{Moderation: horde.ModerationConfig{CSAMThreshold: 2, CensoredThreshold: 2}})
		rig := h.memberWorker(h.bob, "bobs-rig")
		for i, state := range []string{horde.ResultCSAM, horde.ResultCSAM, horde.ResultCensored} {
			prompt := fmt.Sprintf("suspicious prompt %d", i)
			h.requestAndServe(h.alice, rig, "bobs-rig", prompt, state)
			h.auditLine("Worker **bobs-rig** of <@"+h.bob.ID+">", "(untrusted)", "reported a **"+state+"** result", "<@"+h.alice.ID+">",
				"Recorded only", prompt)
		}
		if h.user(h.alice).Flagged {
			t.Fatal("one untrusted owner's reports flagged the requester")
		}
		if n := len(h.srv.Messages(h.audit.ID)); n != 3 {
			t.Fatalf("%d audit lines, want one per report (3)", n)
		}
		text, _ := h.reply(h.run(h.mod, h.general, "mod", modSub("info", userOpt("member", h.alice.ID))))
		wantContains(t, text, "csam 2 (0 counted, from 0 trusted owners)")
		h.noPublicMention("suspicious prompt")
	})
	t.Run("reports from distinct trusted owners flag at the threshold", func(t *testing.T) {
		t.Parallel()
		h := newModHarness(t, horde.Config{Moderation: horde.ModerationConfig{CSAMThreshold: 2}})
		mod := h.user(h.mod)
		mod.Moderator = true
		for _, owner := range []*discordgo.User{h.bob, h.mod} {
			_, err := h.horde.SetTrusted(h.ctx, mod, h.user(owner).ID, true, "test")
			must(t, err)
		}
		bobs, mods := h.memberWorker(h.bob, "bobs-rig"), h.memberWorker(h.mod, "mods-rig")
		h.requestAndServe(h.alice, bobs, "bobs-rig", "first suspicious prompt", horde.ResultCSAM)
		h.auditLine("Worker **bobs-rig**", "(trusted)", "reported a **csam** result", "<@"+h.alice.ID+">", "Counted: 1 from 1 trusted owners")
		h.requestAndServe(h.alice, bobs, "bobs-rig", "second suspicious prompt", horde.ResultCSAM)
		if h.user(h.alice).Flagged {
			t.Fatal("one trusted owner's reports flagged the requester")
		}
		h.requestAndServe(h.alice, mods, "mods-rig", "third suspicious prompt", horde.ResultCSAM)
		h.auditLine("<@"+h.alice.ID+">", "**flagged** automatically", "3 csam reports from 2 trusted owners")
		if !h.user(h.alice).Flagged {
			t.Fatal("not flagged by two trusted owners' reports at the threshold")
		}
		h.noPublicMention("suspicious prompt")
	})
	t.Run("a suspiciously fast worker is paused", func(t *testing.T) {
		t.Parallel()
		// Any real result of 5 megapixel-steps takes longer than a
		// microsecond; the test's pop and submit are faster than that allows.
		h := newModHarness(t, horde.Config{Trust: horde.TrustConfig{MaxMegapixelStepsPerSecond: 1, SuspicionThreshold: 1}})
		rig := h.memberWorker(h.bob, "bobs-rig")
		h.requestAndServe(h.alice, rig, "bobs-rig", "a fast one", horde.ResultOK)
		h.auditLine("Worker **bobs-rig**", "<@"+h.bob.ID+">", "**paused**")
		if w, _ := h.horde.WorkerByName(h.ctx, "bobs-rig"); !w.Paused {
			t.Fatal("the worker is not paused")
		}
		if !h.user(h.bob).Flagged {
			t.Fatal("its owner is not flagged for review")
		}
	})
}

func TestRefusedPromptGoesToAuditOnly(t *testing.T) {
	t.Parallel()
	h := newModHarness(t, horde.Config{Moderation: horde.ModerationConfig{RefusedThreshold: 2}})
	for i, prompt := range []string{"n.u.d.e figure study", "N U D E figure, again"} {
		text, private := h.reply(h.run(h.alice, h.general, "imagine", opt("prompt", prompt)))
		wantContains(t, text, "refused")
		if !private {
			t.Fatalf("refusal %q is public", text)
		}
		h.auditLine("Refused a prompt by <@"+h.alice.ID+">", prompt, "rule nsfw")
		if i == 0 && h.user(h.alice).Flagged {
			t.Fatal("flagged after one refusal, threshold 2")
		}
	}
	h.auditLine("<@"+h.alice.ID+">", "**flagged** automatically", "2 refused strikes")
	if !h.user(h.alice).Flagged {
		t.Fatal("not flagged after 2 refusals")
	}
	h.noPublicMention("figure")
}

// modSub builds the options of a /mod subcommand: "kudos adjust" is the
// subcommand adjust of the group kudos.
func modSub(name string, opts ...*discordOption) *discordOption {
	if group, subName, ok := strings.Cut(name, " "); ok {
		return discordtest.SubCommandGroup(group, discordtest.SubCommand(subName, opts...))
	}
	return sub(name, opts...)
}

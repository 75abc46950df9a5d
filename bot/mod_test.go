package bot_test

import (
	"fmt"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/horde"
)

func TestModerationAlertsReachAudit(t *testing.T) {
	t.Parallel()
	t.Run("every report reaches the audit channel; an untrusted owner's flag no one", func(t *testing.T) {
		t.Parallel()
		h := newModHarness(t, horde.Config{Moderation: horde.ModerationConfig{CSAMThreshold: 2, CensoredThreshold: 2}})
		rig := h.MemberWorker(h.Bob, "bobs-rig")
		for i, state := range []string{horde.ResultCSAM, horde.ResultCSAM, horde.ResultCensored} {
			prompt := fmt.Sprintf("suspicious prompt %d", i)
			h.RequestAndServe(h.Alice, rig, "bobs-rig", prompt, state)
			h.AuditLine("Worker **bobs-rig** of <@"+h.Bob.ID+">", "(untrusted)", "reported a **"+state+"** result", "<@"+h.Alice.ID+">",
				"Recorded only", prompt)
		}
		if h.User(h.Alice).Flagged {
			t.Fatal("one untrusted owner's reports flagged the requester")
		}
		if n := len(h.Srv.Messages(h.Audit.ID)); n != 3 {
			t.Fatalf("%d audit lines, want one per report (3)", n)
		}
		text, _ := h.Reply(h.Run(h.Mod, h.General, "mod", modSub("info", userOpt("member", h.Alice.ID))))
		wantContains(t, text, "csam 2 (0 counted, from 0 trusted owners)")
		h.NoPublicMention("suspicious prompt")
	})
	t.Run("reports from distinct trusted owners flag at the threshold", func(t *testing.T) {
		t.Parallel()
		h := newModHarness(t, horde.Config{Moderation: horde.ModerationConfig{CSAMThreshold: 2}})
		mod := h.User(h.Mod)
		mod.Moderator = true
		for _, owner := range []*discordgo.User{h.Bob, h.Mod} {
			_, err := h.Horde.SetTrusted(h.Ctx, mod, h.User(owner).ID, true, "test")
			must(t, err)
		}
		bobs, mods := h.MemberWorker(h.Bob, "bobs-rig"), h.MemberWorker(h.Mod, "mods-rig")
		h.RequestAndServe(h.Alice, bobs, "bobs-rig", "first suspicious prompt", horde.ResultCSAM)
		h.AuditLine("Worker **bobs-rig**", "(trusted)", "reported a **csam** result", "<@"+h.Alice.ID+">", "Counted: 1 from 1 trusted owners")
		h.RequestAndServe(h.Alice, bobs, "bobs-rig", "second suspicious prompt", horde.ResultCSAM)
		if h.User(h.Alice).Flagged {
			t.Fatal("one trusted owner's reports flagged the requester")
		}
		h.RequestAndServe(h.Alice, mods, "mods-rig", "third suspicious prompt", horde.ResultCSAM)
		h.AuditLine("<@"+h.Alice.ID+">", "**flagged** automatically", "3 csam reports from 2 trusted owners")
		if !h.User(h.Alice).Flagged {
			t.Fatal("not flagged by two trusted owners' reports at the threshold")
		}
		h.NoPublicMention("suspicious prompt")
	})
	t.Run("a suspiciously fast worker is paused", func(t *testing.T) {
		t.Parallel()
		// Any real result of 5 megapixel-steps takes longer than a
		// microsecond; the test's pop and submit are faster than that allows.
		h := newModHarness(t, horde.Config{Trust: horde.TrustConfig{MaxMegapixelStepsPerSecond: 1, SuspicionThreshold: 1}})
		rig := h.MemberWorker(h.Bob, "bobs-rig")
		h.RequestAndServe(h.Alice, rig, "bobs-rig", "a fast one", horde.ResultOK)
		h.AuditLine("Worker **bobs-rig**", "<@"+h.Bob.ID+">", "**paused**")
		if w, _ := h.Horde.WorkerByName(h.Ctx, "bobs-rig"); !w.Paused {
			t.Fatal("the worker is not paused")
		}
		if !h.User(h.Bob).Flagged {
			t.Fatal("its owner is not flagged for review")
		}
	})
}

func TestRefusedPromptGoesToAuditOnly(t *testing.T) {
	t.Parallel()
	h := newModHarness(t, horde.Config{Moderation: horde.ModerationConfig{RefusedThreshold: 2}})
	for i, prompt := range []string{"n.u.d.e figure study", "N U D E figure, again"} {
		text, private := h.Reply(h.Run(h.Alice, h.General, "imagine", opt("prompt", prompt)))
		wantContains(t, text, "refused")
		if !private {
			t.Fatalf("refusal %q is public", text)
		}
		h.AuditLine("Refused a prompt by <@"+h.Alice.ID+">", prompt, "rule nsfw")
		if i == 0 && h.User(h.Alice).Flagged {
			t.Fatal("flagged after one refusal, threshold 2")
		}
	}
	h.AuditLine("<@"+h.Alice.ID+">", "**flagged** automatically", "2 refused strikes")
	if !h.User(h.Alice).Flagged {
		t.Fatal("not flagged after 2 refusals")
	}
	h.NoPublicMention("figure")
}

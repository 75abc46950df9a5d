package commands_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/kudos"
)

func TestImagineDeliversGridWithButtons(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.WorkerCred("gpu")
	h.PopImages(w, "gpu-1") // the worker is online: the request is possible

	tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", "a red fox"), opt("count", 4))
	cb, err := h.Srv.WaitForCallback(h.Ctx, tok)
	must(t, err)
	if cb.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource || cb.Flags&discordgo.MessageFlagsEphemeral != 0 {
		t.Fatalf("first answer = type %d flags %d, want a public deferral", cb.Type, cb.Flags)
	}
	queued := h.Original(tok, "queue position", queuedMsg)
	wantContains(t, queued.Content, "a red fox")

	if n := h.ServeImages(w, "gpu-1"); n != 4 {
		t.Fatalf("served %d jobs, want 4", n)
	}
	m := h.Original(tok, "result", hasFiles)
	if len(m.Files) != 5 {
		t.Fatalf("got %d files, want the grid and 4 images", len(m.Files))
	}
	grid := decodeImage(t, m.Files[0].Data)
	if b := grid.Bounds(); b.Dx() <= 2*512 || b.Dy() <= 2*512 {
		t.Fatalf("grid is %v, want a 2x2 grid of 512px images", b)
	}
	// The grid is a JPEG (fast to make, shown as a PNG would be); the full
	// images stay as the worker made them.
	if f := m.Files[0]; !strings.HasSuffix(f.Name, ".jpg") || f.ContentType != "image/jpeg" || !bytes.HasPrefix(f.Data, []byte{0xff, 0xd8}) {
		t.Errorf("grid file %q (%s), want a JPEG", f.Name, f.ContentType)
	}
	if b := decodeImage(t, m.Files[1].Data).Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Fatalf("full image is %v, want 512x512", b)
	}
	wantContains(t, m.Content, "<@"+h.Alice.ID+">")
	ids := customIDs(m)
	for _, prefix := range []string{"imagine/upscale/", "imagine/reroll/", "imagine/variation/", "imagine/share/", "imagine/delete/"} {
		if findID(ids, prefix) == "" {
			t.Errorf("no %s button among %v", prefix, ids)
		}
	}
	if got := strings.Count(strings.Join(ids, " "), "imagine/upscale/"); got != 4 {
		t.Errorf("%d upscale buttons, want U1..U4", got)
	}
}

func TestImagineTwoImagesMakeA1x2Grid(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.WorkerCred("gpu")
	h.PopImages(w, "gpu-1")
	tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", "two moons"), opt("count", 2), opt("size", "portrait"))
	h.Original(tok, "queued", queuedMsg)
	h.ServeImages(w, "gpu-1")
	m := h.Original(tok, "result", hasFiles)
	b := decodeImage(t, m.Files[0].Data).Bounds()
	if b.Dx() <= 2*512 || b.Dy() != 768 {
		t.Fatalf("grid is %v, want two 512x768 images side by side", b)
	}
}

func TestImagineQueuePositionEdits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.WorkerCred("gpu")
	h.PopImages(w, "gpu-1")
	first := h.Run(h.Bob, h.General, "imagine", opt("prompt", "first in line"))
	h.Original(first, "first queued", func(m discordtest.Message) bool { return strings.Contains(m.Content, "position 1") })
	second := h.Run(h.Alice, h.General, "imagine", opt("prompt", "second in line"))
	h.Original(second, "second queued", func(m discordtest.Message) bool { return strings.Contains(m.Content, "position 2") })

	// The first request is popped: the second moves up and its message says so.
	as := h.PopImages(w, "gpu-1")
	if len(as) == 0 {
		t.Fatal("nothing popped")
	}
	h.Original(second, "moved up", func(m discordtest.Message) bool {
		return strings.Contains(m.Content, "position 1") || strings.Contains(m.Content, "generating")
	})
}

// TestImagineNoWorkerSaysSoAndWaits checks issue 14's point 13: with no
// worker online the message says no worker can serve the request (never
// "ETA ~a few seconds"), and the request keeps waiting until one comes.
func TestImagineNoWorkerSaysSoAndWaits(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", "nobody home"))
	m := h.Original(tok, "no worker", func(m discordtest.Message) bool { return strings.Contains(m.Content, "no online worker") })
	if strings.Contains(m.Content, "ETA") || strings.Contains(m.Content, "position") {
		t.Errorf("with no worker online the message is %q: no position or ETA should be promised", m.Content)
	}
	w := h.WorkerCred("gpu")
	if n := h.ServeImages(w, "gpu-1"); n == 0 {
		t.Fatal("the request did not wait for the worker")
	}
	h.Original(tok, "result", hasFiles)
}

func TestImagineNSFW(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		name    string
		ch      *discordgo.Channel
		refused bool
	}{
		{"refused in a normal channel", h.General, true},
		{"accepted in an age-restricted channel", h.NSFW, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := h.On(t)
			tok := h.Run(h.Alice, tt.ch, "imagine", opt("prompt", "something spicy"), opt("nsfw", true))
			text, private := h.Reply(tok)
			if tt.refused {
				if !private || !strings.Contains(text, "age-restricted") {
					t.Fatalf("reply %q (private %v), want a private refusal naming age-restricted channels", text, private)
				}
				return
			}
			if strings.Contains(text, "age-restricted") {
				t.Fatalf("refused in an NSFW channel: %q", text)
			}
		})
	}
	t.Run("refused in DMs", func(t *testing.T) {
		h := h.On(t)
		tok := h.DM(h.Alice, "imagine", opt("prompt", "something spicy"), opt("nsfw", true))
		text, _ := h.Reply(tok)
		wantContains(t, text, "age-restricted")
	})
}

func TestImagineButtons(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	res := finishedImagine(h, 2)
	ids := customIDs(res)

	t.Run("upscale posts one full-size image", func(t *testing.T) {
		h := h.On(t)
		tok := h.Click(h.Bob, h.General, res.ID, findID(ids, "imagine/upscale/"))
		m := h.Original(tok, "upscaled", hasFiles)
		if len(m.Files) != 1 {
			t.Fatalf("%d files, want 1", len(m.Files))
		}
		if b := decodeImage(t, m.Files[0].Data).Bounds(); b.Dx() != 512 {
			t.Fatalf("upscaled image is %v", b)
		}
	})
	t.Run("upscale of a missing image is refused", func(t *testing.T) {
		h := h.On(t)
		id := strings.TrimSuffix(findID(ids, "imagine/upscale/"), "/1") + "/9"
		text, private := h.Reply(h.Click(h.Bob, h.General, botButton(h, h.General, id), id))
		if !private || !strings.Contains(text, "not available") {
			t.Fatalf("reply %q private %v", text, private)
		}
	})
	t.Run("an unknown button is answered", func(t *testing.T) {
		h := h.On(t)
		text, private := h.Reply(h.Click(h.Alice, h.General, res.ID, "nothing/here"))
		if !private || !strings.Contains(text, "no longer available") {
			t.Fatalf("reply %q private %v", text, private)
		}
	})
	for _, button := range []string{"imagine/reroll/", "imagine/variation/"} {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(button, "imagine/"), "/")+" queues a new request", func(t *testing.T) {
			h := h.On(t)
			tok := h.Click(h.Bob, h.General, res.ID, findID(ids, button))
			h.Original(tok, "queued again", func(m discordtest.Message) bool { return strings.Contains(m.Content, "a lighthouse") })
			w := h.WorkerCred("again-" + button[8:12])
			if n := h.ServeImages(w, "again-"+button[8:12]); n != 2 {
				t.Fatalf("served %d jobs, want 2", n)
			}
			m := h.Original(tok, "rerolled", hasFiles)
			wantContains(t, m.Content, "<@"+h.Bob.ID+">")
		})
	}
	t.Run("share by someone else is refused", func(t *testing.T) {
		h := h.On(t)
		text, private := h.Reply(h.Click(h.Bob, h.General, res.ID, findID(ids, "imagine/share/")))
		if !private || !strings.Contains(text, "Only the member") {
			t.Fatalf("reply %q private %v", text, private)
		}
	})
	t.Run("share posts to the art channel", func(t *testing.T) {
		h := h.On(t)
		text, private := h.Reply(h.Click(h.Alice, h.General, res.ID, findID(ids, "imagine/share/")))
		if !private || !strings.Contains(text, "Shared") {
			t.Fatalf("reply %q private %v", text, private)
		}
		m, err := h.Srv.WaitForMessage(h.Ctx, h.Art.ID, hasFiles)
		must(t, err)
		decodeImage(t, m.Files[0].Data)
		wantContains(t, m.Content, "a lighthouse")
	})
	t.Run("delete by someone else is refused", func(t *testing.T) {
		h := h.On(t)
		text, private := h.Reply(h.Click(h.Bob, h.General, res.ID, findID(ids, "imagine/delete/")))
		if !private || !strings.Contains(text, "Only the member") {
			t.Fatalf("reply %q private %v", text, private)
		}
		if _, ok := h.Srv.Message(h.General.ID, res.ID); !ok {
			t.Fatal("the result was deleted by a non-owner")
		}
	})
	t.Run("delete by the requester removes the message", func(t *testing.T) {
		h := h.On(t)
		text, private := h.Reply(h.Click(h.Alice, h.General, res.ID, findID(ids, "imagine/delete/")))
		if !private || !strings.Contains(text, "Deleted") {
			t.Fatalf("reply %q private %v", text, private)
		}
		if _, ok := h.Srv.Message(h.General.ID, res.ID); ok {
			t.Fatal("the result message is still there")
		}
	})
}

func TestImagineAfterTokenExpiryPostsToChannel(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.WorkerCred("gpu")
	h.PopImages(w, "gpu-1")
	tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", "a slow painting"))
	h.Original(tok, "queued", queuedMsg)
	h.Clock.Advance(15 * time.Minute)
	must(t, h.Srv.ExpireInteraction(tok))
	h.ServeImages(w, "gpu-1")
	m, err := h.Srv.WaitForMessage(h.Ctx, h.General.ID, func(m discordtest.Message) bool {
		return hasFiles(m) && strings.Contains(m.Content, "a slow painting")
	})
	must(t, err)
	wantContains(t, m.Content, "<@"+h.Alice.ID+">")
}

func TestImagineResumesAfterRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.WorkerCred("gpu")
	h.PopImages(w, "gpu-1")
	tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", "patience"))
	h.Original(tok, "queued", queuedMsg)
	old, oldSess := h.Bot, h.Sess
	stop(old, oldSess)
	if n := old.Commands().Watching(); n != 0 {
		t.Fatalf("%d watchers still running after Stop", n)
	}

	h.ServeImages(w, "gpu-1") // finishes while the bot is down
	h.Start()
	m := h.Original(tok, "result after restart", hasFiles)
	decodeImage(t, m.Files[0].Data)
}

func TestImagineModelAutocomplete(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.PopImages(h.WorkerCred("gpu"), "gpu-1")
	tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: h.Alice.ID,
		Command: "imagine", Options: discordtest.Opts(opt("prompt", "x"), discordtest.Focused("model", "stable"))})
	must(t, err)
	cb, err := h.Srv.WaitForCallback(h.Ctx, tok)
	must(t, err)
	if len(cb.Choices) != 1 || cb.Choices[0].Value != "stable_diffusion" {
		t.Fatalf("choices %+v, want stable_diffusion", cb.Choices)
	}
}

// TestImagineResultComesWithTheEventNotThePoll: the watcher of a result
// wakes when its request finishes (the horde's event), so the result is
// delivered long before the next poll (an hour away here).
func TestImagineResultComesWithTheEventNotThePoll(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *bot.Config, _ *kudos.Config) { c.PollInterval = time.Hour })
	w := h.WorkerCred("gpu")
	h.PopImages(w, "gpu-1")
	tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", "a red fox"), opt("count", 2))
	h.Original(tok, "queue position", queuedMsg)
	if n := h.ServeImages(w, "gpu-1"); n != 2 {
		t.Fatalf("served %d jobs, want 2", n)
	}
	if m := h.Original(tok, "result", hasFiles); len(m.Files) != 3 {
		t.Fatalf("got %d files, want the grid and 2 images", len(m.Files))
	}
}

package commands_test

import (
	"strings"
	"testing"

	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// singleImage runs /imagine for alice on the procedural workers and
// presses U1: it returns the result and the one-image message.
func singleImage(t *testing.T, h *harness, prompt string) (result, single discordtest.Message) {
	t.Helper()
	tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", prompt), opt("seed", 7))
	result = h.Original(tok, "result", hasFiles)
	up := h.Click(h.Alice, h.General, result.ID, findID(customIDs(result), "imagine/upscale/"))
	single = h.Original(up, "U1", hasFiles)
	return result, single
}

// buttonID is the custom id among m's buttons that starts with prefix and ends with suffix.
func buttonID(t *testing.T, m discordtest.Message, prefix, suffix string) string {
	t.Helper()
	for _, id := range customIDs(m) {
		if strings.HasPrefix(id, prefix) && strings.HasSuffix(id, suffix) {
			return id
		}
	}
	t.Fatalf("no button %s…%s among %v", prefix, suffix, customIDs(m))
	return ""
}

func TestImageButtonsAfterU(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, single := finishedImagineSingle(t, h)
	want := []string{"Upscale 2x", "Upscale 4x", "Vary (Subtle)", "Vary (Strong)", "Zoom out", "Describe", "Share", "Delete"}
	var got []string
	for _, b := range single.Buttons() {
		got = append(got, b.Label)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("buttons %v, want %v", got, want)
	}
	for _, id := range customIDs(single) {
		if len(id) > 100 {
			t.Errorf("custom id %q is longer than Discord's 100", id)
		}
	}
}

// finishedImagineSingle is finishedImagine with one image and its U1 message, on the harness's solid-colour worker.
func finishedImagineSingle(t *testing.T, h *harness) (discordtest.Message, discordtest.Message) {
	t.Helper()
	res := finishedImagine(h, 1)
	up := h.Click(h.Alice, h.General, res.ID, findID(customIDs(res), "imagine/upscale/"))
	return res, h.Original(up, "U1", hasFiles)
}

func TestUpscaleButtons(t *testing.T) {
	// Not parallel: the procedural workers draw real images, which under
	// -race on a busy machine is slow; run alone, each has the harness's budget.
	h := newHarness(t)
	h.StartProceduralWorkers()
	_, single := singleImage(t, h, "a lighthouse")
	for _, tt := range []struct {
		suffix string
		factor int
		form   string
	}{
		{"/2", 2, aihorde.FormRealESRGANx2},
		// 4x works alike (TestUpscaleAsk): a 2048x2048 result is slow to make under -race.
	} {
		before := h.Balance(h.Bob)
		m := h.Original(h.Click(h.Bob, h.General, single.ID, buttonID(t, single, "image/upscale/", tt.suffix)), "upscaled", hasFiles)
		b := decodeImage(t, m.Files[0].Data).Bounds()
		if b.Dx() != 512*tt.factor || b.Dy() != 512*tt.factor {
			t.Fatalf("%dx upscale is %v, want %dx%d", tt.factor, b, 512*tt.factor, 512*tt.factor)
		}
		wantContains(t, m.Content, "<@"+h.Bob.ID+">")
		wantContains(t, m.Content, "upscaled")
		// One 512x512 tile: the alchemist's 3 kudos plus the horde's burn of 2 (slow workers allowed).
		cost := horde.FormReward(tt.form, 1) + horde.AlchemyBurn(true)
		if paid := before - h.Balance(h.Bob); paid != cost {
			t.Errorf("%dx upscale cost bob %d kudos, want the horde's %d", tt.factor, paid, cost)
		}
	}
}

func TestDescribeAndVaryButtons(t *testing.T) {
	// Not parallel: the procedural workers draw real images, which under
	// -race on a busy machine is slow; run alone, each has the harness's budget.
	h := newHarness(t)
	h.StartProceduralWorkers()
	result, single := singleImage(t, h, "a green meadow")

	before := h.Balance(h.Bob)
	tok := h.Click(h.Bob, h.General, single.ID, findID(customIDs(single), "image/describe/"))
	m := h.Original(tok, "described", func(m discordtest.Message) bool { return strings.Contains(m.Content, "described") })
	wantContains(t, m.Content, "procedural caption")
	wantContains(t, m.Content, "Tags:")
	cost := horde.FormReward(aihorde.FormCaption, 1) + horde.FormReward(aihorde.FormInterrogation, 1) + 2*horde.AlchemyBurn(true)
	if paid := before - h.Balance(h.Bob); paid != cost {
		t.Errorf("describe cost %d kudos, want %d", paid, cost)
	}
	wantContains(t, m.Content, "kudos")

	orig := requestOf(t, h, result)
	for _, tt := range []struct {
		suffix   string
		strength float64
	}{{"/subtle", 0.35}, {"/strong", 0.75}} {
		varied := h.Original(h.Click(h.Bob, h.General, single.ID, buttonID(t, single, "image/vary/", tt.suffix)), "varied", hasFiles)
		r := requestOf(t, h, varied)
		if r.Image.SourceProcessing != "img2img" || r.Image.DenoisingStrength != tt.strength || r.Image.Seed == orig.Image.Seed ||
			r.Prompt != orig.Prompt || r.UserID != h.User(h.Bob).ID {
			t.Fatalf("vary%s request: processing %q strength %g seed %s (was %s) prompt %q user %d", tt.suffix,
				r.Image.SourceProcessing, r.Image.DenoisingStrength, r.Image.Seed, orig.Image.Seed, r.Prompt, r.UserID)
		}
		wantContains(t, varied.Content, "<@"+h.Bob.ID+">")
	}
}

func TestZoomOutShareAndDeleteButtons(t *testing.T) {
	// Not parallel: the procedural workers draw real images, which under
	// -race on a busy machine is slow; run alone, each has the harness's budget.
	h := newHarness(t)
	h.StartProceduralWorkers()
	_, single := singleImage(t, h, "a red barn")

	zoomed := h.Original(h.Click(h.Alice, h.General, single.ID, findID(customIDs(single), "image/zoom/")), "zoomed out", hasFiles)
	r := requestOf(t, h, zoomed)
	if r.Image.SourceProcessing != "outpainting" || r.Image.SourceMask == "" || r.Image.Width != 512 || r.Image.Height != 512 {
		t.Fatalf("zoom-out request: processing %q mask %d bytes size %dx%d", r.Image.SourceProcessing, len(r.Image.SourceMask), r.Image.Width, r.Image.Height)
	}
	// The middle half of the zoomed-out image is the original shrunk to
	// half: (128+x/2, 128+y/2) is the original's (x, y). The worker
	// painted the transparent border around it: opaque, and not the
	// canvas's transparent black.
	before := decodeImage(t, single.Files[0].Data)
	after := decodeImage(t, zoomed.Files[0].Data)
	for _, x := range []int{64, 200, 256, 320} {
		for _, y := range []int{64, 200, 256, 320} {
			br, bg, bb, _ := before.At(x, y).RGBA()
			ar, ag, ab, _ := after.At(128+x/2, 128+y/2).RGBA()
			if d := absDiff(br, ar) + absDiff(bg, ag) + absDiff(bb, ab); d > 3*40 {
				t.Errorf("zoomed-out (%d,%d) is %v, want the original's (%d,%d) %v", 128+x/2, 128+y/2, after.At(128+x/2, 128+y/2), x, y, before.At(x, y))
			}
		}
	}
	var border, black int
	for y := 0; y < 512; y += 8 {
		for x := 0; x < 512; x += 8 {
			if x >= 120 && x < 392 && y >= 120 && y < 392 || x >= 480 && y >= 480 { // the kept middle; the corner marker
				continue
			}
			border++
			r, g, b, a := after.At(x, y).RGBA()
			if a>>8 != 255 {
				t.Fatalf("zoomed-out border (%d,%d) is not opaque: %v", x, y, after.At(x, y))
			}
			if r>>8+g>>8+b>>8 < 24 {
				black++
			}
		}
	}
	if black > border/2 {
		t.Errorf("%d of %d border pixels are black: the border was not painted", black, border)
	}

	t.Run("share posts that one image", func(t *testing.T) {
		h := h.On(t)
		text, private := h.Reply(h.Click(h.Alice, h.General, single.ID, findID(customIDs(single), "image/share/")))
		if !private || !strings.Contains(text, "Shared") {
			t.Fatalf("reply %q private %v", text, private)
		}
		m, err := h.Srv.WaitForMessage(h.Ctx, h.Art.ID, hasFiles)
		must(t, err)
		if b := decodeImage(t, m.Files[0].Data).Bounds(); b.Dx() != 512 {
			t.Errorf("shared image is %v, want the one 512x512 image", b)
		}
	})
	t.Run("delete by another member is refused", func(t *testing.T) {
		h := h.On(t)
		text, private := h.Reply(h.Click(h.Bob, h.General, single.ID, findID(customIDs(single), "image/delete/")))
		if !private || !strings.Contains(text, "Only the member") {
			t.Fatalf("reply %q private %v", text, private)
		}
	})
	t.Run("delete by the requester removes it", func(t *testing.T) {
		h := h.On(t)
		text, _ := h.Reply(h.Click(h.Alice, h.General, single.ID, findID(customIDs(single), "image/delete/")))
		wantContains(t, text, "Deleted")
		if _, ok := h.Srv.Message(h.General.ID, single.ID); ok {
			t.Fatal("the image message is still there")
		}
	})
}

func absDiff(a, b uint32) uint32 {
	a, b = a>>8, b>>8
	if a > b {
		return a - b
	}
	return b - a
}

func TestImageButtonsRefuseUnknownRequests(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, single := finishedImagineSingle(t, h)
	unknown := "00000000-0000-0000-0000-000000000000"
	for _, prefix := range []string{"image/upscale/", "image/vary/", "image/zoom/", "image/describe/", "image/share/"} {
		t.Run(prefix, func(t *testing.T) {
			h := h.On(t)
			id := findID(customIDs(single), prefix)
			parts := strings.Split(id, "/")
			parts[2] = unknown
			forged := strings.Join(parts, "/")
			text, private := h.Reply(h.Click(h.Alice, h.General, botButton(h, h.General, forged), forged))
			if !private || !strings.Contains(text, "no longer known") {
				t.Fatalf("reply %q private %v, want a private 'no longer known'", text, private)
			}
		})
	}
	t.Run("a malformed index", func(t *testing.T) {
		h := h.On(t)
		id := findID(customIDs(single), "image/zoom/")
		forged := id[:strings.LastIndex(id, "/")] + "/x"
		text, private := h.Reply(h.Click(h.Alice, h.General, botButton(h, h.General, forged), forged))
		if !private || !strings.Contains(text, "malformed") {
			t.Fatalf("reply %q private %v", text, private)
		}
	})
	t.Run("an image the result does not have", func(t *testing.T) {
		h := h.On(t)
		id := findID(customIDs(single), "image/zoom/")
		forged := id[:strings.LastIndex(id, "/")] + "/3"
		text, private := h.Reply(h.Click(h.Alice, h.General, botButton(h, h.General, forged), forged))
		if !private || !strings.Contains(text, "not available") {
			t.Fatalf("reply %q private %v", text, private)
		}
	})
}

// TestUpscaleResumesAfterRestart: an upscale queued before a restart is
// delivered by the next run (its delivery is persisted like /imagine's),
// and the buttons of the image message still work after the restart (their
// custom IDs carry the request and the image).
func TestUpscaleResumesAfterRestart(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	_, single := finishedImagineSingle(t, h)
	tok := h.Click(h.Bob, h.General, single.ID, buttonID(t, single, "image/upscale/", "/2"))
	h.Original(tok, "queued for an alchemist", func(m discordtest.Message) bool { return strings.Contains(m.Content, "Queued for an alchemist") })
	stop(h.Bot, h.Sess)

	// An alchemist serves the form while the bot is down.
	alch := h.WorkerCred("alchemist")
	as, _, err := h.Horde.PopAlchemy(h.Ctx, alch, horde.AlchemyPop{Name: "alchemist", Forms: []string{aihorde.FormRealESRGANx2}, Amount: 1, Threads: 1, MaxTiles: 16})
	must(t, err)
	if len(as) != 1 {
		t.Fatalf("popped %d forms, want the upscale", len(as))
	}
	_, err = h.Horde.SubmitAlchemy(h.Ctx, alch, horde.AlchemySubmission{FormID: as[0].Form.ID, Image: solidPNG(t, 1024, 1024, 1)})
	must(t, err)

	h.Start()
	m := h.Original(tok, "upscale after restart", hasFiles)
	if b := decodeImage(t, m.Files[0].Data).Bounds(); b.Dx() != 1024 {
		t.Fatalf("upscaled image is %v, want 1024 wide", b)
	}
	text, private := h.Reply(h.Click(h.Alice, h.General, single.ID, buttonID(t, single, "image/delete/", "")))
	if !private || !strings.Contains(text, "Deleted") {
		t.Fatalf("a button after the restart: reply %q private %v", text, private)
	}
}

package commands_test

import (
	"image/color"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/commands"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/kudos"
)

// menu runs a message context-menu command on a message.
func menu(t *testing.T, h *harness, by *userT, name, messageID string) string {
	t.Helper()
	tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: by.ID,
		Command: name, CommandType: discordgo.MessageApplicationCommand, TargetID: messageID})
	must(t, err)
	return tok
}

// postImage makes bob post a message with a PNG.
func postImage(t *testing.T, h *harness, name string, data []byte) *discordgo.Message {
	t.Helper()
	m, err := h.Srv.SendMessage(discordtest.UserMessage{ChannelID: h.General.ID, AuthorID: h.Bob.ID, Content: "look at this",
		Files: []discordtest.File{{Name: name, ContentType: "image/png", Data: data}}})
	must(t, err)
	return m
}

func described(m discordtest.Message) bool { return strings.Contains(m.Content, "described") }

func TestDescribeCommand(t *testing.T) {
	// Not parallel: the procedural workers draw real images, which under
	// -race on a busy machine is slow; run alone, each has the harness's budget.
	h := newHarness(t)
	h.StartProceduralWorkers()
	before := h.Balance(h.Alice)
	tok := h.Run(h.Alice, h.General, "describe", upload(h, "field.png", "image/png", colourPNG(t, 300, 200, fieldGreen)))
	m := h.Original(tok, "description", described)
	wantContains(t, m.Content, "“field.png”")
	wantContains(t, m.Content, "green") // the procedural caption names the colours
	wantContains(t, m.Content, "Tags:")
	if m.Flags&discordgo.MessageFlagsEphemeral != 0 {
		t.Error("the description is private")
	}
	cost := horde.FormReward(aihorde.FormCaption, 1) + horde.FormReward(aihorde.FormInterrogation, 1) + 2*horde.AlchemyBurn(true)
	if paid := before - h.Balance(h.Alice); paid != cost {
		t.Errorf("alice paid %d kudos, want the horde's %d", paid, cost)
	}
	wantContains(t, m.Content, "kudos")

	t.Run("a file that is no image is refused", func(t *testing.T) {
		h := h.On(t)
		text, private := h.Reply(h.Run(h.Alice, h.General, "describe", upload(h, "notes.txt", "text/plain", []byte("hello"))))
		if !private || !strings.Contains(text, "not an image") {
			t.Fatalf("reply %q private %v", text, private)
		}
	})
}

func TestContextMenusDescribeAndUpscale(t *testing.T) {
	// Not parallel: the procedural workers draw real images, which under
	// -race on a busy machine is slow; run alone, each has the harness's budget.
	h := newHarness(t)
	h.StartProceduralWorkers()
	pic := postImage(t, h, "wide.png", colourPNG(t, 256, 128, color.NRGBA{R: 30, G: 60, B: 210, A: 255}))

	m := h.Original(menu(t, h, h.Alice, "Describe", pic.ID), "description", described)
	wantContains(t, m.Content, "blue")

	up := h.Original(menu(t, h, h.Alice, "Upscale", pic.ID), "upscale", hasFiles)
	if b := decodeImage(t, up.Files[0].Data).Bounds(); b.Dx() != 512 || b.Dy() != 256 {
		t.Fatalf("upscaled image is %v, want 512x256 (2x)", b)
	}

	t.Run("a message without an image is refused", func(t *testing.T) {
		h := h.On(t)
		plain := h.Post(h.Bob, h.General, "no picture here", "")
		for _, name := range []string{"Describe", "Upscale", "Remix"} {
			text, private := h.Reply(menu(t, h, h.Alice, name, plain.ID))
			if !private || !strings.Contains(text, "no image attached") {
				t.Errorf("%s: reply %q private %v", name, text, private)
			}
		}
	})
}

func TestRemixMenu(t *testing.T) {
	// Not parallel: the procedural workers draw real images, which under
	// -race on a busy machine is slow; run alone, each has the harness's budget.
	h := newHarness(t)
	h.StartProceduralWorkers()
	pic := postImage(t, h, "field.png", colourPNG(t, 512, 512, fieldGreen))

	tok := menu(t, h, h.Alice, "Remix", pic.ID)
	modal, err := h.Srv.WaitForModal(h.Ctx, tok)
	must(t, err)
	if in, ok := modal.Input("strength"); !ok || in.Value != "0.6" {
		t.Fatalf("modal %+v: want a strength input prefilled with 0.6", modal)
	}
	if _, ok := modal.Input("prompt"); !ok {
		t.Fatalf("modal %+v has no prompt", modal)
	}

	t.Run("a strength that is no number is refused", func(t *testing.T) {
		h := h.On(t)
		sub, err := h.Srv.SubmitModal(tok, map[string]string{"prompt": "a field at night", "strength": "lots"})
		must(t, err)
		text, private := h.Reply(sub)
		if !private || !strings.Contains(text, "between 0.05 and 1") {
			t.Fatalf("reply %q private %v", text, private)
		}
	})

	sub, err := h.Srv.SubmitModal(tok, map[string]string{"prompt": "a field at night", "strength": "0.3"})
	must(t, err)
	res := h.Original(sub, "remix result", hasFiles)
	wantContains(t, res.Content, "a field at night")
	r := requestOf(t, h, res)
	if r.Image.SourceProcessing != "img2img" || r.Image.DenoisingStrength != 0.3 || r.Prompt != "a field at night" {
		t.Fatalf("remix request: processing %q strength %g prompt %q", r.Image.SourceProcessing, r.Image.DenoisingStrength, r.Prompt)
	}
	if _, g, _ := meanColour(decodeImage(t, res.Files[0].Data)); g < 120 {
		t.Errorf("mean green %.0f: at strength 0.3 the remix keeps the green source", g)
	}

	t.Run("a deleted message cannot be remixed", func(t *testing.T) {
		h := h.On(t)
		gone := postImage(t, h, "gone.png", colourPNG(t, 64, 64, fieldGreen))
		tok := menu(t, h, h.Alice, "Remix", gone.ID)
		_, err := h.Srv.WaitForModal(h.Ctx, tok)
		must(t, err)
		must(t, h.Sess.ChannelMessageDelete(h.General.ID, gone.ID))
		sub, err := h.Srv.SubmitModal(tok, map[string]string{"prompt": "x"})
		must(t, err)
		text, private := h.Reply(sub)
		if !private || !strings.Contains(text, "gone") {
			t.Fatalf("reply %q private %v", text, private)
		}
	})
}

func TestBlend(t *testing.T) {
	// Not parallel: the procedural workers draw real images, which under
	// -race on a busy machine is slow; run alone, each has the harness's budget.
	h := newHarness(t)
	h.StartProceduralWorkers()
	before := h.Balance(h.Alice)
	red := upload(h, "red.png", "image/png", colourPNG(t, 512, 512, color.NRGBA{R: 220, G: 20, B: 20, A: 255}))
	red.Name = "image1"
	blue := upload(h, "blue.png", "image/png", colourPNG(t, 512, 512, color.NRGBA{R: 20, G: 20, B: 220, A: 255}))
	blue.Name = "image2"
	m := h.Original(h.Run(h.Alice, h.General, "blend", red, blue), "blend", hasFiles)
	wantContains(t, m.Content, "a blend of 2 images")
	r := requestOf(t, h, m)
	p := r.Image
	if p.SourceProcessing != "remix" || p.SourceImage == "" || len(p.ExtraSourceImages) != 1 || p.ExtraSourceImages[0].Strength != 1 {
		t.Fatalf("blend request: processing %q, %d extra images", p.SourceProcessing, len(p.ExtraSourceImages))
	}
	// The procedural worker averages the images: red and blue make purple.
	if rr, g, b := meanColour(decodeImage(t, m.Files[0].Data)); rr < 90 || b < 90 || g > 60 {
		t.Errorf("blend mean colour %.0f,%.0f,%.0f, want the purple average of red and blue", rr, g, b)
	}
	want := kudos.ImageCost(kudos.ImagePrice{Width: 512, Height: 512, Steps: p.Steps, Sampler: p.SamplerName,
		SourceImage: true, SourceProcessing: "remix", ExtraSourceImages: 1}, 1)
	if r.Kudos != want || before-h.Balance(h.Alice) != want {
		t.Errorf("blend costs %d, alice paid %d; want the horde's remix price %d", r.Kudos, before-h.Balance(h.Alice), want)
	}

	t.Run("a blend of one image is refused", func(t *testing.T) {
		h := h.On(t)
		one := upload(h, "red.png", "image/png", colourPNG(t, 64, 64, fieldGreen))
		one.Name = "image1"
		text, private := h.Reply(h.Run(h.Alice, h.General, "blend", one))
		if !private || !strings.Contains(text, "at least 2") {
			t.Fatalf("reply %q private %v", text, private)
		}
	})
}

// TestDescribeHeldToTheRoleCooldown: describe and upscale count against the
// cooldown of role_limits like /imagine.
func TestDescribeHeldToTheRoleCooldown(t *testing.T) {
	t.Parallel()
	h := newUnstartedHarness(t)
	h.Cfg.RoleLimits = commands.RoleLimits{Default: commands.Limits{Cooldown: kudos.Duration(time.Hour)}}
	h.Start()
	pic := colourPNG(t, 64, 64, fieldGreen)
	first := h.Run(h.Alice, h.General, "describe", upload(h, "a.png", "image/png", pic))
	h.Original(first, "queued", func(m discordtest.Message) bool { return strings.Contains(m.Content, "Queued for an alchemist") })
	text, private := h.Reply(h.Run(h.Alice, h.General, "describe", upload(h, "a.png", "image/png", pic)))
	if !private || !strings.Contains(text, "You can ask again in") {
		t.Fatalf("second describe: reply %q private %v, want the cooldown", text, private)
	}
}

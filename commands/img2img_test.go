package commands_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/commands"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// colourPNG is a w x h PNG of one colour.
func colourPNG(t testing.TB, w, h int, c color.NRGBA) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var buf bytes.Buffer
	must(t, png.Encode(&buf, img))
	return buf.Bytes()
}

var fieldGreen = color.NRGBA{G: 220, A: 255}

// upload stores a member's file on the fake's CDN and returns the option naming it.
func upload(h *harness, name, contentType string, data []byte) *discordOption {
	a := h.Srv.UploadAttachment(discordtest.Upload{Name: name, ContentType: contentType, Data: data})
	return discordtest.AttachmentOpt("image", a.ID)
}

// requestOf is the request behind a result message (its first U button).
func requestOf(t testing.TB, h *harness, m discordtest.Message) horde.Request {
	t.Helper()
	id := findID(customIDs(m), "imagine/upscale/")
	parts := strings.Split(id, "/")
	if len(parts) != 4 {
		t.Fatalf("no upscale button among %v", customIDs(m))
	}
	p, _, err := h.Horde.Status(h.Ctx, parts[2])
	must(t, err)
	return p.Request
}

// meanColour is an image's average colour.
func meanColour(img image.Image) (r, g, b float64) {
	bd := img.Bounds()
	n := 0.0
	for y := bd.Min.Y; y < bd.Max.Y; y += 4 {
		for x := bd.Min.X; x < bd.Max.X; x += 4 {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			r, g, b = r+float64(cr>>8), g+float64(cg>>8), b+float64(cb>>8)
			n++
		}
	}
	return r / n, g / n, b / n
}

func TestImagineFromImage(t *testing.T) {
	// Not parallel: the procedural workers draw real images, which under
	// -race on a busy machine is slow; run alone, each has the harness's budget.
	h := newHarness(t)
	h.StartProceduralWorkers()
	before := h.Balance(h.Alice)

	tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", "a green field"),
		upload(h, "field.png", "image/png", colourPNG(t, 640, 480, fieldGreen)), opt("strength", 0.25))
	m := h.Original(tok, "img2img result", hasFiles)
	img := decodeImage(t, m.Files[0].Data)
	// 640x480 is 4:3: about 512x512's pixels at that ratio, in multiples of 64.
	if b := img.Bounds(); b.Dx() != 576 || b.Dy() != 448 {
		t.Fatalf("result is %v, want 576x448 (the source's aspect ratio)", b)
	}
	// At strength 0.25 the worker kept most of the fieldGreen source.
	if r, g, b := meanColour(img); g < 130 || g < r+60 || g < b+60 {
		t.Errorf("mean colour %.0f,%.0f,%.0f: want mostly the source's fieldGreen", r, g, b)
	}
	req := requestOf(t, h, m)
	p := req.Image
	if p.SourceProcessing != "img2img" || p.DenoisingStrength != 0.25 || p.SourceImage == "" {
		t.Fatalf("request params: processing %q strength %g source %d bytes", p.SourceProcessing, p.DenoisingStrength, len(p.SourceImage))
	}
	want := kudos.ImageCost(kudos.ImagePrice{Width: 576, Height: 448, Steps: p.Steps, Sampler: p.SamplerName,
		SourceImage: true, SourceProcessing: "img2img", Denoising: 0.25}, 1)
	if req.Kudos != want {
		t.Errorf("request costs %d kudos, want the horde's img2img price %d", req.Kudos, want)
	}
	if got := before - h.Balance(h.Alice); got != want {
		t.Errorf("alice paid %d kudos, want %d", got, want)
	}
	wantContains(t, m.Content, "a green field")
}

func TestImagineFromImageChosenSizeAndDefaultStrength(t *testing.T) {
	// Not parallel: the procedural workers draw real images, which under
	// -race on a busy machine is slow; run alone, each has the harness's budget.
	h := newHarness(t)
	h.StartProceduralWorkers()
	tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", "a green field"), opt("size", "portrait"),
		upload(h, "field.png", "image/png", colourPNG(t, 640, 480, fieldGreen)))
	m := h.Original(tok, "img2img result", hasFiles)
	if b := decodeImage(t, m.Files[0].Data).Bounds(); b.Dx() != 512 || b.Dy() != 768 {
		t.Fatalf("result is %v, want the portrait size 512x768", b)
	}
	if s := requestOf(t, h, m).Image.DenoisingStrength; s != 0.6 {
		t.Errorf("strength %g, want the default 0.6", s)
	}
}

func TestImagineFromImageRefusals(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	h := newHarness(t, func(c *bot.Config, _ *kudos.Config) { c.MaxSourceBytes = limit })
	pic := colourPNG(t, 64, 64, fieldGreen)
	big := make([]byte, limit+1)
	copy(big, pic)
	tests := []struct {
		name string
		up   discordtest.Upload
		opts []*discordOption
		want string
	}{
		{"a text file", discordtest.Upload{Name: "notes.txt", ContentType: "text/plain", Data: []byte("hello")}, nil, "not an image"},
		{"HTML claiming to be a PNG", discordtest.Upload{Name: "x.png", ContentType: "image/png", Data: []byte("<html><script>alert(1)</script></html>")}, nil, "not an image"},
		{"a GIF", discordtest.Upload{Name: "x.gif", ContentType: "image/gif", Data: []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")}, nil, "not an image"},
		{"an image over the size limit", discordtest.Upload{Name: "big.png", ContentType: "image/png", Data: big}, nil, "Images up to"},
		{"an image whose size was tampered with, served chunked", discordtest.Upload{Name: "big.png", ContentType: "image/png", Data: big, Size: 100, Chunked: true}, nil, "Images up to"},
		{"a foreign host", discordtest.Upload{Name: "x.png", ContentType: "image/png", Data: pic, URL: "https://evil.example/x.png"}, nil, "Discord's CDN"},
		{"the fake's host on another path is still fetched only from the CDN route", discordtest.Upload{Name: "x.png", ContentType: "image/png", Data: pic, URL: "http://127.0.0.1:1/x.png"}, nil, "Discord's CDN"},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			h := h.On(t)
			a := h.Srv.UploadAttachment(tt.up)
			tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", "x"), discordtest.AttachmentOpt("image", a.ID))
			text, private := h.Reply(tok)
			if !private || !strings.Contains(text, tt.want) {
				t.Fatalf("reply %q (private %v), want a private refusal saying %q", text, private, tt.want)
			}
		})
	}
	t.Run("strength without an image is refused", func(t *testing.T) {
		h := h.On(t)
		text, private := h.Reply(h.Run(h.Alice, h.General, "imagine", opt("prompt", "x"), opt("strength", 0.5)))
		if !private || !strings.Contains(text, "attach one") {
			t.Fatalf("reply %q private %v", text, private)
		}
	})
	t.Run("a forged strength out of range is refused", func(t *testing.T) {
		h := h.On(t)
		text, private := h.Reply(h.Run(h.Alice, h.General, "imagine", opt("prompt", "x"), upload(h, "a.png", "image/png", pic), opt("strength", 7.0)))
		if !private || !strings.Contains(text, "between 0.05 and 1") {
			t.Fatalf("reply %q private %v", text, private)
		}
	})
	if perf, err := h.Horde.Performance(h.Ctx); err != nil || perf.QueuedRequests != 0 {
		t.Errorf("performance %+v (%v): refused commands queued requests", perf, err)
	}
}

func TestImagineFromImageRoleGate(t *testing.T) {
	t.Parallel()
	h := newUnstartedHarness(t)
	h.Cfg.RoleLimits = commands.RoleLimits{Default: commands.Limits{MaxSteps: 50},
		Roles: []commands.RoleLimit{{RoleID: h.ModRole.ID, Limits: commands.Limits{Img2Img: true}}}}
	h.Start()
	pic := colourPNG(t, 64, 64, fieldGreen)

	text, private := h.Reply(h.Run(h.Alice, h.General, "imagine", opt("prompt", "x"), upload(h, "a.png", "image/png", pic)))
	if !private || !strings.Contains(text, "may not start from an image") || !strings.Contains(text, "<@&"+h.ModRole.ID+">") {
		t.Fatalf("reply %q private %v, want the img2img gate naming the role that allows it", text, private)
	}
	tok := h.Run(h.Mod, h.General, "imagine", opt("prompt", "a moderated field"), upload(h, "a.png", "image/png", pic))
	queued := h.Original(tok, "queued", func(m discordtest.Message) bool { return strings.Contains(m.Content, "a moderated field") })
	if queued.Flags&discordgo.MessageFlagsEphemeral != 0 {
		t.Errorf("the allowed request answered privately: %q", queued.Content)
	}
}

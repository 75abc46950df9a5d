package commands

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"

	"github.com/bwmarrin/discordgo"
	"github.com/disintegration/imaging"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// img2img: /imagine image:<attachment> strength:<0.05..1> starts from a
// member's image (the AI Horde's source_image with source_processing
// img2img and denoising_strength = strength), priced by the horde as any
// img2img request. The image's aspect ratio sets the size unless the
// member chose one.

// Strengths of the img2img workflows.
const (
	defaultImg2ImgStrength = 0.6
	minImg2ImgStrength     = 0.05
	varySubtleStrength     = 0.35
	varyStrongStrength     = 0.75
	// sourcePixels is the size an img2img from a member's image aims at
	// when they chose none: the default size's pixels, at the image's
	// aspect ratio.
	sourcePixels = aihorde.DefaultWidth * aihorde.DefaultHeight
	// maxSourceSide bounds a side chosen from the image's aspect ratio.
	maxSourceSide = 1024
	// sourceQuality is the JPEG quality of a source sent to workers.
	sourceQuality = 90
)

// img2imgOptions are /imagine's options for starting from an image.
func img2imgOptions() []*discordgo.ApplicationCommandOption {
	lo, hi := minImg2ImgStrength, 1.0
	return []*discordgo.ApplicationCommandOption{
		{Type: discordgo.ApplicationCommandOptionAttachment, Name: "image", Description: "Start from this image (img2img): PNG, JPEG or WebP"},
		{Type: discordgo.ApplicationCommandOptionNumber, Name: "strength", Description: "How much to change the image: 0.05 (a little) to 1 (all); default 0.6",
			MinValue: &lo, MaxValue: hi},
	}
}

// wantsImg2Img reports whether /imagine was given an image or a strength.
func wantsImg2Img(o interact.Options) bool { return o.Has("image") || o.Has("strength") }

// handleImagineFromImage runs /imagine with an image: nr is the request
// its other options (and the member's settings) made; given says which the
// member chose (typed, or from /settings).
func (s *Set) handleImagineFromImage(ctx context.Context, ix *interact.Interaction, o interact.Options, given func(string) bool, nr horde.NewRequest, shown string) error {
	if !o.Has("image") {
		return horde.Invalidf("strength", "strength applies to an image: attach one with the image option").InCase("strength_no_image")
	}
	strength := o.Number("strength", defaultImg2ImgStrength)
	if strength < minImg2ImgStrength || strength > 1 {
		return horde.Invalidf("strength", "strength must be between %g and 1", minImg2ImgStrength).InCase("strength").
			With("Min", ix.Printer().Decimal(minImg2ImgStrength, 2))
	}
	if err := s.requireImg2Img(ix); err != nil {
		return err
	}
	img, err := s.fetcher.fetch(ctx, "image", optionAttachment(ix, "image"))
	if err != nil {
		return err
	}
	p := nr.Image
	if !given("size") {
		p.Width, p.Height = sizeForSource(img.Width, img.Height)
	}
	if p.SourceImage, err = sourceFor(img.Img, p.Width, p.Height); err != nil {
		return fmt.Errorf("prepare the source image: %w", err)
	}
	p.SourceProcessing, p.DenoisingStrength = "img2img", strength
	return s.submitLimited(ctx, ix, given, nr, shown)
}

// requireImg2Img refuses a member whose role limits do not allow
// requests that start from an image.
func (s *Set) requireImg2Img(ix *interact.Interaction) error {
	l, on := s.limitsFor(ix)
	if !on || l.Img2Img {
		return nil
	}
	return refuseImg2Img(ix.Printer(), s.cfg.RoleLimits)
}

func refuseImg2Img(pr *locale.Printer, r RoleLimits) error {
	allows := func(t Limits) bool { return t.Img2Img }
	return horde.Errorf(horde.KindForbidden, "RoleImg2Img", "Your roles may not start from an image (img2img, vary, zoom out, remix, blend).%s",
		r.whoMay(allows)).With("Roles", r.rolesNote(pr, allows))
}

// sizeForSource is the request size for an image of w x h: about
// sourcePixels at its aspect ratio, each side a multiple of 64 between 64
// and maxSourceSide.
func sizeForSource(w, h int) (int, int) {
	if w <= 0 || h <= 0 {
		return aihorde.DefaultWidth, aihorde.DefaultHeight
	}
	aspect := float64(w) / float64(h)
	side := func(v float64) int {
		n := int(math.Round(v/aihorde.SideMultiple)) * aihorde.SideMultiple
		return min(max(n, aihorde.MinSide), maxSourceSide)
	}
	return side(math.Sqrt(sourcePixels * aspect)), side(math.Sqrt(sourcePixels / aspect))
}

// sourceFor is img as an img2img source of w x h: scaled to cover that
// size, centre-cropped, and encoded as base64 (encodeSource), as the AI
// Horde's source_image.
func sourceFor(img image.Image, w, h int) (string, error) {
	fitted := imaging.Fill(img, w, h, imaging.Center, imaging.Lanczos)
	return encodeSource(fitted)
}

// encodeSource encodes an image as base64 JPEG, or PNG when it has
// transparency (an outpainting canvas: the transparent part is what is
// painted). The AI Horde documents a WebP source; its workers (and
// hordebot's) open any image, and a JPEG is encoded in milliseconds where
// the WebP encoder takes far longer.
func encodeSource(img image.Image) (string, error) {
	if o, ok := img.(interface{ Opaque() bool }); !ok || !o.Opaque() {
		return encodePNG64(img)
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: sourceQuality}); err != nil {
		return "", fmt.Errorf("encode jpeg: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// encodePNG64 encodes an image as base64 PNG (a mask stays exact).
func encodePNG64(img image.Image) (string, error) {
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		return "", fmt.Errorf("encode png: %w", err)
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

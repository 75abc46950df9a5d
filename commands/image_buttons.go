package commands

import (
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"strconv"

	"github.com/bwmarrin/discordgo"
	"github.com/disintegration/imaging"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
)

// The buttons under one image of a result (what U1..U4 post): Upscale 2x
// and 4x (alchemy), Vary (Subtle) and (Strong) (img2img of that image with
// a new seed), Zoom out (outpainting on a canvas twice the image's size),
// Describe (alchemy), Share and Delete. Each custom ID carries what a
// click needs after a restart: the request id and the image's index
// (1-based), checked on click.
const (
	btnImageUpscale  = "image/upscale"  // /{request}/{n}/{factor}
	btnImageVary     = "image/vary"     // /{request}/{n}/{subtle|strong}
	btnImageZoom     = "image/zoom"     // /{request}/{n}
	btnImageDescribe = "image/describe" // /{request}/{n}
	btnImageShare    = "image/share"    // /{request}/{n}
	btnImageDelete   = "image/delete"   // /{request}
)

// zoomOutFactor is how much Zoom out widens the view: the image is shrunk
// to 1/zoomOutFactor of the canvas, which is the image's size.
const zoomOutFactor = 2

// imageButtons are the buttons under image n of a request, labelled in p's
// language.
func imageButtons(p *locale.Printer, requestID string, n int) []discordgo.MessageComponent {
	id := func(prefix string, more ...string) string {
		out := fmt.Sprintf("%s/%s/%d", prefix, requestID, n)
		for _, m := range more {
			out += "/" + m
		}
		return out
	}
	return []discordgo.MessageComponent{
		discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: p.T("button.upscale", locale.Args{"Factor": 2}), Emoji: &discordgo.ComponentEmoji{Name: "🔍"}, Style: discordgo.PrimaryButton, CustomID: id(btnImageUpscale, "2")},
			discordgo.Button{Label: p.T("button.upscale", locale.Args{"Factor": 4}), Emoji: &discordgo.ComponentEmoji{Name: "🔎"}, Style: discordgo.PrimaryButton, CustomID: id(btnImageUpscale, "4")},
			discordgo.Button{Label: p.T("button.vary_subtle", nil), Emoji: &discordgo.ComponentEmoji{Name: "🪄"}, Style: discordgo.SecondaryButton, CustomID: id(btnImageVary, "subtle")},
			discordgo.Button{Label: p.T("button.vary_strong", nil), Emoji: &discordgo.ComponentEmoji{Name: "🌀"}, Style: discordgo.SecondaryButton, CustomID: id(btnImageVary, "strong")},
		}},
		discordgo.ActionsRow{Components: []discordgo.MessageComponent{
			discordgo.Button{Label: p.T("button.zoom_out", nil), Emoji: &discordgo.ComponentEmoji{Name: "🔭"}, Style: discordgo.SecondaryButton, CustomID: id(btnImageZoom)},
			discordgo.Button{Label: p.T("button.describe", nil), Emoji: &discordgo.ComponentEmoji{Name: "📝"}, Style: discordgo.SecondaryButton, CustomID: id(btnImageDescribe)},
			discordgo.Button{Label: p.T("button.share", nil), Emoji: &discordgo.ComponentEmoji{Name: "🖼️"}, Style: discordgo.SuccessButton, CustomID: id(btnImageShare)},
			discordgo.Button{Label: p.T("button.delete", nil), Emoji: &discordgo.ComponentEmoji{Name: "🗑️"}, Style: discordgo.DangerButton, CustomID: btnImageDelete + "/" + requestID},
		}},
	}
}

// The buttons that queue work are resumable: what they start from (the
// request and image in the custom ID) is read again from the horde.
func (s *Set) imageWorkflowButtons() []*Component {
	return []*Component{
		{Prefix: btnImageUpscale, Defer: deferAlways(interact.DeferPublic), Handle: s.handleImageUpscale, Resumable: true},
		{Prefix: btnImageVary, Defer: deferAlways(interact.DeferPublic), Handle: s.handleImageVary, Resumable: true},
		{Prefix: btnImageZoom, Defer: deferAlways(interact.DeferPublic), Handle: s.handleImageZoom, Resumable: true},
		{Prefix: btnImageDescribe, Defer: deferAlways(interact.DeferPublic), Handle: s.handleImageDescribe, Resumable: true},
		{Prefix: btnImageShare, Defer: deferAlways(interact.DeferEphemeral), Handle: s.handleImageShare},
		{Prefix: btnImageDelete, Defer: deferAlways(interact.DeferEphemeral), Handle: s.handleImageDelete},
	}
}

// resultImageArg reads the request and image index at the start of a
// button's arguments (want of them in all) and loads that image. An
// unknown or expired request, or an image no longer there, is a clear
// refusal.
func (s *Set) resultImageArg(ctx context.Context, args []string, want int) (horde.Progress, resultImage, int, error) {
	if len(args) != want || len(args) < 2 || args[0] == "" {
		return horde.Progress{}, resultImage{}, 0, malformedButton()
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 1 || n > maxImages {
		return horde.Progress{}, resultImage{}, 0, malformedButton()
	}
	p, err := s.horde.Check(ctx, args[0])
	if horde.IsKind(err, horde.KindNotFound) {
		return p, resultImage{}, 0, requestGone()
	}
	if err != nil {
		return p, resultImage{}, 0, fmt.Errorf("look up request %s: %w", args[0], err)
	}
	if p.Request.Kind != horde.KindImage || p.Request.Image == nil {
		return p, resultImage{}, 0, horde.Invalidf("custom_id", "this button is not on an image").InCase("not_image")
	}
	imgs, err := s.finishedImages(ctx, p.Request.ID)
	if err != nil {
		return p, resultImage{}, 0, err
	}
	if n > len(imgs) {
		return p, resultImage{}, 0, horde.NotFoundf("NoImage", "image %d of that result is not available", n).InCase("index").With("N", n)
	}
	return p, imgs[n-1], n, nil
}

// requestGone is the refusal of a button whose request the horde no
// longer knows (results are kept for a limited time).
func requestGone() error {
	return horde.NotFoundf("RequestGone", "That image's request is no longer known to the horde (results are kept for a limited time): run /imagine again.")
}

// imageWhat names image n of a request for messages, in p's language.
func imageWhat(p *locale.Printer, r horde.Request, n int) string {
	return p.T("image.what", locale.Args{"N": n, "Prompt": clip(shownPrompt(r.Prompt), 200)})
}

func (s *Set) handleImageUpscale(ctx context.Context, ix *interact.Interaction, args []string) error {
	if err := s.requireAlchemy(); err != nil {
		return err
	}
	p, im, n, err := s.resultImageArg(ctx, args, 3)
	if err != nil {
		return err
	}
	factor, err := strconv.Atoi(args[2])
	if err != nil {
		return malformedButton()
	}
	b := im.img.Bounds()
	a, err := upscaleAsk(im.data, b.Dx(), b.Dy(), factor, imageWhat(ix.Printer(), p.Request, n))
	if err != nil {
		return err
	}
	return s.interrogateAndWatch(ctx, ix, a)
}

func (s *Set) handleImageDescribe(ctx context.Context, ix *interact.Interaction, args []string) error {
	if err := s.requireAlchemy(); err != nil {
		return err
	}
	p, im, n, err := s.resultImageArg(ctx, args, 2)
	if err != nil {
		return err
	}
	b := im.img.Bounds()
	return s.interrogateAndWatch(ctx, ix, describeAsk(im.data, b.Dx(), b.Dy(), imageWhat(ix.Printer(), p.Request, n)))
}

// handleImageVary queues an img2img of the image with a new seed and the
// request's prompt and settings, at a subtle or a strong strength; the
// clicker pays.
func (s *Set) handleImageVary(ctx context.Context, ix *interact.Interaction, args []string) error {
	p, im, _, err := s.resultImageArg(ctx, args, 3)
	if err != nil {
		return err
	}
	strength := varySubtleStrength
	switch args[2] {
	case "subtle":
	case "strong":
		strength = varyStrongStrength
	default:
		return malformedButton()
	}
	nr, err := s.rerunFromImage(ctx, ix, p.Request)
	if err != nil {
		return err
	}
	nr.Image.SourceImage = base64.StdEncoding.EncodeToString(im.data)
	nr.Image.SourceProcessing, nr.Image.DenoisingStrength = "img2img", strength
	return s.submitLimited(ctx, ix, allGiven, nr, shownPrompt(p.Request.Prompt))
}

// handleImageZoom queues an outpainting of the image: shrunk to half its
// size in the middle of a transparent canvas of its size, with a mask
// that paints the border around it. Workers that allow painting serve it.
func (s *Set) handleImageZoom(ctx context.Context, ix *interact.Interaction, args []string) error {
	p, im, _, err := s.resultImageArg(ctx, args, 2)
	if err != nil {
		return err
	}
	nr, err := s.rerunFromImage(ctx, ix, p.Request)
	if err != nil {
		return err
	}
	b := im.img.Bounds()
	canvas, mask := zoomOutCanvas(im.img, b.Dx(), b.Dy(), zoomOutFactor)
	if nr.Image.SourceImage, err = encodeSource(canvas); err != nil {
		return fmt.Errorf("encode zoom-out canvas: %w", err)
	}
	if nr.Image.SourceMask, err = encodePNG64(mask); err != nil {
		return fmt.Errorf("encode zoom-out mask: %w", err)
	}
	nr.Image.Width, nr.Image.Height = b.Dx(), b.Dy()
	nr.Image.SourceProcessing, nr.Image.DenoisingStrength = "outpainting", 0
	return s.submitLimited(ctx, ix, allGiven, nr, shownPrompt(p.Request.Prompt))
}

// rerunFromImage is a new request of one image with old's prompt and
// settings and a fresh seed, for the workflows that start from one of its
// images (one image in, one out: the member pays for one); the caller sets
// the source. It checks the NSFW channel and the img2img gate.
func (s *Set) rerunFromImage(ctx context.Context, ix *interact.Interaction, old horde.Request) (horde.NewRequest, error) {
	if old.NSFW {
		if err := s.requireNSFWChannel(ctx, ix); err != nil {
			return horde.NewRequest{}, err
		}
	}
	if err := s.requireImg2Img(ix); err != nil {
		return horde.NewRequest{}, err
	}
	params := *old.Image
	params.Seed = strconv.FormatUint(rand.Uint64N(1<<32), 10)
	params.SourceImage, params.SourceMask, params.SourceProcessing, params.ExtraSourceImages = "", "", "", nil
	return horde.NewRequest{
		Kind: horde.KindImage, Prompt: old.Prompt, Image: &params, Models: old.Models, N: 1,
		NSFW: old.NSFW, R2: true, ClientAgent: clientAgent, Source: "discord",
	}, nil
}

// zoomOutCanvas is img shrunk by factor in the middle of a w x h canvas
// that is transparent around it, and the outpainting mask: white where
// the worker paints (around), black where it keeps the image.
func zoomOutCanvas(img image.Image, w, h, factor int) (*image.NRGBA, *image.Gray) {
	small := imaging.Resize(img, max(w/factor, 1), max(h/factor, 1), imaging.Lanczos)
	canvas := image.NewNRGBA(image.Rect(0, 0, w, h))
	at := image.Pt((w-small.Bounds().Dx())/2, (h-small.Bounds().Dy())/2)
	keep := image.Rectangle{Min: at, Max: at.Add(small.Bounds().Size())}
	draw.Draw(canvas, keep, small, image.Point{}, draw.Src)
	mask := image.NewGray(image.Rect(0, 0, w, h))
	draw.Draw(mask, mask.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.Draw(mask, keep, image.NewUniform(color.Black), image.Point{}, draw.Src)
	return canvas, mask
}

// handleImageShare posts one image of a result to the art channel; only
// its requester may.
func (s *Set) handleImageShare(ctx context.Context, ix *interact.Interaction, args []string) error {
	p, im, n, err := s.resultImageArg(ctx, args, 2)
	if err != nil {
		return err
	}
	if p.Request.UserID != ix.User.ID {
		return horde.Errorf(horde.KindForbidden, "NotRequester", "Only the member who asked for this image can share it.").InCase("share_one")
	}
	if s.cfg.ArtChannelID == "" {
		return horde.Errorf(horde.KindInvalid, "NoArtChannel", "No art channel is configured on this server.")
	}
	data, ext, err := im.within(s.cfg.MaxFileBytes)
	if err != nil {
		return fmt.Errorf("fit shared image: %w", err)
	}
	return s.postShare(ctx, ix, p.Request, fmt.Sprintf("shared-%s-%d.%s", shortID(p.Request.ID), n, ext), ext, data)
}

// handleImageDelete deletes a one-image message: its request's requester
// may, and so may the member who posted it (who clicked its U button).
func (s *Set) handleImageDelete(ctx context.Context, ix *interact.Interaction, args []string) error {
	if len(args) != 1 || args[0] == "" {
		return malformedButton()
	}
	if ix.I.Message == nil {
		return horde.Invalidf("message", "this button is not on a message").InCase("no_message")
	}
	p, err := s.horde.Check(ctx, args[0])
	if err != nil && !horde.IsKind(err, horde.KindNotFound) {
		return fmt.Errorf("look up request %s: %w", args[0], err)
	}
	requester := err == nil && p.Request.UserID == ix.User.ID
	if !requester && messageInvoker(ix.I.Message) != ix.Caller.ID {
		return horde.Errorf(horde.KindForbidden, "NotRequester", "Only the member who asked for this image, or who posted it here, can delete it.").InCase("delete_one")
	}
	if err := s.retry().Do(ctx, "delete image message", func(opts ...discordgo.RequestOption) error {
		return ix.S.ChannelMessageDelete(ix.I.ChannelID, ix.I.Message.ID, opts...)
	}); err != nil && !interact.IsNotFound(err) {
		return err
	}
	return ix.Reply(ctx, interact.Reply{Content: ix.T("result.deleted", nil)})
}

// messageInvoker is the member whose interaction the bot's message
// answered, or "".
func messageInvoker(m *discordgo.Message) string {
	switch {
	case m.InteractionMetadata != nil && m.InteractionMetadata.User != nil:
		return m.InteractionMetadata.User.ID
	case m.Interaction != nil && m.Interaction.User != nil:
		return m.Interaction.User.ID
	}
	return ""
}

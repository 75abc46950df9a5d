package commands

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/bot/sharedpost"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// Custom-ID prefixes of the buttons under an /imagine result. Each is
// followed by "/{request id}" (and "/{n}" for upscale).
const (
	btnReroll    = "imagine/reroll"
	btnUpscale   = "imagine/upscale"
	btnVariation = "imagine/variation"
	btnShare     = "imagine/share"
	btnDelete    = "imagine/delete"
)

// resultButtons are the buttons under a result with n images: U1..Un, then
// reroll, variation, share and delete.
// The labels are in p's language.
func resultButtons(p *locale.Printer, requestID string, n int) []discordgo.MessageComponent {
	var rows []discordgo.MessageComponent
	if n > 0 {
		var ups []discordgo.MessageComponent
		for i := 1; i <= n && i <= 5; i++ {
			ups = append(ups, discordgo.Button{
				Label: "U" + strconv.Itoa(i), Style: discordgo.SecondaryButton,
				CustomID: fmt.Sprintf("%s/%s/%d", btnUpscale, requestID, i),
			})
		}
		rows = append(rows, discordgo.ActionsRow{Components: ups})
	}
	rows = append(rows, discordgo.ActionsRow{Components: []discordgo.MessageComponent{
		discordgo.Button{Label: p.T("button.reroll", nil), Emoji: &discordgo.ComponentEmoji{Name: "🔄"}, Style: discordgo.PrimaryButton, CustomID: btnReroll + "/" + requestID},
		discordgo.Button{Label: p.T("button.variation", nil), Emoji: &discordgo.ComponentEmoji{Name: "🎲"}, Style: discordgo.SecondaryButton, CustomID: btnVariation + "/" + requestID},
		discordgo.Button{Label: p.T("button.share", nil), Emoji: &discordgo.ComponentEmoji{Name: "🖼️"}, Style: discordgo.SuccessButton, CustomID: btnShare + "/" + requestID},
		discordgo.Button{Label: p.T("button.delete", nil), Emoji: &discordgo.ComponentEmoji{Name: "🗑️"}, Style: discordgo.DangerButton, CustomID: btnDelete + "/" + requestID},
	}})
	return rows
}

func (s *Set) imagineButtons() []*Component {
	return []*Component{
		{Prefix: btnReroll, Defer: s.deferGenerate, Handle: s.handleRerun(false), Resumable: true},
		{Prefix: btnVariation, Defer: s.deferGenerate, Handle: s.handleRerun(true), Resumable: true},
		{Prefix: btnUpscale, Defer: deferLikeMessage, Handle: s.handleUpscale},
		{Prefix: btnShare, Defer: deferAlways(interact.DeferEphemeral), Handle: s.handleShare},
		{Prefix: btnDelete, Defer: deferAlways(interact.DeferEphemeral), Handle: s.handleDelete},
	}
}

// requestArg reads the request of a button's custom ID.
func (s *Set) requestArg(ctx context.Context, args []string, want int) (horde.Progress, error) {
	if len(args) != want || args[0] == "" {
		return horde.Progress{}, malformedButton()
	}
	p, err := s.horde.Check(ctx, args[0])
	if err != nil {
		return p, fmt.Errorf("look up request %s: %w", args[0], err)
	}
	return p, nil
}

// handleRerun queues the request again for the clicker (who pays for it):
// reroll repeats it as it was asked (a seeded request gives the same
// images again, an unseeded one new images); variation keeps the prompt
// and settings with a fresh seed.
func (s *Set) handleRerun(variation bool) func(context.Context, *interact.Interaction, []string) error {
	return func(ctx context.Context, ix *interact.Interaction, args []string) error {
		p, err := s.requestArg(ctx, args, 1)
		if err != nil {
			return err
		}
		old := p.Request
		if old.Kind != horde.KindImage || old.Image == nil {
			return horde.Invalidf("custom_id", "only image requests can be rerolled").InCase("reroll_kind")
		}
		if old.NSFW {
			if err := s.requireNSFWChannel(ctx, ix); err != nil {
				return err
			}
		}
		params := *old.Image
		if variation {
			params.Seed = strconv.FormatUint(rand.Uint64N(1<<32), 10)
		}
		nr := horde.NewRequest{
			Kind: horde.KindImage, Prompt: old.Prompt, Image: &params, Models: old.Models, N: old.N,
			NSFW: old.NSFW, R2: true, ClientAgent: clientAgent, Source: "discord",
			Style: s.styleOfRequest(ctx, old),
		}
		return s.submitLimited(ctx, ix, allGiven, nr, shownPrompt(old.Prompt))
	}
}

// handleUpscale posts one image of a result at full size.
func (s *Set) handleUpscale(ctx context.Context, ix *interact.Interaction, args []string) error {
	p, err := s.requestArg(ctx, args, 2)
	if err != nil {
		return err
	}
	n, err := strconv.Atoi(args[1])
	if err != nil || n < 1 {
		return malformedButton()
	}
	imgs, err := s.finishedImages(ctx, p.Request.ID)
	if err != nil {
		return err
	}
	if n > len(imgs) {
		return horde.NotFoundf("NoImage", "image %d of that result is not available", n).InCase("index").With("N", n)
	}
	im := imgs[n-1]
	data, ext, err := im.within(s.cfg.MaxFileBytes)
	if err != nil {
		return fmt.Errorf("fit image %d of %s: %w", n, p.Request.ID, err)
	}
	return ix.Reply(ctx, interact.Reply{
		Content: ix.T("result.single", locale.Args{"User": ix.Caller.ID, "N": n, "Prompt": clip(shownPrompt(p.Request.Prompt), 300),
			"Seed": strconv.FormatInt(im.gen.Seed, 10)}),
		Files:      []*discordgo.File{{Name: fmt.Sprintf("%s-%d.%s", shortID(p.Request.ID), n, ext), ContentType: "image/" + mimeSub(ext), Reader: bytes.NewReader(data)}},
		Components: imageButtons(ix.Printer(), p.Request.ID, n),
	})
}

// handleShare posts a result to the configured art channel; only its requester may.
func (s *Set) handleShare(ctx context.Context, ix *interact.Interaction, args []string) error {
	p, err := s.requestArg(ctx, args, 1)
	if err != nil {
		return err
	}
	if p.Request.UserID != ix.User.ID {
		return horde.Errorf(horde.KindForbidden, "NotRequester", "Only the member who asked for these images can share them.").InCase("share")
	}
	if s.cfg.ArtChannelID == "" {
		return horde.Errorf(horde.KindInvalid, "NoArtChannel", "No art channel is configured on this server.")
	}
	imgs, err := s.finishedImages(ctx, p.Request.ID)
	if err != nil {
		return err
	}
	data, ext, err := EncodeWithin(gridOf(imgs), s.cfg.MaxFileBytes)
	if err != nil {
		return fmt.Errorf("encode shared grid: %w", err)
	}
	return s.postShare(ctx, ix, p.Request, "shared-"+shortID(p.Request.ID)+"."+ext, ext, data)
}

// postShare posts a shared image (data, a file of type ext named name) of
// request r in the art channel, with rating buttons when ratings are on,
// records the post as the requester's and tells the clicker where it went.
func (s *Set) postShare(ctx context.Context, ix *interact.Interaction, r horde.Request, name, ext string, data []byte) error {
	msg := &discordgo.MessageSend{
		Content:         "🖼️ " + s.sharePrinter(ix).T("share.post", locale.Args{"User": ix.Caller.ID, "Prompt": clip(shownPrompt(r.Prompt), 500)}),
		Files:           []*discordgo.File{{Name: name, ContentType: "image/" + mimeSub(ext), Reader: bytes.NewReader(data)}},
		AllowedMentions: &discordgo.MessageAllowedMentions{},
	}
	if s.ratings != nil {
		// Shared images may be rated, as a request made with shared: true.
		if err := s.ratings.Publish(ctx, ix.User, r.ID); err != nil {
			return fmt.Errorf("publish %s for ratings: %w", r.ID, err)
		}
		msg.Components = ratingButtons(r.ID)
	}
	var sent *discordgo.Message
	if err := s.retry().Do(ctx, "share to art channel", func(opts ...discordgo.RequestOption) error {
		interact.RewindFiles(msg.Files)
		var err error
		sent, err = ix.S.ChannelMessageSendComplex(s.cfg.ArtChannelID, msg, opts...)
		return err
	}); err != nil {
		return err
	}
	s.recordShare(ctx, ix, sent, r.ID)
	return ix.Reply(ctx, interact.Reply{Content: ix.T("share.done", locale.Args{"Channel": s.cfg.ArtChannelID})})
}

// recordShare remembers the bot's post in the art channel as the
// requester's, so that reactions on it credit them. The images are already
// shared when this runs, so a failure is logged rather than shown: telling
// the member it failed would only make them share the images twice.
func (s *Set) recordShare(ctx context.Context, ix *interact.Interaction, sent *discordgo.Message, requestID string) {
	if s.shares == nil || sent == nil || sent.ID == "" {
		return
	}
	post := sharedpost.Post{
		MessageID: sent.ID, ChannelID: s.cfg.ArtChannelID, GuildID: sent.GuildID,
		DiscordUserID: ix.Caller.ID, RequestID: requestID, CreatedAt: s.cfg.Clock.Now(),
	}
	if post.GuildID == "" {
		post.GuildID = ix.I.GuildID // REST answers often leave guild_id out
	}
	if err := s.shares.RecordSharedPost(ctx, post); err != nil {
		s.log.Error("record shared post: reactions on it will not credit the requester",
			"message", sent.ID, "request", requestID, "user", ix.Caller.ID, "err", err)
	}
}

// handleDelete deletes a result message; only its requester may.
func (s *Set) handleDelete(ctx context.Context, ix *interact.Interaction, args []string) error {
	p, err := s.requestArg(ctx, args, 1)
	if err != nil {
		return err
	}
	if p.Request.UserID != ix.User.ID {
		return horde.Errorf(horde.KindForbidden, "NotRequester", "Only the member who asked for these images can delete them.").InCase("delete")
	}
	if ix.I.Message == nil {
		return horde.Invalidf("message", "this button is not on a message").InCase("no_message")
	}
	if err := s.retry().Do(ctx, "delete result message", func(opts ...discordgo.RequestOption) error {
		return ix.S.ChannelMessageDelete(ix.I.ChannelID, ix.I.Message.ID, opts...)
	}); err != nil && !interact.IsNotFound(err) {
		return err
	}
	return ix.Reply(ctx, interact.Reply{Content: ix.T("result.deleted", nil)})
}

// sharePrinter is the language of a post in the art channel, which the
// whole community reads: the configured locale, else the guild's, else
// English (as the bot's other posts).
func (s *Set) sharePrinter(ix *interact.Interaction) *locale.Printer {
	return s.postPrinter(ix.I.GuildLocale)
}

// malformedButton is the refusal of a button whose custom ID does not
// parse (an old or forged one).
func malformedButton() error {
	return horde.Invalidf("custom_id", "this button is malformed").InCase("button")
}

// finishedImages loads the shown images of a finished request.
func (s *Set) finishedImages(ctx context.Context, requestID string) ([]resultImage, error) {
	_, gens, err := s.horde.Status(ctx, requestID)
	if err != nil {
		return nil, fmt.Errorf("status of %s: %w", requestID, err)
	}
	imgs, _, err := s.loadImages(ctx, gens)
	if err != nil {
		return nil, err
	}
	if len(imgs) == 0 {
		return nil, horde.NotFoundf("NoImage", "that result has no image to show").InCase("result")
	}
	return imgs, nil
}

// shownPrompt is the positive part of an AI Horde prompt ("positive ### negative").
func shownPrompt(p string) string {
	positive, _ := aihorde.SplitPrompt(p)
	return positive
}

func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

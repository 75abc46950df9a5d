package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
)

// delivery is a result still owed to Discord: which request, and where and
// how to deliver it. It is persisted (as JSON) until delivered so that a
// restart resumes watching it.
type delivery struct {
	RequestID     string            `json:"request_id"`
	Kind          horde.RequestKind `json:"kind"`
	AppID         string            `json:"app_id"`
	InteractionID string            `json:"interaction_id"`
	Token         string            `json:"token"`
	ChannelID     string            `json:"channel_id"`
	GuildID       string            `json:"guild_id,omitempty"`
	UserID        string            `json:"user_id"` // the requester's Discord id
	Prompt        string            `json:"prompt"`  // as shown to members
	IssuedAt      time.Time         `json:"issued_at"`
	// Private results (the member's /settings) go to the requester alone:
	// an ephemeral follow-up while the token lasts, a DM after.
	Private bool `json:"private,omitempty"`
	// Alchemy is set on the delivery of an interrogation (Kind
	// horde.KindAlchemy; RequestID is its id): what to show of it.
	Alchemy *alchemyShow `json:"alchemy,omitempty"`
	// Locale and GuildLocale are the requester's and the guild's Discord
	// locales when they asked: the progress and the result are worded in
	// the requester's language (printer).
	Locale      discordgo.Locale `json:"locale,omitempty"`
	GuildLocale discordgo.Locale `json:"guild_locale,omitempty"`
}

// printer is the language d's messages are worded in: the requester's,
// else the guild's, else English.
func (d delivery) printer() *locale.Printer { return locale.Default().For(d.Locale, d.GuildLocale) }

// localesOf are the caller's and the guild's locales of an interaction.
func localesOf(ix *interact.Interaction) (loc, guild discordgo.Locale) {
	if ix.I.GuildLocale != nil {
		guild = *ix.I.GuildLocale
	}
	return ix.I.Locale, guild
}

func (d delivery) interaction() *discordgo.Interaction {
	return &discordgo.Interaction{ID: d.InteractionID, AppID: d.AppID, Token: d.Token, ChannelID: d.ChannelID, GuildID: d.GuildID}
}

// deliveryFor describes where the result of request r, asked for by ix, goes.
func deliveryFor(ix *interact.Interaction, r horde.Request, prompt string) delivery {
	loc, guild := localesOf(ix)
	return delivery{
		RequestID: r.ID, Kind: r.Kind, AppID: ix.I.AppID, InteractionID: ix.I.ID, Token: ix.I.Token,
		ChannelID: ix.I.ChannelID, GuildID: ix.I.GuildID, UserID: ix.Caller.ID, Prompt: prompt,
		IssuedAt: ix.CreatedAt(), Private: ix.Ephemeral(), Locale: loc, GuildLocale: guild,
	}
}

// persist saves d, so that a restart resumes watching it.
func (s *Set) persist(ctx context.Context, d delivery) error {
	b, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode delivery of %s: %w", d.RequestID, err)
	}
	if s.dstore != nil {
		if err := s.dstore.SaveDiscordDelivery(ctx, d.RequestID, b); err != nil {
			return fmt.Errorf("persist delivery of %s: %w", d.RequestID, err)
		}
	}
	return nil
}

func (s *Set) startWatch(d delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.watching[d.RequestID] {
		return
	}
	s.watching[d.RequestID] = true
	ctx := s.baseCtx
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer func() {
			if p := recover(); p != nil {
				s.log.Error("delivery watcher panicked", "request", d.RequestID, "panic", p)
			}
			s.mu.Lock()
			delete(s.watching, d.RequestID)
			s.mu.Unlock()
		}()
		s.watch(ctx, d)
	}()
}

// resumeDeliveries restarts the watchers of the deliveries an earlier run left.
func (s *Set) resumeDeliveries(ctx context.Context) error {
	if s.dstore == nil {
		return nil
	}
	payloads, err := s.dstore.DiscordDeliveries(ctx)
	if err != nil {
		return fmt.Errorf("load pending deliveries: %w", err)
	}
	resumed := 0
	for _, b := range payloads {
		var d delivery
		if err := json.Unmarshal(b, &d); err != nil || d.RequestID == "" {
			s.log.Error("skipping unreadable pending delivery", "err", err, "payload", string(b))
			continue
		}
		if s.cfg.ResumeFilter != nil && !s.cfg.ResumeFilter(d.GuildID) {
			continue // another process's shard
		}
		s.startWatch(d)
		resumed++
	}
	if resumed > 0 {
		s.log.Info("resumed pending deliveries", "count", resumed)
	}
	return nil
}

// watch polls a request until it finishes, editing its message with the
// queue position and ETA (at most once per EditEvery), then delivers the
// result. An event of the request (Deps.Events: it finished, here or on
// another process) ends the wait for the next poll at once. An image
// request's edit attaches its latest live preview when there is a new one
// (previewFile). When ctx ends first the delivery stays persisted for the
// next run.
func (s *Set) watch(ctx context.Context, d delivery) {
	if d.Kind == horde.KindAlchemy {
		s.watchAlchemy(ctx, d)
		return
	}
	var wake <-chan horde.Event // nil without events: never ready
	if s.events != nil {
		c, stop := s.events.Subscribe(d.RequestID)
		defer stop()
		wake = c
	}
	var lastEdit time.Time
	lastText, lastPreview := "", ""
	for {
		p, err := s.horde.Check(ctx, d.RequestID)
		switch {
		case ctx.Err() != nil:
			return
		case horde.IsKind(err, horde.KindNotFound):
			s.log.Warn("watched request is gone", "request", d.RequestID)
			s.deliver(ctx, d, interact.Reply{Content: d.printer().T("result.gone", locale.Args{"Prompt": clip(d.Prompt, 200)})})
			return
		case err != nil:
			s.log.Error("check request", "request", d.RequestID, "err", err)
		case p.Done:
			s.finish(ctx, d)
			return
		default:
			text := s.progressText(d, p)
			now := s.cfg.Clock.Now()
			if now.Sub(lastEdit) < s.cfg.EditEvery || !s.tokenFresh(d) {
				break
			}
			r := interact.Reply{Content: text}
			etag := lastPreview
			if f, tag := s.previewFile(ctx, d, p, lastPreview); f != nil {
				r.Files, r.ReplaceFiles, etag = []*discordgo.File{f}, true, tag
			}
			if text == lastText && etag == lastPreview {
				break
			}
			if err := s.editOriginal(ctx, d, r); err != nil {
				s.log.Warn("progress edit failed", "request", d.RequestID, "err", err)
			} else {
				lastEdit, lastText, lastPreview = now, text, etag
			}
		}
		t := time.NewTimer(s.cfg.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-wake:
			t.Stop()
		}
	}
}

// previewFile is the latest live preview of d's request as an attachment,
// with its ETag, when the request is an image request with a job in
// progress and the preview is not the one shown (shown, an ETag): each
// preview is uploaded once. nil when there is none to show.
func (s *Set) previewFile(ctx context.Context, d delivery, p horde.Progress, shown string) (*discordgo.File, string) {
	if s.pv == nil || d.Kind != horde.KindImage || p.Processing == 0 {
		return nil, ""
	}
	pv, err := s.pv.Latest(ctx, d.RequestID)
	if err != nil {
		if !horde.IsKind(err, horde.KindNotFound) && ctx.Err() == nil {
			s.log.Warn("read live preview", "request", d.RequestID, "err", err)
		}
		return nil, ""
	}
	if pv.ETag == shown || len(pv.Image) > s.cfg.MaxFileBytes {
		return nil, ""
	}
	ext := strings.TrimPrefix(pv.ContentType, "image/")
	if ext == "jpeg" {
		ext = "jpg"
	}
	return &discordgo.File{Name: "preview." + ext, ContentType: pv.ContentType, Reader: bytes.NewReader(pv.Image)}, pv.ETag
}

// finish builds the result message of a finished request and delivers it.
func (s *Set) finish(ctx context.Context, d delivery) {
	p, gens, err := s.horde.Status(ctx, d.RequestID)
	if err != nil {
		if ctx.Err() == nil {
			s.log.Error("read finished request", "request", d.RequestID, "err", err)
			s.deliver(ctx, d, interact.Reply{Content: d.printer().T("result.unreadable", nil)})
		}
		return
	}
	var r interact.Reply
	switch {
	case len(gens) == 0:
		r = interact.Reply{Content: d.printer().T("result.incomplete", locale.Args{"User": d.UserID, "Prompt": clip(d.Prompt, 200),
			"Reason": requestEndReason(d.printer(), p.Request)})}
	case d.Kind == horde.KindText:
		r = s.textResult(d, p, gens)
	default:
		r, err = s.imageResult(ctx, d, p, gens)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			s.log.Error("compose image result", "request", d.RequestID, "err", err)
			r = interact.Reply{Content: d.printer().T("result.unassembled", nil)}
		}
	}
	s.deliver(ctx, d, r)
}

// deliver sends r where d says: an edit of the interaction's message while
// its token is fresh, else a new message in the channel, else a DM. Once
// sent, the delivery is forgotten.
func (s *Set) deliver(ctx context.Context, d delivery, r interact.Reply) {
	if d.Private {
		s.deliverPrivately(ctx, d, r) // private_delivery.go
		return
	}
	var err error
	if s.tokenFresh(d) {
		// The result replaces whatever the progress message showed: its
		// live preview goes.
		r.ReplaceFiles = true
		if err = s.editOriginal(ctx, d, r); err == nil {
			s.forget(ctx, d)
			return
		}
		s.log.Warn("result edit failed; posting to the channel", "request", d.RequestID, "err", err)
	}
	if ctx.Err() != nil {
		return
	}
	msg := &discordgo.MessageSend{
		Content: r.Content, Embeds: r.Embeds, Components: r.Components, Files: r.Files,
		AllowedMentions: interact.MentionUsersOnly(),
	}
	if err = s.retry().Do(ctx, "post result to channel", func(opts ...discordgo.RequestOption) error {
		interact.RewindFiles(msg.Files)
		_, err := s.sess().ChannelMessageSendComplex(d.ChannelID, msg, opts...)
		return err
	}); err == nil {
		s.forget(ctx, d)
		return
	}
	s.log.Warn("posting the result to the channel failed; sending a DM", "request", d.RequestID, "err", err)
	if ctx.Err() != nil {
		return
	}
	if err = s.sendDM(ctx, d.UserID, msg); err != nil {
		if ctx.Err() == nil {
			s.log.Error("result could not be delivered anywhere", "request", d.RequestID, "err", err)
		}
		return
	}
	s.forget(ctx, d)
}

func (s *Set) forget(ctx context.Context, d delivery) {
	if s.dstore == nil {
		return
	}
	if err := s.dstore.DeleteDiscordDelivery(context.WithoutCancel(ctx), d.RequestID); err != nil {
		s.log.Error("forget delivered request", "request", d.RequestID, "err", err)
	}
}

func (s *Set) editOriginal(ctx context.Context, d delivery, r interact.Reply) error {
	i := d.interaction()
	return s.retry().Do(ctx, "edit result message", func(opts ...discordgo.RequestOption) error {
		interact.RewindFiles(r.Files)
		_, err := s.sess().InteractionResponseEdit(i, r.WebhookEdit(), opts...)
		return err
	})
}

// sendDM sends a direct message to a Discord user.
func (s *Set) sendDM(ctx context.Context, userID string, msg *discordgo.MessageSend) error {
	var ch *discordgo.Channel
	if err := s.retry().Do(ctx, "open DM channel", func(opts ...discordgo.RequestOption) error {
		var err error
		ch, err = s.sess().UserChannelCreate(userID, opts...)
		return err
	}); err != nil {
		return err
	}
	return s.retry().Do(ctx, "send DM", func(opts ...discordgo.RequestOption) error {
		interact.RewindFiles(msg.Files)
		_, err := s.sess().ChannelMessageSendComplex(ch.ID, msg, opts...)
		return err
	})
}

func (s *Set) tokenFresh(d delivery) bool {
	return s.cfg.Clock.Now().Sub(d.IssuedAt) < s.cfg.TokenLifetime
}

func (s *Set) sess() *discordgo.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.session
}

func (s *Set) retry() interact.Retrier { return s.cfg.Retry }

// progressText is the message shown while a request waits or runs, with a
// link to its live web page when the pages have a public address.
func (s *Set) progressText(d delivery, p horde.Progress) string {
	pr := d.printer()
	text := progressLine(pr, d, p)
	if s.cfg.WebURL != "" {
		text += "\n🔗 " + pr.T("progress.live", locale.Args{"URL": strings.TrimRight(s.cfg.WebURL, "/") + "/r/" + d.RequestID})
	}
	return text
}

// progressLine is the progress message's first line.
func progressLine(pr *locale.Printer, d delivery, p horde.Progress) string {
	what := "images"
	if d.Kind == horde.KindText {
		what = "text"
	}
	prompt := clip(d.Prompt, 200)
	switch {
	case !p.IsPossible:
		return "⏳ " + pr.T("progress.impossible", locale.Args{"Prompt": prompt})
	case p.Processing > 0 || p.Finished > 0:
		return "🎨 " + pr.T("progress.generating."+what, locale.Args{"Prompt": prompt, "Done": p.Finished,
			"Processing": p.Processing, "Waiting": p.Waiting, "ETA": approxETA(pr, p.WaitTime)})
	default:
		// The horde counts the requests ahead; members count from 1.
		return "⏳ " + pr.T("progress.queued", locale.Args{"Prompt": prompt, "Position": p.QueuePosition + 1, "ETA": approxETA(pr, p.WaitTime)})
	}
}

// requestEndReason says why a request ended without results, in pr's
// language: the horde's reason by its known words, else its state.
func requestEndReason(pr *locale.Printer, r horde.Request) string {
	switch m := faultedJobsRE.FindStringSubmatch(r.Reason); {
	case m != nil:
		n, _ := strconv.Atoi(m[1])
		return pr.T("result.reason.faulted", locale.Args{locale.CountArg: n})
	case r.Reason == "expired":
		return pr.T("result.reason.expired", nil)
	case r.Reason == "cancelled by the requester":
		return pr.T("result.reason.cancelled", nil)
	case r.Reason != "":
		return r.Reason // words of the horde's the catalogs do not know, in English
	}
	if s, ok := pr.Lookup("result.state."+string(r.State), nil); ok {
		return s
	}
	return string(r.State)
}

// faultedJobsRE is the horde's reason of a request whose jobs faulted
// (horde/lifecycle.go).
var faultedJobsRE = regexp.MustCompile(`^(\d+) jobs faulted$`)

// clip shortens s to at most n runes, marking the cut.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// ResumeDelivery takes up the delivery of a request that interaction i
// (deferred, privately when ephemeral) queued on a run that died before
// saving the delivery: it saves it and watches the request as
// submitAndWatch (or interrogateAndWatch, for an interrogation) would
// have. A request the horde no longer knows is
// answered as such by the watcher. Call it after Start.
func (s *Set) ResumeDelivery(ctx context.Context, i *discordgo.Interaction, ephemeral bool, requestID string) error {
	ix := interact.NewDeferred(s.sess(), i, s.cfg.Retry, ephemeral)
	p, err := s.horde.Check(ctx, requestID)
	if err != nil && !horde.IsKind(err, horde.KindNotFound) {
		return fmt.Errorf("check request %s: %w", requestID, err)
	}
	var d delivery
	if err != nil && s.alchemy != nil {
		// Not a request: an interrogation (describe, upscale), or gone.
		in, aerr := s.alchemy.InterrogationStatus(ctx, requestID)
		switch {
		case aerr == nil:
			d = alchemyDeliveryFor(ix, requestID, alchemyShowOf(ix.Printer(), in))
		case !horde.IsKind(aerr, horde.KindNotFound):
			return fmt.Errorf("status of interrogation %s: %w", requestID, aerr)
		}
	}
	if d.RequestID == "" {
		req := p.Request
		req.ID = requestID
		d = deliveryFor(ix, req, shownPrompt(req.Prompt))
	}
	if err := s.persist(ctx, d); err != nil {
		return err
	}
	s.startWatch(d)
	return nil
}

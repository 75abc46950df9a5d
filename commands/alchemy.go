package commands

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/imagecheck"
)

// Describe and upscale go to the horde's alchemists (the AI Horde's
// /interrogate): one interrogation with the forms asked for (caption and
// interrogation; RealESRGAN_x2plus or _x4plus), priced as the horde
// prices forms and held against the member until done. The bot watches it
// as it watches an image request (a persisted delivery, resumed after a
// restart) and posts the caption and tags, or the upscaled image.

// The alchemy actions a delivery shows.
const (
	actionDescribe = "describe"
	actionUpscale  = "upscale"
)

// Upscale limits: the result the bot accepts to post.
const (
	// maxUpscaledPixels bounds an upscale's result (4096x4096): a larger
	// image is more than Discord shows and more than the bot decodes.
	maxUpscaledPixels = 4096 * 4096
)

// upscaleForms are the alchemy forms of each upscale factor.
var upscaleForms = map[int]string{2: aihorde.FormRealESRGANx2, 4: aihorde.FormRealESRGANx4}

// alchemyShow is what an alchemy delivery shows: the action and what it
// was done to ("image 2 of “a cat”", "your image").
type alchemyShow struct {
	Action string `json:"action"`
	What   string `json:"what"`
	Factor int    `json:"factor,omitempty"` // upscale
}

// alchemyAsk is an alchemy request the commands make for a member.
type alchemyAsk struct {
	source        []byte
	width, height int
	forms         []string
	show          alchemyShow
}

// describeAsk asks for a caption and an interrogation of an image.
func describeAsk(src []byte, w, h int, what string) alchemyAsk {
	return alchemyAsk{source: src, width: w, height: h, forms: []string{aihorde.FormCaption, aihorde.FormInterrogation},
		show: alchemyShow{Action: actionDescribe, What: what}}
}

// upscaleAsk asks for an upscale of an image by factor (2 or 4); a result
// over maxUpscaledPixels is refused before anything is queued.
func upscaleAsk(src []byte, w, h, factor int, what string) (alchemyAsk, error) {
	form, ok := upscaleForms[factor]
	if !ok {
		return alchemyAsk{}, horde.Invalidf("factor", "images are upscaled 2x or 4x").InCase("factor")
	}
	if w*h*factor*factor > maxUpscaledPixels {
		return alchemyAsk{}, horde.Errorf(horde.KindInvalid, "UpscaleTooLarge",
			"A %dx upscale of a %dx%d image would be %dx%d; the most I post is 4096x4096.", factor, w, h, w*factor, h*factor).
			With("Factor", factor).With("Width", w).With("Height", h).With("NewWidth", w*factor).With("NewHeight", h*factor)
	}
	return alchemyAsk{source: src, width: w, height: h, forms: []string{form},
		show: alchemyShow{Action: actionUpscale, What: what, Factor: factor}}, nil
}

// requireAlchemy refuses when no alchemy is wired.
func (s *Set) requireAlchemy() error {
	if s.alchemy == nil {
		return horde.Errorf(horde.KindDisabled, "AlchemyDisabled", "Describing and upscaling images are not available on this server.")
	}
	return nil
}

// interrogateAndWatch queues a for the caller (within their role
// cooldown), shows that it is queued and starts watching it.
func (s *Set) interrogateAndWatch(ctx context.Context, ix *interact.Interaction, a alchemyAsk) error {
	if err := s.requireAlchemy(); err != nil {
		return err
	}
	var in horde.Interrogation
	err := s.withCooldown(ix, func() error {
		forms := make([]horde.NewForm, len(a.forms))
		for i, f := range a.forms {
			forms[i] = horde.NewForm{Name: f}
		}
		var err error
		in, err = s.alchemy.Interrogate(ctx, ix.User, horde.NewInterrogation{
			Source: a.source, Width: a.width, Height: a.height, Forms: forms,
			SlowWorkers: true, ClientAgent: clientAgent, Origin: "discord",
			Interaction: ix.I.ID,
		})
		if err != nil {
			return fmt.Errorf("interrogate: %w", err)
		}
		return nil
	})
	if queuedElsewhere(err) {
		s.log.Info("interaction already answered elsewhere; nothing interrogated again", "interaction", ix.I.ID)
		return nil
	}
	if err != nil {
		return err
	}
	d := alchemyDeliveryFor(ix, in.ID, a.show)
	// Saved before the member is shown it queued, as submitAndWatch does.
	if err := s.persist(ctx, d); err != nil {
		return err
	}
	if err := ix.Reply(ctx, interact.Reply{Content: alchemyProgress(d, in)}); err != nil {
		s.log.Warn("first alchemy progress edit failed", "interrogation", in.ID, "err", err)
	}
	s.startWatch(d)
	return nil
}

// alchemyDeliveryFor is the delivery of interrogation id, asked for by
// ix, showing show.
func alchemyDeliveryFor(ix *interact.Interaction, id string, show alchemyShow) delivery {
	loc, guild := localesOf(ix)
	return delivery{
		RequestID: id, Kind: horde.KindAlchemy, AppID: ix.I.AppID, InteractionID: ix.I.ID, Token: ix.I.Token,
		ChannelID: ix.I.ChannelID, GuildID: ix.I.GuildID, UserID: ix.Caller.ID, Prompt: show.What,
		IssuedAt: ix.CreatedAt(), Alchemy: &show, Locale: loc, GuildLocale: guild,
	}
}

// alchemyShowOf is what the delivery of in shows when the run that asked
// for it died before saving its delivery: the action its forms say, done
// to the image (its name went with that run), in p's language.
func alchemyShowOf(p *locale.Printer, in horde.Interrogation) alchemyShow {
	show := alchemyShow{Action: actionDescribe, What: p.T("image.unnamed", nil)}
	for _, f := range in.Forms {
		for factor, form := range upscaleForms {
			if f.Name == form {
				show.Action, show.Factor = actionUpscale, factor
			}
		}
	}
	return show
}

// watchAlchemy polls an interrogation until every form is finished,
// editing its message when its state changes, then delivers the result.
func (s *Set) watchAlchemy(ctx context.Context, d delivery) {
	if s.alchemy == nil || d.Alchemy == nil {
		s.log.Error("cannot watch an interrogation: alchemy is off or the delivery is not one", "interrogation", d.RequestID)
		return
	}
	last := ""
	for {
		in, err := s.alchemy.InterrogationStatus(ctx, d.RequestID)
		switch {
		case ctx.Err() != nil:
			return
		case horde.IsKind(err, horde.KindNotFound):
			s.deliver(ctx, d, interact.Reply{Content: d.alchemyText("gone", locale.Args{"User": d.UserID})})
			return
		case err != nil:
			s.log.Error("interrogation status", "interrogation", d.RequestID, "err", err)
		case alchemyFinished(in):
			s.deliver(ctx, d, s.alchemyResult(ctx, d, in))
			return
		default:
			if text := alchemyProgress(d, in); text != last && s.tokenFresh(d) {
				if err := s.editOriginal(ctx, d, interact.Reply{Content: text}); err != nil {
					s.log.Warn("alchemy progress edit failed", "interrogation", d.RequestID, "err", err)
				} else {
					last = text
				}
			}
		}
		t := time.NewTimer(s.cfg.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// alchemyFinished reports whether no form of in is waiting or processing.
func alchemyFinished(in horde.Interrogation) bool {
	for _, f := range in.Forms {
		if !f.State.Finished() {
			return false
		}
	}
	return true
}

// alchemyText words message what (alchemy.<what>.<action>) of d's
// interrogation in the requester's language, with what it is done to
// (What) and the upscale factor (Factor) among its values.
func (d delivery) alchemyText(what string, data locale.Args) string {
	action, factor := "other", 0
	if d.Alchemy != nil && (d.Alchemy.Action == actionDescribe || d.Alchemy.Action == actionUpscale) {
		action, factor = d.Alchemy.Action, d.Alchemy.Factor
	}
	args := locale.Args{"What": d.Prompt, "Factor": factor}
	for k, v := range data {
		args[k] = v
	}
	return d.printer().T("alchemy."+what+"."+action, args)
}

// alchemyProgress is the message shown while an interrogation waits or runs.
func alchemyProgress(d delivery, in horde.Interrogation) string {
	if in.State() == horde.InterrogationProcessing {
		return "🧪 " + d.alchemyText("working", nil)
	}
	return "⏳ " + d.alchemyText("queued", nil)
}

// alchemyResult is the finished interrogation's message.
func (s *Set) alchemyResult(ctx context.Context, d delivery, in horde.Interrogation) interact.Reply {
	var spent int64
	var failed []string
	for _, f := range in.Forms {
		if f.State == horde.FormDone {
			spent += f.Cost
		} else {
			failed = append(failed, f.Name)
		}
	}
	who := "<@" + d.UserID + ">"
	if len(failed) == len(in.Forms) {
		return interact.Reply{Content: d.alchemyText("failed", locale.Args{"User": d.UserID, "Forms": strings.Join(failed, ", ")})}
	}
	var r interact.Reply
	switch d.Alchemy.Action {
	case actionUpscale:
		r = s.upscaledReply(ctx, d, in, who)
	default:
		r = describedReply(d, in, who)
	}
	pr := d.printer()
	r.Content += " · " + pr.T("result.kudos", locale.Args{"Kudos": spent})
	if len(failed) > 0 {
		r.Content += "\n" + pr.T("alchemy.unfinished", locale.Args{"Forms": strings.Join(failed, ", ")})
	}
	return r
}

// describedReply shows the caption and the interrogation's best phrases.
func describedReply(d delivery, in horde.Interrogation, who string) interact.Reply {
	var b strings.Builder
	pr := d.printer()
	b.WriteString("📝 " + pr.T("alchemy.described", locale.Args{"User": d.UserID, "What": d.Prompt}))
	for _, f := range in.Forms {
		if f.State != horde.FormDone {
			continue
		}
		var res map[string]json.RawMessage
		if json.Unmarshal([]byte(f.Result), &res) != nil {
			continue
		}
		switch f.Name {
		case aihorde.FormCaption:
			var caption string
			if json.Unmarshal(res[aihorde.FormCaption], &caption) == nil && caption != "" {
				fmt.Fprintf(&b, "\n> %s", clip(strings.ReplaceAll(caption, "\n", " "), 800))
			}
		case aihorde.FormInterrogation:
			var det aihorde.InterrogationDetails
			if json.Unmarshal(res[aihorde.FormInterrogation], &det) == nil {
				if line := interrogationLine(det); line != "" {
					b.WriteString("\n" + pr.T("alchemy.tags", locale.Args{"Tags": clip(line, 800)}))
				}
			}
		}
	}
	return interact.Reply{Content: b.String()}
}

// interrogationLine lists an interrogation's phrases, best first, with
// their confidence: "green (0.82), bright (0.64), ...", at most 12.
func interrogationLine(d aihorde.InterrogationDetails) string {
	var all []aihorde.InterrogationItem
	for _, items := range [][]aihorde.InterrogationItem{d.Tags, d.Artists, d.Mediums, d.Movements, d.Flavors, d.Techniques, d.Sites} {
		all = append(all, items...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Confidence > all[j].Confidence })
	var parts []string
	for _, it := range all {
		if strings.TrimSpace(it.Text) == "" {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s (%.2f)", strings.TrimSpace(it.Text), it.Confidence))
		if len(parts) == 12 {
			break
		}
	}
	return strings.Join(parts, ", ")
}

// upscaledReply posts the upscaled image, re-encoded smaller only when it
// does not fit the message's file limit.
func (s *Set) upscaledReply(ctx context.Context, d delivery, in horde.Interrogation, who string) interact.Reply {
	for _, f := range in.Forms {
		if f.State != horde.FormDone || f.BlobRef == "" {
			continue
		}
		data, err := s.horde.Blob(ctx, f.BlobRef)
		if err != nil {
			s.log.Error("read upscaled image", "interrogation", in.ID, "err", err)
			break
		}
		w, h, format, err := imagecheck.Inspect(data)
		if err != nil || w*h > maxUpscaledPixels {
			s.log.Error("upscaled image unusable", "interrogation", in.ID, "size", fmt.Sprintf("%dx%d", w, h), "err", err)
			break
		}
		ext, note := format, ""
		if len(data) > s.cfg.MaxFileBytes {
			dec := DecodeImages([][]byte{data})[0]
			if dec.Err != nil {
				s.log.Error("decode upscaled image", "interrogation", in.ID, "err", dec.Err)
				break
			}
			if data, ext, err = EncodeWithin(dec.Image, s.cfg.MaxFileBytes); err != nil {
				s.log.Error("fit upscaled image", "interrogation", in.ID, "err", err)
				break
			}
			note = " " + d.printer().T("alchemy.reencoded", nil)
		}
		if ext == "jpeg" {
			ext = "jpg"
		}
		return interact.Reply{
			Content: "🔍 " + d.printer().T("alchemy.upscaled", locale.Args{"User": d.UserID, "What": d.Prompt, "Factor": d.Alchemy.Factor,
				"Width": w, "Height": h}) + note,
			Files: []*discordgo.File{{Name: fmt.Sprintf("upscaled-%s.%s", shortID(in.ID), ext), ContentType: "image/" + mimeSub(ext), Reader: bytes.NewReader(data)}},
		}
	}
	return interact.Reply{Content: d.printer().T("alchemy.upscale_unreadable", locale.Args{"User": d.UserID, "What": d.Prompt})}
}

package commands

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/bot/membersettings"
	"github.com/hordebot/hordebot/horde"
)

// settingsReadTimeout bounds the settings read that chooses a public or a
// private deferral: it runs within Discord's 3 s answer window.
const settingsReadTimeout = time.Second

// settingsOf returns the caller's /settings: none without a settings
// store or for the anonymous user.
func (s *Set) settingsOf(ctx context.Context, ix *interact.Interaction) (membersettings.Settings, error) {
	if s.settings == nil || ix.User.Anonymous() {
		return membersettings.Settings{}, nil
	}
	ms, err := s.settings.MemberSettings(ctx, ix.User.ID)
	if err != nil {
		return membersettings.Settings{}, fmt.Errorf("read settings of %d: %w", ix.User.ID, err)
	}
	return ms, nil
}

// deferGenerate acknowledges a command or button that makes a request:
// privately when the caller's /settings ask for private results, or when
// the button is on a private result; publicly otherwise. When the settings
// cannot be read in time it defers privately: a member who asked for
// privacy is never shown in public by a slow database.
func (s *Set) deferGenerate(ix *interact.Interaction) interact.DeferMode {
	if onPrivateMessage(ix) {
		return interact.DeferEphemeral
	}
	if s.settings == nil {
		return interact.DeferPublic
	}
	ctx, cancel := context.WithTimeout(context.Background(), settingsReadTimeout)
	defer cancel()
	ms, err := s.settings.MemberSettingsOfDiscordUser(ctx, ix.Caller.ID)
	if err != nil {
		s.log.Warn("read settings for the deferral; answering privately", "user", ix.Caller.ID, "err", err)
		return interact.DeferEphemeral
	}
	if ms.Private {
		return interact.DeferEphemeral
	}
	return interact.DeferPublic
}

// deferLikeMessage acknowledges a button as its message is seen: privately
// on a private (ephemeral) result, publicly otherwise.
func deferLikeMessage(ix *interact.Interaction) interact.DeferMode {
	if onPrivateMessage(ix) {
		return interact.DeferEphemeral
	}
	return interact.DeferPublic
}

// onPrivateMessage reports whether the interaction is a button on an
// ephemeral message.
func onPrivateMessage(ix *interact.Interaction) bool {
	return ix.I.Message != nil && ix.I.Message.Flags&discordgo.MessageFlagsEphemeral != 0
}

// fromSettings records which of a request's options came from the
// member's /settings (by /imagine or /write option name).
type fromSettings map[string]bool

// given is the "given" of submitLimited: an option counts as asked for
// when the member typed it or their settings set it, so that a setting a
// role does not allow is refused (with the reason), not silently lowered.
func (f fromSettings) given(o interact.Options) func(string) bool {
	return func(name string) bool { return o.Has(name) || f[name] }
}

// imageSettings applies the caller's /settings and style to an /imagine
// request built from the options (imagineRequest): each setting fills an
// option the member left out; then the style (the style option, else the
// setting; "none" for none) is applied as an API request's style is
// (withStyle: what the member typed still wins); then the NSFW preference,
// only in an age-restricted channel. It returns which options came from
// the settings.
func (s *Set) imageSettings(ctx context.Context, ix *interact.Interaction, o interact.Options, ms membersettings.Settings, nr *horde.NewRequest) (fromSettings, error) {
	from := fromSettings{}
	p := nr.Image
	if ms.ImageModel != "" && !o.Has("model") {
		nr.Models, from["model"] = []string{ms.ImageModel}, true
	}
	if ms.Width > 0 && ms.Height > 0 && !o.Has("size") {
		p.Width, p.Height, from["size"] = ms.Width, ms.Height, true
	}
	if ms.Steps > 0 && !o.Has("steps") {
		p.Steps, from["steps"] = ms.Steps, true
	}
	if ms.Sampler != "" {
		p.SamplerName = ms.Sampler
	}
	if ms.CFGScale > 0 {
		p.CFGScale = ms.CFGScale
	}

	ref, fromSetting := o.String("style", ""), false
	if ref == "" && ms.StyleID != "" {
		ref, fromSetting = ms.StyleID, true
	}
	if ref != "" && ref != noStyle {
		sty, use, err := s.findStyle(ctx, ix, ref)
		if fromSetting && isNotFound(err) {
			return nil, horde.NotFoundf("StyleNotFound", "Your default style (from /settings) no longer exists. Pick another with `/settings set style`, or `/settings reset field:style`.").InCase("default")
		}
		if err != nil {
			return nil, err
		}
		if sty.NSFW && !o.Has("nsfw") {
			if err := s.requireNSFWChannel(ctx, ix); err != nil {
				return nil, horde.Errorf(horde.KindForbidden, "NSFWStyle", "The style %s makes NSFW images: use it in an age-restricted channel.", horde.QuoteInput(sty.Name)).
					With("Name", horde.QuoteInput(sty.Name))
			}
		}
		styled, err := s.withStyle(*nr, sty, use, o)
		if err != nil {
			return nil, err
		}
		*nr = styled
		// The style's model replaces the setting's: only the style's
		// own values are left for the role limits to judge.
		delete(from, "model")
		if !o.Has("size") {
			delete(from, "size")
		}
		delete(from, "steps")
		if fromSetting {
			from["style"] = true
		}
	}

	if ms.NSFW && !o.Has("nsfw") && !nr.NSFW && ix.InGuild() {
		ch, err := s.channel(ctx, ix.S, ix.I.ChannelID)
		if err != nil {
			return nil, fmt.Errorf("look up channel %s: %w", ix.I.ChannelID, err)
		}
		if ch.NSFW {
			nr.NSFW, from["nsfw"] = true, true
		}
	}
	return from, nil
}

// textSettings applies the caller's /settings to a /write request: its
// model and max_length fill the options the member left out.
func textSettings(o interact.Options, ms membersettings.Settings, nr *horde.NewRequest) fromSettings {
	from := fromSettings{}
	if ms.TextModel != "" && !o.Has("model") {
		nr.Models, from["model"] = []string{ms.TextModel}, true
	}
	if ms.MaxLength > 0 && !o.Has("max_length") {
		nr.Text.MaxLength, from["max_length"] = ms.MaxLength, true
	}
	return from
}

// roleLimitFields are the settings fields behind each role-limit refusal.
var roleLimitFields = map[string][]string{
	"RoleSteps":  {"steps"},
	"RoleSize":   {"size"},
	"RoleModel":  {"model", "style"},
	"RoleNSFW":   {"nsfw", "style"},
	"RoleLength": {"max_length"},
}

// explainSettings adds to a role-limit refusal of a value that came from
// the member's /settings how to change it (in pr's language: the error's
// Settings): the member did not type it.
func explainSettings(pr *locale.Printer, err error, from fromSettings) error {
	var he *horde.Error
	if !errors.As(err, &he) || he.Kind != horde.KindForbidden {
		return err
	}
	for _, f := range roleLimitFields[he.Code] {
		if from[f] {
			field := f
			if field == "model" && from["style"] {
				field = "style"
			}
			out := he.With("Settings", " "+pr.T("error.role_limits.settings", locale.Args{"Field": field}))
			out.Message = he.Message + " It comes from your /settings (" + field + "): change it with `/settings set " + field + "` or `/settings reset field:" + field + "`."
			return out
		}
	}
	return err
}

package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/bot/membersettings"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// The /settings fields: the option names of /settings set, which are also
// the names /settings reset takes and /settings show prints.
const (
	setModel      = "model"
	setSize       = "size"
	setSteps      = "steps"
	setSampler    = "sampler"
	setCFG        = "cfg"
	setStyle      = "style"
	setNSFW       = "nsfw"
	setPrivate    = "private"
	setTextModel  = "write_model"
	setMaxLength  = "max_length"
	resetEverying = "all"
)

// settingsFields are the fields in the order /settings show lists them.
var settingsFields = []string{setModel, setSize, setSteps, setSampler, setCFG, setStyle, setNSFW, setPrivate, setTextModel, setMaxLength}

// settingsCommand is /settings: a member's defaults for /imagine and
// /write (and the rerun buttons), shown with show, changed with set (one
// subcommand, every field an optional option: "/settings set steps:40
// sampler:k_euler"), cleared with reset. Every answer is ephemeral.
func (s *Set) settingsCommand() *Command {
	stepsMin, stepsMax := 1.0, float64(maxSteps)
	cfgMin, cfgMax := aihorde.MinCFGScale, aihorde.MaxCFGScale
	lenMin, lenMax := float64(aihorde.MinMaxLength), float64(maxWriteLength)
	sizes := make([]*discordgo.ApplicationCommandOptionChoice, len(imageSizes))
	for i, z := range imageSizes {
		sizes[i] = &discordgo.ApplicationCommandOptionChoice{Name: fmt.Sprintf("%s %dx%d", z.Name, z.Width, z.Height), Value: z.Name}
	}
	fields := make([]*discordgo.ApplicationCommandOptionChoice, 0, len(settingsFields)+1)
	fields = append(fields, &discordgo.ApplicationCommandOptionChoice{Name: "everything", Value: resetEverying})
	for _, f := range settingsFields {
		fields = append(fields, &discordgo.ApplicationCommandOptionChoice{Name: f, Value: f})
	}
	return &Command{
		Def: &discordgo.ApplicationCommand{
			Name:        "settings",
			Description: "Your defaults for /imagine and /write",
			Options: []*discordgo.ApplicationCommandOption{
				subCommand("show", "Your defaults"),
				subCommand("set", "Change some of your defaults: only the options given change",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: setModel, Description: "/imagine's model", Autocomplete: true, MaxLength: aihorde.MaxNameLength},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: setSize, Description: "/imagine's size", Choices: sizes},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: setSteps, Description: "/imagine's sampling steps", MinValue: &stepsMin, MaxValue: stepsMax},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: setSampler, Description: "/imagine's sampler", Autocomplete: true, MaxLength: aihorde.MaxSamplerLength},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionNumber, Name: setCFG, Description: "/imagine's CFG scale", MinValue: &cfgMin, MaxValue: cfgMax},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: setStyle, Description: "/imagine's style", Autocomplete: true, MaxLength: maxStyleRef},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionBoolean, Name: setNSFW, Description: "Allow NSFW images in age-restricted channels (never elsewhere)"},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionBoolean, Name: setPrivate, Description: "Send your results only to you (ephemeral)"},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: setTextModel, Description: "/write's model", Autocomplete: true, MaxLength: aihorde.MaxNameLength},
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: setMaxLength, Description: "/write's longest output, in tokens", MinValue: &lenMin, MaxValue: lenMax},
				),
				subCommand("reset", "Back to the defaults: one field, or everything",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "field", Description: "What to reset (default: everything)", Choices: fields}),
			},
		},
		Defer:  deferAlways(interact.DeferEphemeral),
		Handle: s.handleSettings,
		Autocomplete: autocompleteBy(map[string]choicesFunc{
			setModel:     s.modelChoices(horde.KindImage),
			setTextModel: s.modelChoices(horde.KindText),
			setSampler:   samplerChoices,
			setStyle:     s.styleChoices(false),
		}),
	}
}

func (s *Set) handleSettings(ctx context.Context, ix *interact.Interaction) error {
	if ix.User.Anonymous() {
		return horde.Errorf(horde.KindForbidden, "SettingsAnonymous", "The anonymous user has no settings.")
	}
	o := interact.ParseOptions(ix.I)
	ms, err := s.settings.MemberSettings(ctx, ix.User.ID)
	if err != nil {
		return fmt.Errorf("read settings of %d: %w", ix.User.ID, err)
	}
	switch o.Sub {
	case "show":
		return ix.Reply(ctx, interact.Reply{Content: s.describeSettings(ctx, ix.Printer(), ms)})
	case "set":
		notes, err := s.setSettings(ctx, ix, o, &ms)
		if err != nil {
			return err
		}
		if err := s.settings.SetMemberSettings(ctx, ix.User.ID, ms); err != nil {
			return fmt.Errorf("save settings of %d: %w", ix.User.ID, err)
		}
		text := "✅ " + ix.T("settings.saved", nil) + "\n" + s.describeSettings(ctx, ix.Printer(), ms)
		for _, n := range notes {
			text += "\nℹ️ " + n
		}
		return ix.Reply(ctx, interact.Reply{Content: text})
	case "reset":
		field := o.String("field", resetEverying)
		if field == resetEverying {
			ms = membersettings.Settings{}
		} else if !resetField(&ms, field) {
			return horde.Invalidf("field", "There is no setting %s.", horde.QuoteInput(field)).InCase("setting").With("Name", horde.QuoteInput(field))
		}
		if err := s.settings.SetMemberSettings(ctx, ix.User.ID, ms); err != nil {
			return fmt.Errorf("save settings of %d: %w", ix.User.ID, err)
		}
		return ix.Reply(ctx, interact.Reply{Content: "✅ " + ix.T("settings.reset", nil) + "\n" + s.describeSettings(ctx, ix.Printer(), ms)})
	default:
		return unknownSubcommand(ix, o.Sub)
	}
}

// setSettings puts the options of /settings set into ms, refusing a value
// the commands would refuse (the same ranges) or the caller's roles do not
// allow (role_limits.go), so that a setting never fails later for a
// reason known now. It returns notes worth telling (a model no online
// worker serves now).
func (s *Set) setSettings(ctx context.Context, ix *interact.Interaction, o interact.Options, ms *membersettings.Settings) ([]string, error) {
	given := false
	for _, f := range settingsFields {
		given = given || o.Has(f)
	}
	if !given {
		return nil, horde.Invalidf("", "Give at least one setting to change, e.g. `/settings set steps:40`.").InCase("settings_none")
	}
	var notes []string
	next := *ms
	if o.Has(setModel) {
		next.ImageModel = o.String(setModel, "")
		if note, err := s.modelNote(ctx, ix.Printer(), horde.KindImage, next.ImageModel, setModel); err != nil {
			return nil, err
		} else if note != "" {
			notes = append(notes, note)
		}
	}
	if o.Has(setSize) {
		z, ok := findSize(o.String(setSize, ""))
		if !ok {
			return nil, horde.Invalidf(setSize, "unknown size %s", horde.QuoteInput(o.String(setSize, ""))).InCase("size").With("Size", horde.QuoteInput(o.String(setSize, "")))
		}
		next.Width, next.Height = z.Width, z.Height
	}
	if o.Has(setSteps) {
		next.Steps = int(o.Int(setSteps, 0))
		if next.Steps < 1 || next.Steps > maxSteps {
			return nil, horde.Invalidf(setSteps, "steps must be between 1 and %d", maxSteps).InCase("steps").With("Max", maxSteps)
		}
	}
	if o.Has(setSampler) {
		sampler, err := knownSampler(o.String(setSampler, ""))
		if err != nil {
			return nil, err
		}
		next.Sampler = sampler
	}
	if o.Has(setCFG) {
		next.CFGScale = o.Number(setCFG, 0)
		if next.CFGScale < aihorde.MinCFGScale || next.CFGScale > aihorde.MaxCFGScale || next.CFGScale == 0 {
			return nil, horde.Invalidf(setCFG, "cfg must be above %g and at most %g", aihorde.MinCFGScale, aihorde.MaxCFGScale).InCase("cfg").
				With("Min", ix.Printer().Decimal(aihorde.MinCFGScale, -1)).With("Max", ix.Printer().Decimal(aihorde.MaxCFGScale, -1))
		}
	}
	var style *horde.Style
	if o.Has(setStyle) {
		sty, _, err := s.findStyle(ctx, ix, o.String(setStyle, ""))
		if err != nil {
			return nil, err
		}
		next.StyleID, style = sty.ID, &sty
	}
	next.NSFW = o.Bool(setNSFW, next.NSFW)
	next.Private = o.Bool(setPrivate, next.Private)
	if o.Has(setTextModel) {
		next.TextModel = o.String(setTextModel, "")
		if note, err := s.modelNote(ctx, ix.Printer(), horde.KindText, next.TextModel, setTextModel); err != nil {
			return nil, err
		} else if note != "" {
			notes = append(notes, note)
		}
	}
	if o.Has(setMaxLength) {
		next.MaxLength = int(o.Int(setMaxLength, 0))
		if next.MaxLength < aihorde.MinMaxLength || next.MaxLength > maxWriteLength {
			return nil, horde.Invalidf(setMaxLength, "max_length must be between %d and %d", aihorde.MinMaxLength, maxWriteLength).InCase("max_length").
				With("Min", aihorde.MinMaxLength).With("Max", maxWriteLength)
		}
	}
	if err := s.settingsAllowed(ix, next, style); err != nil {
		return nil, err
	}
	*ms = next
	return notes, nil
}

// settingsAllowed holds settings to the caller's role limits: what a role
// does not allow is refused now, naming the roles that would allow it,
// not applied later only to be refused.
func (s *Set) settingsAllowed(ix *interact.Interaction, ms membersettings.Settings, style *horde.Style) error {
	l, on := s.limitsFor(ix)
	if !on {
		return nil
	}
	img := horde.NewRequest{Kind: horde.KindImage, N: 1, NSFW: ms.NSFW,
		Image: &horde.ImageParams{Width: ms.Width, Height: ms.Height, Steps: ms.Steps}}
	if ms.ImageModel != "" {
		img.Models = []string{ms.ImageModel}
	}
	if style != nil {
		img.Models = append(img.Models, style.Models...)
		img.NSFW = img.NSFW || style.NSFW
	}
	if err := s.cfg.RoleLimits.check(ix.Printer(), l, img); err != nil {
		return err
	}
	txt := horde.NewRequest{Kind: horde.KindText, N: 1, Text: &horde.TextParams{MaxLength: ms.MaxLength}}
	if ms.TextModel != "" {
		txt.Models = []string{ms.TextModel}
	}
	return s.cfg.RoleLimits.check(ix.Printer(), l, txt)
}

// modelNote checks a model name for a setting: a name the horde would
// refuse is refused; one no online worker serves now is kept, with a note.
func (s *Set) modelNote(ctx context.Context, pr *locale.Printer, kind horde.RequestKind, name, field string) (string, error) {
	if name == "" || len(name) > aihorde.MaxNameLength {
		return "", horde.Invalidf(field, "a model name has 1 to %d characters", aihorde.MaxNameLength).InCase("model_name").With("Max", aihorde.MaxNameLength)
	}
	models, err := s.horde.Models(ctx, kind)
	if err != nil {
		return "", fmt.Errorf("list %s models: %w", kind, err)
	}
	for _, m := range models {
		if strings.EqualFold(m.Name, name) {
			return "", nil
		}
	}
	return pr.T("settings.model_offline", locale.Args{"Model": horde.QuoteInput(name)}), nil
}

// knownSampler is the sampler of that name (any case) among the AI Horde's.
func knownSampler(name string) (string, error) {
	for _, k := range aihorde.KnownSamplers {
		if strings.EqualFold(k, strings.TrimSpace(name)) {
			return k, nil
		}
	}
	return "", horde.Invalidf("sampler", "unknown sampler %s; pick one from the list (%s)", horde.QuoteInput(name), strings.Join(aihorde.KnownSamplers, ", ")).
		InCase("sampler").With("Name", horde.QuoteInput(name)).With("Samplers", strings.Join(aihorde.KnownSamplers, ", "))
}

// samplerChoices autocompletes a sampler from the AI Horde's.
func samplerChoices(_ context.Context, ix *interact.Interaction) ([]*discordgo.ApplicationCommandOptionChoice, error) {
	typed := strings.ToLower(focusedText(ix))
	var out []*discordgo.ApplicationCommandOptionChoice
	for _, k := range aihorde.KnownSamplers {
		if strings.Contains(strings.ToLower(k), typed) {
			out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: k, Value: k})
		}
	}
	return out, nil
}

// resetField clears one field; false if there is no such field.
func resetField(ms *membersettings.Settings, field string) bool {
	switch field {
	case setModel:
		ms.ImageModel = ""
	case setSize:
		ms.Width, ms.Height = 0, 0
	case setSteps:
		ms.Steps = 0
	case setSampler:
		ms.Sampler = ""
	case setCFG:
		ms.CFGScale = 0
	case setStyle:
		ms.StyleID = ""
	case setNSFW:
		ms.NSFW = false
	case setPrivate:
		ms.Private = false
	case setTextModel:
		ms.TextModel = ""
	case setMaxLength:
		ms.MaxLength = 0
	default:
		return false
	}
	return true
}

// describeSettings lists a member's settings, each with the default that
// applies when it is not set, in p's language.
func (s *Set) describeSettings(ctx context.Context, p *locale.Printer, ms membersettings.Settings) string {
	or := func(v, def string) string {
		if v == "" {
			return "— (" + def + ")"
		}
		return "**" + v + "**"
	}
	num := func(v int) string {
		if v == 0 {
			return ""
		}
		return strconv.Itoa(v)
	}
	size := ""
	if ms.Width > 0 {
		size = fmt.Sprintf("%dx%d", ms.Width, ms.Height)
		for _, z := range imageSizes {
			if z.Width == ms.Width && z.Height == ms.Height {
				size = fmt.Sprintf("%s %s", p.T("size."+z.Name, nil), size)
			}
		}
	}
	cfg := ""
	if ms.CFGScale != 0 {
		cfg = p.Decimal(ms.CFGScale, -1)
	}
	style := ""
	if ms.StyleID != "" {
		style = p.T("settings.style_deleted", nil)
		if s.styles != nil {
			if st, err := s.styles.Style(ctx, ms.StyleID); err == nil {
				style = st.Name
			}
		}
	}
	yes := func(b bool) string {
		if b {
			return p.T("common.yes", nil)
		}
		return ""
	}
	anyModel := p.T("settings.any_model", nil)
	var b strings.Builder
	b.WriteString("⚙️ " + p.T("settings.title", nil) + "\n")
	b.WriteString(p.T("settings.show.model", locale.Args{"Model": or(ms.ImageModel, anyModel)}) + "\n")
	b.WriteString(p.T("settings.show.size", locale.Args{"Size": or(size, fmt.Sprintf("%s %dx%d", p.T("size.square", nil), aihorde.DefaultWidth, aihorde.DefaultHeight))}) + "\n")
	b.WriteString(p.T("settings.show.sampling", locale.Args{"Steps": or(num(ms.Steps), strconv.Itoa(aihorde.DefaultSteps)),
		"Sampler": or(ms.Sampler, aihorde.DefaultSampler), "CFG": or(cfg, p.Decimal(aihorde.DefaultCFGScale, -1))}) + "\n")
	b.WriteString(p.T("settings.show.style", locale.Args{"Style": or(style, p.T("common.none", nil))}) + "\n")
	b.WriteString(p.T("settings.show.nsfw_private", locale.Args{"NSFW": or(yes(ms.NSFW), p.T("settings.nsfw_default", nil)),
		"Private": or(yes(ms.Private), p.T("common.no", nil))}) + "\n")
	b.WriteString(p.T("settings.show.write", locale.Args{"Model": or(ms.TextModel, anyModel), "MaxLength": or(num(ms.MaxLength), strconv.Itoa(defaultMaxLength))}))
	return b.String()
}

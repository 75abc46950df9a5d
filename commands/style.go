package commands

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// stylesPerListPage is how many styles one /style list answer shows: a
// line each, well within a message's 2000 characters.
const stylesPerListPage = 15

// Discord's length limits on /style's text options (the horde's own limits
// are checked by Styles.Validate).
const (
	maxStylePromptOption = 1000
	maxStyleInfoOption   = 500
)

// styleCommand is /style: the horde's image styles, which /imagine style
// applies. Members holding a style manager role (Config.StyleManagerRoleIDs),
// moderators and the horde's trusted users create and edit them; a style's
// creator or a moderator deletes it; anyone lists and shows them.
func (s *Set) styleCommand() *Command {
	stepsMin, stepsMax := float64(aihorde.MinSteps), float64(aihorde.MaxSteps)
	cfgMin, cfgMax := aihorde.MinCFGScale, aihorde.MaxCFGScale
	sideMin, sideMax := float64(aihorde.MinSide), float64(aihorde.MaxSide)
	one := 1.0
	target := func(desc string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "style", Description: desc, Required: true, Autocomplete: true, MaxLength: maxStyleRef}
	}
	fields := func(create bool) []*discordgo.ApplicationCommandOption {
		return []*discordgo.ApplicationCommandOption{
			{Type: discordgo.ApplicationCommandOptionString, Name: "prompt", Description: "The template: {p} is where the member's prompt goes", Required: create, MaxLength: maxStylePromptOption},
			{Type: discordgo.ApplicationCommandOptionString, Name: "model", Description: "The model the style is made for", Required: create, Autocomplete: true, MaxLength: aihorde.MaxNameLength},
			{Type: discordgo.ApplicationCommandOptionString, Name: "negative", Description: "What the style avoids (before the member's own negative prompt)", MaxLength: maxStylePromptOption},
			{Type: discordgo.ApplicationCommandOptionInteger, Name: "steps", Description: "Sampling steps", MinValue: &stepsMin, MaxValue: stepsMax},
			{Type: discordgo.ApplicationCommandOptionNumber, Name: "cfg", Description: "CFG scale: how closely to follow the prompt", MinValue: &cfgMin, MaxValue: cfgMax},
			{Type: discordgo.ApplicationCommandOptionString, Name: "sampler", Description: "Sampler", Autocomplete: true, MaxLength: aihorde.MaxSamplerLength},
			{Type: discordgo.ApplicationCommandOptionInteger, Name: "width", Description: "Width in pixels (a multiple of 64); unset: the member's", MinValue: &sideMin, MaxValue: sideMax},
			{Type: discordgo.ApplicationCommandOptionInteger, Name: "height", Description: "Height in pixels (a multiple of 64); unset: the member's", MinValue: &sideMin, MaxValue: sideMax},
			{Type: discordgo.ApplicationCommandOptionBoolean, Name: "public", Description: "Listed for everyone (default yes); a private style is yours alone"},
			{Type: discordgo.ApplicationCommandOptionBoolean, Name: "nsfw", Description: "The style makes NSFW images (age-restricted channels only)"},
			{Type: discordgo.ApplicationCommandOptionString, Name: "info", Description: "A short description", MaxLength: maxStyleInfoOption},
		}
	}
	name := func(required bool, desc string) *discordgo.ApplicationCommandOption {
		return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionString, Name: "name", Description: desc, Required: required, MaxLength: horde.MaxStyleNameLength}
	}
	return &Command{
		Def: &discordgo.ApplicationCommand{
			Name:        "style",
			Description: "The horde's image styles: prompt templates with their model and settings",
			Options: []*discordgo.ApplicationCommandOption{
				subCommand("create", "Create a style (style managers and moderators)", append([]*discordgo.ApplicationCommandOption{name(true, "The style's name")}, fields(true)...)...),
				subCommand("edit", "Change a style you made: only the options given change", append([]*discordgo.ApplicationCommandOption{target("The style to change"), name(false, "A new name")}, fields(false)...)...),
				subCommand("delete", "Delete a style you made", target("The style to delete")),
				subCommand("list", "The styles you can use, most used first",
					&discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionInteger, Name: "page", Description: "Page", MinValue: &one}),
				subCommand("show", "A style's template and settings", target("The style")),
			},
		},
		Defer:  deferAlways(interact.DeferEphemeral),
		Handle: s.handleStyle,
		Autocomplete: autocompleteBy(map[string]choicesFunc{
			"style":   s.styleTarget,
			"model":   s.modelChoices(horde.KindImage),
			"sampler": samplerChoices,
		}),
	}
}

// styleTarget autocompletes /style's style option: for edit and delete
// the styles the caller may change, for show any they may use.
func (s *Set) styleTarget(ctx context.Context, ix *interact.Interaction) ([]*discordgo.ApplicationCommandOptionChoice, error) {
	sub := interact.ParseOptions(ix.I).Sub
	return s.styleChoices(sub == "edit" || sub == "delete")(ctx, ix)
}

func (s *Set) handleStyle(ctx context.Context, ix *interact.Interaction) error {
	if s.styles == nil {
		return stylesDisabled()
	}
	o := interact.ParseOptions(ix.I)
	switch o.Sub {
	case "create":
		return s.createStyle(ctx, ix, o)
	case "edit":
		return s.editStyle(ctx, ix, o)
	case "delete":
		return s.deleteStyle(ctx, ix, o)
	case "list":
		return s.listStyles(ctx, ix, o)
	case "show":
		return s.showStyle(ctx, ix, o)
	default:
		return unknownSubcommand(ix, o.Sub)
	}
}

// mayModerateStyles reports whether the caller may change anyone's style:
// a moderator of the guild or of the horde.
func (s *Set) mayModerateStyles(ix *interact.Interaction) bool {
	return s.IsModerator(ix.Member) || ix.User.Moderator
}

// mayManageStyles reports whether the caller may create and edit styles: a
// holder of a style manager role, a moderator, or a user the horde trusts
// (who may through the API too).
func (s *Set) mayManageStyles(ix *interact.Interaction) bool {
	if s.mayModerateStyles(ix) || horde.MayEditStyles(ix.User) {
		return true
	}
	if ix.Member == nil {
		return false
	}
	return slices.ContainsFunc(ix.Member.Roles, func(r string) bool { return slices.Contains(s.cfg.StyleManagerRoleIDs, r) })
}

// refuseStyleManaging is the refusal of /style create or edit, naming the
// roles that may.
func (s *Set) refuseStyleManaging() error {
	if len(s.cfg.StyleManagerRoleIDs) == 0 {
		return horde.Errorf(horde.KindForbidden, "StyleManagerRole", "Only moderators can create or change styles.")
	}
	roles := make([]string, len(s.cfg.StyleManagerRoleIDs))
	for i, r := range s.cfg.StyleManagerRoleIDs {
		roles[i] = "<@&" + r + ">"
	}
	return horde.Errorf(horde.KindForbidden, "StyleManagerRole", "Only members with the role %s and moderators can create or change styles.",
		strings.Join(roles, " or ")).InCase("roles").With("Roles", strings.Join(roles, ", "))
}

// styleTemplate composes a style's prompt template from /style's prompt
// and negative: "{p}, oil painting" and "blurry" make
// "{p}, oil painting ### blurry, {np}", where {np} is the member's own
// negative prompt. A prompt that places "###" or "{np}" itself is kept as
// it is (with "{np}" added after its negative part when it has none).
func styleTemplate(prompt, negative string) (string, error) {
	prompt, negative = strings.TrimSpace(prompt), strings.TrimSpace(negative)
	if !strings.Contains(prompt, "{p}") {
		return "", &horde.Error{Kind: horde.KindInvalid, Code: "StylePromptMissingVars", Field: "prompt",
			Message: "The prompt must contain {p}, where the member's prompt goes (for example `{p}, oil painting`)."}
	}
	custom := strings.Contains(prompt, "###") || strings.Contains(prompt, "{np}")
	switch {
	case custom && negative != "":
		return "", &horde.Error{Kind: horde.KindInvalid, Code: "StyleNegativeTwice", Field: "negative",
			Message: "The prompt already has a negative part (after ###); put the negative there or in `negative`, not both."}
	case strings.Contains(prompt, "{np}"):
		return prompt, nil
	case custom:
		return prompt + ", {np}", nil
	case negative != "":
		return prompt + " ### " + negative + ", {np}", nil
	default:
		return prompt + "{np}", nil
	}
}

// splitTemplate is the prompt and negative of a template as /style shows
// and edits them (the inverse of styleTemplate).
func splitTemplate(template string) (prompt, negative string) {
	prompt, negative, _ = strings.Cut(template, "###")
	prompt = strings.TrimSpace(strings.Replace(prompt, "{np}", "", 1))
	negative = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(strings.Replace(negative, "{np}", "", 1)), ","))
	return prompt, negative
}

// styleParams sets the given options in a style's params (the AI Horde's
// image params object).
func styleParams(current []byte, o interact.Options) ([]byte, error) {
	params := map[string]any{}
	if len(current) > 0 {
		if err := json.Unmarshal(current, &params); err != nil {
			return nil, fmt.Errorf("decode style params: %w", err)
		}
	}
	if o.Has("steps") {
		params["steps"] = o.Int("steps", aihorde.DefaultSteps)
	}
	if o.Has("cfg") {
		params["cfg_scale"] = o.Number("cfg", aihorde.DefaultCFGScale)
	}
	if o.Has("sampler") {
		sampler, err := knownSampler(o.String("sampler", ""))
		if err != nil {
			return nil, err
		}
		params["sampler_name"] = sampler
	}
	if o.Has("width") != o.Has("height") && params["width"] == nil {
		return nil, horde.Invalidf("height", "Give the style both a width and a height, or neither.").InCase("size_pair")
	}
	for _, side := range []string{"width", "height"} {
		if o.Has(side) {
			params[side] = o.Int(side, 0)
		}
	}
	return json.Marshal(params)
}

func (s *Set) createStyle(ctx context.Context, ix *interact.Interaction, o interact.Options) error {
	if !s.mayManageStyles(ix) {
		return s.refuseStyleManaging()
	}
	if ix.User.Anonymous() {
		return horde.Errorf(horde.KindForbidden, "StylesAnonForbidden", "The anonymous user cannot create styles.")
	}
	template, err := styleTemplate(o.String("prompt", ""), o.String("negative", ""))
	if err != nil {
		return err
	}
	params, err := styleParams(nil, o)
	if err != nil {
		return err
	}
	sty := horde.Style{
		ID: horde.NewStyleID(), Kind: horde.KindImage, UserID: ix.User.ID, Creator: ix.User.Username(),
		Name: o.String("name", ""), Info: o.String("info", ""), Prompt: template, Params: params,
		Models: []string{o.String("model", "")}, Public: o.Bool("public", true), NSFW: o.Bool("nsfw", false),
	}
	if err := s.styles.Validate(sty); err != nil {
		return err
	}
	if err := s.styles.CreateStyle(ctx, sty); err != nil {
		return fmt.Errorf("create style %q: %w", sty.Name, err)
	}
	return ix.Reply(ctx, interact.Reply{Content: "✅ " + ix.T("style.created", locale.Args{"Name": sty.Name}) + "\n" + styleDetails(ix.Printer(), sty)})
}

// ownStyle is the style option of /style edit or delete, which the caller
// must be allowed to change: its creator or a moderator.
func (s *Set) ownStyle(ctx context.Context, ix *interact.Interaction, o interact.Options) (horde.Style, error) {
	sty, _, err := s.findStyle(ctx, ix, o.String("style", ""))
	if err != nil {
		return horde.Style{}, err
	}
	if sty.UserID != ix.User.ID && !s.mayModerateStyles(ix) {
		return horde.Style{}, horde.Errorf(horde.KindForbidden, "NotStyleOwner", "The style %s is %s's; only they or a moderator can change it.", horde.QuoteInput(sty.Name), creatorName(sty.Creator)).
			With("Name", horde.QuoteInput(sty.Name)).With("Creator", creatorName(sty.Creator))
	}
	return sty, nil
}

func (s *Set) editStyle(ctx context.Context, ix *interact.Interaction, o interact.Options) error {
	if !s.mayManageStyles(ix) {
		return s.refuseStyleManaging()
	}
	sty, err := s.ownStyle(ctx, ix, o)
	if err != nil {
		return err
	}
	if o.Has("prompt") || o.Has("negative") {
		prompt, negative := splitTemplate(sty.Prompt)
		if o.Has("prompt") {
			prompt = o.String("prompt", "")
			if strings.Contains(prompt, "###") || strings.Contains(prompt, "{np}") {
				negative = "" // the new prompt places its negative part itself
			}
		}
		if sty.Prompt, err = styleTemplate(prompt, o.String("negative", negative)); err != nil {
			return err
		}
	}
	if sty.Params, err = styleParams(sty.Params, o); err != nil {
		return err
	}
	sty.Name = o.String("name", sty.Name)
	sty.Info = o.String("info", sty.Info)
	if o.Has("model") {
		sty.Models = []string{o.String("model", "")}
	}
	sty.Public, sty.NSFW = o.Bool("public", sty.Public), o.Bool("nsfw", sty.NSFW)
	if err := s.styles.Validate(sty); err != nil {
		return err
	}
	if err := s.styles.UpdateStyle(ctx, sty); err != nil {
		return fmt.Errorf("update style %s: %w", sty.ID, err)
	}
	return ix.Reply(ctx, interact.Reply{Content: "✅ " + ix.T("style.changed", nil) + "\n" + styleDetails(ix.Printer(), sty)})
}

func (s *Set) deleteStyle(ctx context.Context, ix *interact.Interaction, o interact.Options) error {
	sty, err := s.ownStyle(ctx, ix, o)
	if err != nil {
		return err
	}
	if err := s.styles.DeleteStyle(ctx, sty.ID); err != nil {
		return fmt.Errorf("delete style %s: %w", sty.ID, err)
	}
	return ix.Reply(ctx, interact.Reply{Content: "🗑️ " + ix.T("style.deleted", locale.Args{"Name": sty.Name})})
}

func (s *Set) listStyles(ctx context.Context, ix *interact.Interaction, o interact.Options) error {
	page := max(int(o.Int("page", 1)), 1)
	if page > horde.MaxStyleSearch {
		return horde.Invalidf("page", "There are not that many pages.").InCase("pages")
	}
	list, err := s.styles.SearchStyles(ctx, horde.StyleSearch{Kind: horde.KindImage, UserID: ix.User.ID,
		Offset: (page - 1) * stylesPerListPage, Limit: stylesPerListPage + 1})
	if err != nil {
		return fmt.Errorf("list styles: %w", err)
	}
	if len(list) == 0 {
		if page > 1 {
			return ix.Reply(ctx, interact.Reply{Content: ix.T("style.list.empty_page", locale.Args{"Page": page})})
		}
		return ix.Reply(ctx, interact.Reply{Content: ix.T("style.list.none", nil)})
	}
	more := len(list) > stylesPerListPage
	if more {
		list = list[:stylesPerListPage]
	}
	var b strings.Builder
	pr := ix.Printer()
	b.WriteString("🎨 " + pr.T("style.list.title", locale.Args{"Page": page}) + "\n")
	for _, st := range list {
		line := "• " + pr.T("style.byline", locale.Args{"Name": "**" + clip(st.Name, 60) + "**", "Creator": clip(creatorName(st.Creator), 40),
			"Uses": pr.T("style.uses", locale.Args{locale.CountArg: st.UseCount})}) + " · " + clip(strings.Join(st.Models, ", "), 60)
		if !st.Public {
			line += " · " + pr.T("style.private", nil)
		}
		if st.NSFW {
			line += " · NSFW"
		}
		b.WriteString(line + "\n")
	}
	if more {
		b.WriteString(pr.T("style.list.more", locale.Args{"Page": page + 1}))
	}
	return ix.Reply(ctx, interact.Reply{Content: b.String()})
}

func (s *Set) showStyle(ctx context.Context, ix *interact.Interaction, o interact.Options) error {
	sty, _, err := s.findStyle(ctx, ix, o.String("style", ""))
	if err != nil {
		return err
	}
	if !sty.Public && sty.UserID != ix.User.ID && !s.mayModerateStyles(ix) {
		// A private style's template is its creator's.
		return horde.NotFoundf("StyleNotFound", "There is no style %s that you can see.", horde.QuoteInput(o.String("style", ""))).
			InCase("hidden").With("Name", horde.QuoteInput(o.String("style", "")))
	}
	return ix.Reply(ctx, interact.Reply{Content: styleDetails(ix.Printer(), sty)})
}

// styleDetails describes a style for its creator and its users, in p's language.
func styleDetails(p *locale.Printer, st horde.Style) string {
	var b strings.Builder
	b.WriteString(p.T("style.byline", locale.Args{"Name": "**" + st.Name + "**", "Creator": creatorName(st.Creator),
		"Uses": p.T("style.uses", locale.Args{locale.CountArg: st.UseCount})}))
	if !st.Public {
		b.WriteString(" · " + p.T("style.private", nil))
	}
	if st.NSFW {
		b.WriteString(" · NSFW")
	}
	if st.Info != "" {
		fmt.Fprintf(&b, "\n%s", clip(st.Info, 300))
	}
	prompt, negative := splitTemplate(st.Prompt)
	b.WriteString("\n" + p.T("style.details.prompt", locale.Args{"Prompt": clip(prompt, 600)}))
	if negative != "" {
		b.WriteString("\n" + p.T("style.details.negative", locale.Args{"Negative": clip(negative, 400)}))
	}
	b.WriteString("\n" + p.T("style.details.model", locale.Args{"Model": clip(strings.Join(st.Models, ", "), 200)}))
	var params map[string]any
	if json.Unmarshal(st.Params, &params) == nil && len(params) > 0 {
		keys := make([]string, 0, len(params))
		for k := range params {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %v", k, params[k]))
		}
		b.WriteString("\n" + p.T("style.details.settings", locale.Args{"Settings": clip(strings.Join(parts, " · "), 400)}))
	}
	return b.String()
}

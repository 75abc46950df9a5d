package commands

import (
	"context"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
)

// Discord's limits on an autocomplete answer.
const (
	maxChoices         = 25
	maxChoiceNameRunes = 100
)

// choicesFunc answers the choices of one focused option.
type choicesFunc func(ctx context.Context, ix *interact.Interaction) ([]*discordgo.ApplicationCommandOptionChoice, error)

// autocompleteBy answers with the choices of the focused option's func;
// an option without one gets none.
func autocompleteBy(byOption map[string]choicesFunc) choicesFunc {
	return func(ctx context.Context, ix *interact.Interaction) ([]*discordgo.ApplicationCommandOptionChoice, error) {
		if f := byOption[interact.ParseOptions(ix.I).Focused()]; f != nil {
			return f(ctx, ix)
		}
		return nil, nil
	}
}

// focusedText is what the member has typed so far into the focused option.
func focusedText(ix *interact.Interaction) string {
	o := interact.ParseOptions(ix.I)
	return o.String(o.Focused(), "")
}

// styleChoices autocompletes a style option from the horde's image styles
// the caller may pick: the public ones and their own, names starting with
// what was typed first, then names containing it. The value is the style's
// id (a name may be taken by several members); the label names its
// creator and uses. With mine, only styles the caller may change are
// offered (their own; any for a moderator).
func (s *Set) styleChoices(mine bool) choicesFunc {
	return s.styleChoicesOf(horde.KindImage, mine)
}

// styleChoicesOf is styleChoices over the styles of kind.
func (s *Set) styleChoicesOf(kind horde.RequestKind, mine bool) choicesFunc {
	return func(ctx context.Context, ix *interact.Interaction) ([]*discordgo.ApplicationCommandOptionChoice, error) {
		if s.styles == nil {
			return nil, nil
		}
		typed := []rune(focusedText(ix))
		if len(typed) > horde.MaxStyleNameLength {
			typed = typed[:horde.MaxStyleNameLength]
		}
		limit := maxChoices
		if mine {
			limit = horde.MaxStyleSearch // others' are dropped below
		}
		list, err := s.styles.SearchStyles(ctx, horde.StyleSearch{Kind: kind, UserID: ix.User.ID, Text: string(typed), Limit: limit})
		if err != nil {
			return nil, fmt.Errorf("search styles: %w", err)
		}
		moderator := s.mayModerateStyles(ix)
		var out []*discordgo.ApplicationCommandOptionChoice
		for _, st := range list {
			if mine && st.UserID != ix.User.ID && !moderator {
				continue
			}
			out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: styleLabel(ix.Printer(), st), Value: st.ID})
			if len(out) == maxChoices {
				break
			}
		}
		return out, nil
	}
}

// styleLabel is how a style is named in a list of choices: its name, its
// creator and its uses, within Discord's 100 characters, in p's language.
func styleLabel(p *locale.Printer, st horde.Style) string {
	label := p.T("style.byline", locale.Args{"Name": st.Name, "Creator": creatorName(st.Creator),
		"Uses": p.T("style.uses", locale.Args{locale.CountArg: st.UseCount})})
	if !st.Public {
		label += " · " + p.T("style.private", nil)
	}
	return clip(label, maxChoiceNameRunes)
}

// creatorName is the name part of an AI Horde "name#id" username.
func creatorName(username string) string {
	if i := strings.LastIndexByte(username, '#'); i > 0 {
		return username[:i]
	}
	return username
}

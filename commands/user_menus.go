package commands

import (
	"context"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// The user context menus (right-click a member, Apps): Kudos shows that
// member's kudos as /kudos balance shows one's own, privately; Award kudos
// opens a form for the amount and a reason, and its submit is /kudos award
// for a moderator and /kudos give for any other member, with their rules
// and refusals. The form's custom ID carries the member's Discord id,
// checked again on submit (formMember): a forged submit names no one else.

const (
	menuKudos      = "Kudos"
	menuAwardKudos = "Award kudos"

	formAwardKudos   = "kudos/award" // /{member's Discord id}
	awardAmountInput = "amount"
	awardReasonInput = "reason"

	// maxModalTitle is Discord's limit on a modal's title.
	maxModalTitle = 45
)

func (s *Set) userMenus() []*Command {
	return []*Command{s.kudosMenu(), s.awardKudosMenu()}
}

func (s *Set) userMenuForms() []*Component {
	return []*Component{{Prefix: formAwardKudos, Defer: deferAlways(interact.DeferPublic), Handle: s.handleAwardKudosSubmit}}
}

func (s *Set) kudosMenu() *Command {
	return &Command{
		Def:   &discordgo.ApplicationCommand{Name: menuKudos, Type: discordgo.UserApplicationCommand},
		Defer: deferAlways(interact.DeferEphemeral),
		Handle: func(ctx context.Context, ix *interact.Interaction) error {
			target, err := s.menuMember(ctx, ix)
			if err != nil {
				return err
			}
			return s.replyBalance(ctx, ix, target.ID, "kudos.balance.member", locale.Args{"Member": target.DiscordID})
		},
	}
}

func (s *Set) awardKudosMenu() *Command {
	return &Command{
		Def: &discordgo.ApplicationCommand{Name: menuAwardKudos, Type: discordgo.UserApplicationCommand},
		// A modal must be the first response: no deferral.
		Handle: func(ctx context.Context, ix *interact.Interaction) error {
			target, err := s.menuMember(ctx, ix)
			if err != nil {
				return err
			}
			award := s.mayAwardKudos(ix)
			if target.ID == ix.User.ID {
				if award {
					return kudos.Refuse(kudos.RefuseSelf, "You cannot award yourself.").InCase("award")
				}
				return kudos.Refuse(kudos.RefuseSelf, "You cannot give kudos to yourself.").InCase("transfer")
			}
			name := interact.DisplayName(interact.ResolvedUser(ix.I, target.DiscordID))
			title := "kudos.menu.give.title"
			if award {
				title = "kudos.menu.award.title"
			}
			return ix.Modal(ctx, formAwardKudos+"/"+target.DiscordID, clip(ix.T(title, locale.Args{"Member": name}), maxModalTitle),
				discordgo.TextInput{CustomID: awardAmountInput, Label: clip(ix.T("kudos.menu.amount", nil), 45), Style: discordgo.TextInputShort,
					Required: true, MinLength: 1, MaxLength: 9},
				discordgo.TextInput{CustomID: awardReasonInput, Label: clip(ix.T("kudos.menu.reason", nil), 45), Style: discordgo.TextInputParagraph,
					MaxLength: 200},
			)
		},
	}
}

// handleAwardKudosSubmit awards (a moderator) or gives (a member) the
// kudos an Award kudos form names.
func (s *Set) handleAwardKudosSubmit(ctx context.Context, ix *interact.Interaction, args []string) error {
	if err := s.requireKudos(); err != nil {
		return err
	}
	if len(args) != 1 || args[0] == "" {
		return horde.Invalidf("custom_id", "this form is malformed").InCase("form")
	}
	values := interact.ModalValues(ix.I)
	amount, err := strconv.ParseInt(strings.TrimSpace(values[awardAmountInput]), 10, 64)
	if err != nil || amount < 1 {
		return kudos.Refuse(kudos.RefuseAmount, "the amount must be a positive number of kudos").InCase("positive")
	}
	award := s.mayAwardKudos(ix)
	to, err := s.formMember(ctx, ix, args[0], award)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(values[awardReasonInput])
	if award {
		return s.awardKudos(ctx, ix, to, amount, reason)
	}
	return s.giveKudos(ctx, ix, to, amount, reason)
}

// menuMember is the member a kudos user context menu names, as a horde
// user; bots are refused, and so is every menu when kudos are off.
func (s *Set) menuMember(ctx context.Context, ix *interact.Interaction) (horde.User, error) {
	if err := s.requireKudos(); err != nil {
		return horde.User{}, err
	}
	if ix.I.Type != discordgo.InteractionApplicationCommand {
		return horde.User{}, horde.Invalidf("member", "name a member").InCase("member")
	}
	id := ix.I.ApplicationCommandData().TargetID
	u := interact.ResolvedUser(ix.I, id)
	if id == "" || u == nil {
		return horde.User{}, horde.Invalidf("member", "name a member").InCase("member")
	}
	if u.Bot {
		return horde.User{}, kudos.Refuse(kudos.RefuseBot, "Bots neither give nor receive kudos.").InCase("member")
	}
	return s.horde.DiscordUser(ctx, id, interact.DisplayName(u))
}

// requireKudos refuses when the bot runs without kudos.
func (s *Set) requireKudos() error {
	if s.kudos == nil {
		return horde.Errorf(horde.KindDisabled, "KudosDisabled", "Kudos are not enabled on this bot.")
	}
	return nil
}

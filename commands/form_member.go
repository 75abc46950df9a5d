package commands

import (
	"context"
	"fmt"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// formMember is the member a form's custom ID names, checked again when
// the form is submitted: a custom ID is whatever the client sends, so a
// forged submit may name any id. The id must be a snowflake naming a
// member of the interaction's guild (a Discord user, outside a guild) who
// is neither a bot nor the caller, and who has a horde user already (the
// menu that opens the form makes it): a submit never creates one. award
// says which refusal of oneself applies (a moderator's award or a gift).
func (s *Set) formMember(ctx context.Context, ix *interact.Interaction, id string, award bool) (horde.User, error) {
	if !interact.IsSnowflake(id) {
		return horde.User{}, horde.Invalidf("custom_id", "this form is malformed").InCase("form")
	}
	if id == ix.Caller.ID {
		if award {
			return horde.User{}, kudos.Refuse(kudos.RefuseSelf, "You cannot award yourself.").InCase("award")
		}
		return horde.User{}, kudos.Refuse(kudos.RefuseSelf, "You cannot give kudos to yourself.").InCase("transfer")
	}
	u, err := s.discordMember(ctx, ix, id)
	if err != nil {
		return horde.User{}, err
	}
	if u == nil {
		return horde.User{}, horde.NotFoundf("NotMember", "That member is not on this server.")
	}
	if u.Bot {
		return horde.User{}, kudos.Refuse(kudos.RefuseBot, "Bots neither give nor receive kudos.").InCase("member")
	}
	to, err := s.horde.KnownDiscordUser(ctx, id)
	if horde.IsKind(err, horde.KindNotFound) {
		return horde.User{}, kudos.Refuse(kudos.RefuseUnknownUser, "That member has no kudos account yet.")
	}
	if err != nil {
		return horde.User{}, fmt.Errorf("horde user of %s: %w", id, err)
	}
	return to, nil
}

// discordMember is the Discord account of a member of the interaction's
// guild (from the session's state, else REST), or of any Discord user
// outside a guild; nil (and no error) when Discord knows no such member.
func (s *Set) discordMember(ctx context.Context, ix *interact.Interaction, id string) (*discordgo.User, error) {
	if g := ix.I.GuildID; g != "" {
		m, err := s.retry().Member(ctx, ix.S, g, id)
		switch {
		case err != nil:
			return nil, fmt.Errorf("member %s of guild %s: %w", id, g, err)
		case m == nil || m.User == nil:
			return nil, nil
		}
		return m.User, nil
	}
	var u *discordgo.User
	err := s.retry().Do(ctx, "get user", func(opts ...discordgo.RequestOption) error {
		var err error
		u, err = ix.S.User(id, opts...)
		return err
	})
	if interact.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("user %s: %w", id, err)
	}
	return u, nil
}

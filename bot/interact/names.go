package interact

import (
	"context"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
)

// DisplayName is the name a member's horde user gets (and keeps in step):
// their global display name, else their username.
func DisplayName(u *discordgo.User) string {
	switch {
	case u == nil:
		return ""
	case u.GlobalName != "":
		return u.GlobalName
	default:
		return u.Username
	}
}

// UserLookup finds a horde user's Discord account; *horde.Horde satisfies it.
type UserLookup interface {
	UserInfo(ctx context.Context, userID int64) (horde.UserInfo, error)
}

var _ UserLookup = (*horde.Horde)(nil)

// MemberName names a horde user in a post: a mention when they have a
// Discord account, else their horde name; an unknown (deleted) user as
// UnknownMember says, in p's language.
func MemberName(ctx context.Context, p *locale.Printer, users UserLookup, userID int64) (string, error) {
	info, err := users.UserInfo(ctx, userID)
	switch {
	case horde.IsKind(err, horde.KindNotFound):
		return UnknownMember(p, userID), nil
	case err != nil:
		return "", err
	case info.User.DiscordID != "":
		return "<@" + info.User.DiscordID + ">", nil
	default:
		return info.User.Username(), nil
	}
}

// UnknownMember names a horde user the horde no longer knows ("user #42"),
// in p's language.
func UnknownMember(p *locale.Printer, userID int64) string {
	return p.T("member.unknown", locale.Args{"ID": userID})
}

package bot

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/kudos"
)

// maxPostRunes keeps a post under Discord's 2000-character message limit.
const maxPostRunes = 1990

// artEarner is one member's share of an art tally.
type artEarner struct {
	userID   int64
	amount   int64
	reactors int
	posts    []kudos.ArtPayout // most paid first
}

// formatArtTally renders an art tally as a message: a headline with the day
// and the total, then one line per member (most earned first) with their
// kudos, reactors and links to their paid posts. Lines that do not fit are
// summarised as "…and N more".
func (b *Bot) formatArtTally(ctx context.Context, p *locale.Printer, r kudos.ArtTallyResult) (string, error) {
	byUser := map[int64]*artEarner{}
	var earners []*artEarner
	for _, p := range r.Payouts {
		e := byUser[p.UserID]
		if e == nil {
			e = &artEarner{userID: p.UserID}
			byUser[p.UserID] = e
			earners = append(earners, e)
		}
		e.amount += p.Amount
		e.reactors += p.Reactors
		e.posts = append(e.posts, p)
	}
	sort.SliceStable(earners, func(i, j int) bool { return earners[i].amount > earners[j].amount })

	var sb strings.Builder
	sb.WriteString("🎨 " + p.T("art.tally.title", locale.Args{"Day": r.Period.Name, "Kudos": r.Total(), locale.CountArg: len(earners)}) + "\n")
	guilds := map[string]string{} // channel -> guild, for links
	for i, e := range earners {
		name, err := b.memberName(ctx, p, e.userID)
		if err != nil {
			return "", err
		}
		line := p.T("art.tally.line", locale.Args{"Rank": i + 1, "Member": name, "Kudos": e.amount,
			"Reactors": p.T("art.tally.reactors", locale.Args{locale.CountArg: e.reactors}),
			"Posts":    p.T("art.tally.posts", locale.Args{locale.CountArg: len(e.posts)})}) + b.postLinks(e.posts, guilds) + "\n"
		// Keep room for the "…and N more." tail.
		if i > 0 && utf8.RuneCountInString(sb.String())+utf8.RuneCountInString(line) > maxPostRunes-40 {
			sb.WriteString(p.T("art.tally.more", locale.Args{locale.CountArg: len(earners) - i}))
			break
		}
		sb.WriteString(line)
	}
	out := strings.TrimRight(sb.String(), "\n")
	if r := []rune(out); len(r) > maxPostRunes {
		out = string(r[:maxPostRunes-1]) + "…"
	}
	return out, nil
}

// postLinks links a member's best paid posts (at most three).
func (b *Bot) postLinks(posts []kudos.ArtPayout, guilds map[string]string) string {
	var links []string
	for _, p := range posts {
		if len(links) == 3 {
			break
		}
		guild, ok := guilds[p.ChannelID]
		if !ok {
			guild = b.guildOfChannel(p.ChannelID)
			guilds[p.ChannelID] = guild
		}
		if guild == "" || p.ChannelID == "" || p.MessageID == "" {
			continue
		}
		links = append(links, fmt.Sprintf("https://discord.com/channels/%s/%s/%s", guild, p.ChannelID, p.MessageID))
	}
	if len(links) == 0 {
		return ""
	}
	return ": " + strings.Join(links, " ")
}

// guildOfChannel returns the guild of a channel from the session's state,
// or the one configured guild; "" if unknown (the post is then not linked).
func (b *Bot) guildOfChannel(channelID string) string {
	if s := b.sess(); s != nil && s.State != nil {
		if ch, err := s.State.Channel(channelID); err == nil && ch.GuildID != "" {
			return ch.GuildID
		}
	}
	if len(b.cfg.GuildIDs) == 1 {
		return b.cfg.GuildIDs[0]
	}
	return ""
}

// memberName names a horde user in a post (see interact.MemberName).
func (b *Bot) memberName(ctx context.Context, p *locale.Printer, userID int64) (string, error) {
	name, err := interact.MemberName(ctx, p, b.deps.Horde, userID)
	if err != nil {
		return "", fmt.Errorf("user %d: %w", userID, err)
	}
	return name, nil
}

package bot

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/hordebot/hordebot/bot/interact"
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
func (b *Bot) formatArtTally(ctx context.Context, r kudos.ArtTallyResult) (string, error) {
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
	plural := "s"
	if len(earners) == 1 {
		plural = ""
	}
	fmt.Fprintf(&sb, "🎨 **Art tally for %s**: %d kudos to %d artist%s for the reactions their posts received.\n",
		r.Period.Name, r.Total(), len(earners), plural)
	guilds := map[string]string{} // channel -> guild, for links
	for i, e := range earners {
		name, err := b.memberName(ctx, e.userID)
		if err != nil {
			return "", err
		}
		line := fmt.Sprintf("%d. %s — %d kudos (%d %s on %d %s)%s\n", i+1, name, e.amount,
			e.reactors, noun(e.reactors, "reactor"), len(e.posts), noun(len(e.posts), "post"), b.postLinks(e.posts, guilds))
		// Keep room for the "…and N more." tail.
		if i > 0 && utf8.RuneCountInString(sb.String())+utf8.RuneCountInString(line) > maxPostRunes-30 {
			fmt.Fprintf(&sb, "…and %d more.", len(earners)-i)
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
func (b *Bot) memberName(ctx context.Context, userID int64) (string, error) {
	name, err := interact.MemberName(ctx, b.deps.Horde, userID)
	if err != nil {
		return "", fmt.Errorf("user %d: %w", userID, err)
	}
	return name, nil
}

func noun(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

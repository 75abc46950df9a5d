package bot

import (
	"context"
	"fmt"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/kudos"
)

var _ kudos.MemberDirectory = (*Bot)(nil)

// memberPage is how many members one REST call lists (Discord's maximum).
const memberPage = 1000

// MembersWithRoles returns, per role asked, the horde user ids of the
// (human) members holding it in the configured guilds (or every guild the
// bot is in when none is configured), creating accounts on demand. It is the
// kudos engine's MemberDirectory for the monthly recurring grants. Listing
// members needs the Server Members intent enabled for the application.
func (b *Bot) MembersWithRoles(ctx context.Context, roles []string) (map[string][]int64, error) {
	s := b.sess()
	if s == nil {
		return nil, errNotStarted
	}
	want := map[string]bool{}
	for _, r := range roles {
		want[r] = true
	}
	out := map[string][]int64{}
	seen := map[string]map[int64]bool{}
	for _, g := range b.guilds(s) {
		after := ""
		for {
			var page []*discordgo.Member
			err := b.cfg.Retry.Do(ctx, "list guild members", func(opts ...discordgo.RequestOption) error {
				var err error
				page, err = s.GuildMembers(g, after, memberPage, opts...)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("members of guild %s: %w", g, err)
			}
			for _, m := range page {
				if m.User == nil || m.User.Bot {
					continue
				}
				after = m.User.ID
				for _, r := range m.Roles {
					if !want[r] {
						continue
					}
					u, err := b.deps.Horde.DiscordUser(ctx, m.User.ID, interact.DisplayName(m.User))
					if err != nil {
						return nil, fmt.Errorf("horde user of %s: %w", m.User.ID, err)
					}
					if seen[r] == nil {
						seen[r] = map[int64]bool{}
					}
					if !seen[r][u.ID] {
						seen[r][u.ID] = true
						out[r] = append(out[r], u.ID)
					}
				}
			}
			if len(page) < memberPage {
				break
			}
		}
	}
	return out, nil
}

// guilds are the guilds the bot serves: the configured ones, or all that
// the gateway shards this process runs are in (each shard's state holds its
// own guilds; the REST session's when there is no gateway).
func (b *Bot) guilds(s *discordgo.Session) []string {
	if len(b.cfg.GuildIDs) > 0 {
		return b.cfg.GuildIDs
	}
	b.mu.Lock()
	sessions := b.shards
	b.mu.Unlock()
	if len(sessions) == 0 {
		sessions = []*discordgo.Session{s}
	}
	var ids []string
	seen := map[string]bool{}
	for _, sh := range sessions {
		if sh.State == nil {
			continue
		}
		sh.State.RLock()
		for _, g := range sh.State.Guilds {
			if !seen[g.ID] {
				seen[g.ID] = true
				ids = append(ids, g.ID)
			}
		}
		sh.State.RUnlock()
	}
	return ids
}

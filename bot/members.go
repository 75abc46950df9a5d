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
	guilds, err := b.guilds(ctx, s)
	if err != nil {
		return nil, err
	}
	for _, g := range guilds {
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

// guilds are the guilds the bot serves: the configured ones, or every
// guild the bot is in. A process running every gateway shard knows them from
// its shards' states (each holds its own guilds); one running some shards or
// none asks REST (GET /users/@me/guilds): the member lookups this serves
// (monthly grants) are work done once for the whole bot, not per shard.
func (b *Bot) guilds(ctx context.Context, s *discordgo.Session) ([]string, error) {
	if len(b.cfg.GuildIDs) > 0 {
		return b.cfg.GuildIDs, nil
	}
	b.mu.Lock()
	sessions, count := b.shards, b.shardCount
	b.mu.Unlock()
	if len(sessions) == 0 || len(sessions) < count {
		return b.guildsOverREST(ctx, s)
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
	return ids, nil
}

// guildPage is how many guilds one GET /users/@me/guilds lists (Discord's maximum).
const guildPage = 200

// guildsOverREST lists the bot's guilds page by page.
func (b *Bot) guildsOverREST(ctx context.Context, s *discordgo.Session) ([]string, error) {
	var ids []string
	after := ""
	for {
		var page []*discordgo.UserGuild
		err := b.cfg.Retry.Do(ctx, "list the bot's guilds", func(opts ...discordgo.RequestOption) error {
			var err error
			page, err = s.UserGuilds(guildPage, "", after, false, opts...)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("list the bot's guilds: %w", err)
		}
		for _, g := range page {
			ids = append(ids, g.ID)
			after = g.ID
		}
		if len(page) < guildPage {
			return ids, nil
		}
	}
}

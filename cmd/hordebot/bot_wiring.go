package main

import (
	"github.com/hordebot/hordebot/bot"
)

// NewBot builds the Discord bot over the app's services and routes the kudos
// engine's callbacks (leaderboard posts, role lookups) to it.
func (a *App) NewBot() *bot.Bot {
	d := a.Config.Discord
	b := bot.New(bot.Config{
		GuildIDs:               d.GuildIDs,
		ArtChannelID:           d.ArtChannelID,
		LeaderboardChannelID:   d.LeaderboardChannelID,
		AuditChannelID:         d.AuditChannelID,
		ModeratorRoleIDs:       d.ModeratorRoleIDs,
		CommandsPerMinute:      d.CommandsPerMinute,
		GuildCommandsPerMinute: d.GuildCommandsPerMinute,
		PublicURL:              a.publicURL(),
		RefusalDM:              d.RefusalDM,
		Clock:                  a.Clock,
		Logger:                 a.Log.With("component", "bot"),
	}, bot.Deps{Horde: a.Horde, Kudos: a.Kudos, Store: a.Store, Filter: a.Filter})
	a.hooks.set(b, b.PostLeaderboard)
	a.hooks.setModeration(b.OnModeration)
	return b
}

// publicURL is where workers reach the API: the configured public URL, or
// the listen address.
func (a *App) publicURL() string {
	if a.Config.API.PublicURL != "" {
		return a.Config.API.PublicURL
	}
	if a.listener != nil {
		return "http://" + a.Addr()
	}
	return "http://" + a.Config.API.Listen
}

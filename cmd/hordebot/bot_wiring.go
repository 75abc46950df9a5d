package main

import (
	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/store"
)

// The store keeps what the Discord side declares it needs (deliveries,
// settings, shared posts).
var _ bot.Store = (*store.Store)(nil)

// NewBot builds the Discord bot over the app's services and routes the kudos
// engine's callbacks (leaderboard and art tally posts, role lookups) to it.
// The config file's discord section is the bot's config as it is (bot.Config
// and the commands.Config it embeds); the program adds the API's public URL,
// the clock, the logger and the metrics hook. Options adjust the bot's
// config (the demo counts handled events with EventDone).
func (a *App) NewBot(options ...func(*bot.Config)) *bot.Bot {
	cfg := a.Config.Discord
	cfg.PublicURL = a.publicURL()
	cfg.WebURL = a.webURL()
	cfg.Clock = a.Clock
	cfg.Logger = a.Log.With("component", "bot")
	cfg.ModeratorRoleIDs = a.Kudos.Config().ModeratorRoles // discord.moderator_role_ids and the deprecated alias (kudosConfig)
	if a.metrics != nil {
		cfg.InteractionDone = a.metrics.interactionDone
	}
	for _, o := range options {
		o(&cfg)
	}
	b := bot.New(cfg, bot.Deps{Horde: a.Horde, Kudos: a.Kudos, Store: a.Store, Filter: a.Filter})
	a.hooks.set(b)
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

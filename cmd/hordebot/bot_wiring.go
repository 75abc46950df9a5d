package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/store"
)

// The store keeps what the Discord side declares it needs (deliveries,
// settings, shared posts).
var _ bot.Store = (*store.Store)(nil)

// The store feeds the role rewards (members' balances, trust, earnings).
var _ bot.RoleStandings = (*store.Store)(nil)

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
	// SQLite is one process's: what another run left open is taken up at once.
	cfg.SoleProcess = a.Store.Engine() == store.EngineSQLite
	if a.metrics != nil {
		cfg.InteractionDone = a.metrics.interactionDone
	}
	for _, o := range options {
		o(&cfg)
	}
	b := bot.New(cfg, bot.Deps{Horde: a.Horde, Kudos: a.Kudos, Store: a.Store, Filter: a.Filter,
		Roles: a.Store, Ratings: a.Ratings, Previews: a.Previews, Styles: api.NewStyleRules(a.Store), Events: a.Events})
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

// DiscordRun is the Discord side of a running process: the bot, the
// sessions it runs on and its HTTP interactions endpoint, if any.
type DiscordRun struct {
	Bot      *bot.Bot
	Sessions bot.Sessions
	endpoint *http.Server
	addr     string
	served   chan error
}

// StartDiscord starts the bot as the discord section says: the gateway
// shards of discord.shards (all, by default; none when discord.gateway is
// false) and, with discord.interactions_listen, the HTTP interactions
// endpoint verified with discord.public_key. newSession makes an unopened
// session with the bot's token (discordgo.New in production, the fake
// Discord's in tests).
func (a *App) StartDiscord(ctx context.Context, newSession func() (*discordgo.Session, error), options ...func(*bot.Config)) (*DiscordRun, error) {
	dc := a.Config.Discord
	r := &DiscordRun{}
	rest, err := newSession()
	if err != nil {
		return nil, fmt.Errorf("discord session: %w", err)
	}
	r.Sessions = bot.Sessions{REST: rest}
	if dc.GatewayOn() {
		plan, err := bot.PlanShards(ctx, rest, dc.Shards)
		if err != nil {
			return nil, fmt.Errorf("discord shards: %w", err)
		}
		shards, err := plan.Sessions(newSession)
		if err != nil {
			return nil, err
		}
		r.Sessions = bot.Sessions{REST: shards[0], Shards: shards, MaxConcurrency: plan.MaxConcurrency}
	}
	var ln net.Listener
	var key ed25519.PublicKey
	if dc.InteractionsListen != "" {
		if key, err = bot.ParsePublicKey(dc.PublicKey); err != nil {
			return nil, err
		}
		// Listen before starting the bot, so that a busy port fails the start cleanly.
		if ln, err = net.Listen("tcp", dc.InteractionsListen); err != nil {
			return nil, fmt.Errorf("discord.interactions_listen: %w", err)
		}
	}
	r.Bot = a.NewBot(options...)
	if err := r.Bot.StartSessions(ctx, r.Sessions); err != nil {
		if ln != nil {
			_ = ln.Close()
		}
		return nil, fmt.Errorf("start the bot: %w", err)
	}
	if ln != nil {
		r.endpoint, r.addr, r.served = r.Bot.InteractionsServer(key), ln.Addr().String(), make(chan error, 1)
		go func() { r.served <- r.endpoint.Serve(ln) }()
		a.Log.Info("discord interactions endpoint listening", "addr", r.addr)
	}
	return r, nil
}

// InteractionsAddr is where the interactions endpoint listens ("" without one).
func (r *DiscordRun) InteractionsAddr() string { return r.addr }

// Stop drains the Discord side: the interactions endpoint stops taking
// POSTs and answers those it has, the bot stops (its in-flight handlers
// finish, deliveries stay saved), and the gateway sessions close.
func (r *DiscordRun) Stop(ctx context.Context) error {
	var errs []error
	if r.endpoint != nil {
		if err := r.endpoint.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("stop the interactions endpoint: %w", err))
		}
		if err := <-r.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			errs = append(errs, fmt.Errorf("interactions endpoint: %w", err))
		}
	}
	r.Bot.Stop()
	for _, s := range r.Sessions.Shards {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close shard %d: %w", s.ShardID, err))
		}
	}
	return errors.Join(errs...)
}

// validateDiscord checks the discord section's scale settings.
func validateDiscord(c bot.Config, apiListen string) error {
	if err := c.RoleRewards.Validate(); err != nil {
		return fmt.Errorf("config: discord.%w", err)
	}
	if err := c.RoleLimits.Validate(); err != nil {
		return fmt.Errorf("config: discord.%w", err)
	}
	if c.Shards.Count < 0 {
		return fmt.Errorf("config: discord.shards.count must not be negative (0 asks Discord)")
	}
	if c.Shards.Count > 0 {
		for _, id := range c.Shards.IDs {
			if id < 0 || id >= c.Shards.Count {
				return fmt.Errorf("config: discord.shards.ids: %d is not a shard of %d (ids run 0..%d)", id, c.Shards.Count, c.Shards.Count-1)
			}
		}
	}
	if c.RESTURL != "" {
		if _, err := bot.ParseRESTURL(c.RESTURL); err != nil {
			return fmt.Errorf("config: %w", err)
		}
	}
	if !c.GatewayOn() && c.InteractionsListen == "" {
		return fmt.Errorf("config: discord.gateway is false and discord.interactions_listen is empty: the bot would receive nothing")
	}
	if c.InteractionsListen != "" {
		_, port, err := net.SplitHostPort(c.InteractionsListen)
		if err != nil {
			return fmt.Errorf("config: discord.interactions_listen %q: want host:port: %w", c.InteractionsListen, err)
		}
		if c.InteractionsListen == apiListen && port != "0" {
			return fmt.Errorf("config: discord.interactions_listen %q is api.listen: give the endpoint its own port", c.InteractionsListen)
		}
		if _, err := bot.ParsePublicKey(c.PublicKey); err != nil {
			return fmt.Errorf("config: %w (or HORDEBOT_DISCORD_PUBLIC_KEY)", err)
		}
	}
	return nil
}

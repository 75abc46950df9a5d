// Package bot is hordebot's Discord side: it takes a discordgo session, sets
// its intents and handlers, registers the slash commands, routes interactions
// to the commands package (both answer through bot/interact), turns
// reactions and thank-you replies into kudos events, applies per-member and
// per-guild rate limits, and posts the kudos engine's scheduled results. At
// scale it runs several gateway shards in one process (shards.go) and serves
// Discord's HTTP interactions endpoint (interactions_http.go), both through
// the one router. It keeps no package state: the sessions, the scheduler,
// the kudos engine and the store are passed in.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/bot/sharedpost"
	"github.com/hordebot/hordebot/commands"
	"github.com/hordebot/hordebot/kudos"
)

// Config configures the bot. Zero values take the defaults. The json names
// are the keys of the config file's discord section; the other fields are
// set by the program.
type Config struct {
	// Config is the commands' part, shared with the bot (channels, moderator
	// roles, the public URL, attachment limits, result delivery timing,
	// retries of Discord REST calls, clock, logger): the bot passes it to
	// the commands as it is.
	commands.Config
	// GuildIDs are the guilds whose slash commands are registered (instant
	// updates); empty registers them globally.
	GuildIDs []string `json:"guild_ids"`
	// LeaderboardChannelID is where the weekly leaderboard is posted.
	LeaderboardChannelID string `json:"leaderboard_channel_id"`
	// CommandsPerMinute and UserBurst limit each member's commands and
	// button clicks; GuildCommandsPerMinute and GuildBurst a whole guild's.
	// Defaults: 6/min burst 3, 60/min burst 20. A negative rate disables the limit.
	CommandsPerMinute      float64 `json:"commands_per_minute"`
	UserBurst              int     `json:"-"`
	GuildCommandsPerMinute float64 `json:"guild_commands_per_minute"`
	GuildBurst             int     `json:"-"`
	// RefusalDM sends a member a DM when their reaction award is refused, at
	// most once per RefusalDMEvery (default 1h) per member.
	RefusalDM      bool          `json:"refusal_dm"`
	RefusalDMEvery time.Duration `json:"-"`
	// HandlerTimeout bounds one interaction's or event's handling (default 2m).
	HandlerTimeout time.Duration `json:"-"`
	// Shards, Gateway, InteractionsListen and PublicKey run the bot at
	// scale (shards.go, interactions_http.go): the gateway shards this
	// process runs, whether it connects to the gateway at all (nil: yes),
	// where it serves the HTTP interactions endpoint ("": not at all) and
	// the application's public key (hex) that endpoint verifies.
	Shards             ShardConfig `json:"shards"`
	Gateway            *bool       `json:"gateway"`
	InteractionsListen string      `json:"interactions_listen"`
	PublicKey          string      `json:"public_key"`
	// RESTURL, if set, is where the sessions' REST calls go instead of
	// https://discord.com (resturl.go): a REST proxy, or a fake Discord.
	RESTURL string `json:"rest_url"`
	// InteractionAnswerWithin bounds how long the interactions endpoint
	// waits for a handler's initial response (default 2.5 s, inside
	// Discord's 3 s); InteractionMaxAge is how far a POST's signed timestamp
	// may lie from now (default 5 min): older ones are refused as replays.
	InteractionAnswerWithin time.Duration `json:"-"`
	InteractionMaxAge       time.Duration `json:"-"`
	// EventDone, if set, is called after each reaction and message event
	// has been handled (event is "reaction_add", "reaction_remove" or
	// "message_create"; err is nil when it was handled or ignored). It is a
	// hook for metrics and tests; it must not block.
	EventDone func(event string, err error) `json:"-"`
	// InteractionDone, if set, is called after each interaction has been
	// handled: kind is InteractionCommand, InteractionComponent,
	// InteractionAutocomplete or InteractionModal; name is the command's
	// name or the button's prefix ("unknown" for one with no handler);
	// outcome says whether it succeeded, was refused or failed. It is a hook
	// for metrics; it must not block.
	InteractionDone func(kind, name string, outcome Outcome) `json:"-"`
	// RoleRewards gives and takes roles as members' kudos, workers and
	// trust qualify them (role_rewards.go).
	RoleRewards kudos.RoleRewards `json:"role_rewards"`
	// PartyCheckEvery is how often parties whose end time passed are ended
	// and their summaries posted (parties.go; default 15s).
	PartyCheckEvery time.Duration `json:"-"`
	// DeferredClaim is how long after this process last renewed its claim
	// on an interaction it is running another process may take it up
	// (default 15s), DeferredRenewEvery how often a running handler renews
	// it (default a third of DeferredClaim); DeferredSweepEvery how often
	// the interactions a dead process left pending are looked for
	// (default 5s; also at Start); DeferredKeep how long their records are
	// kept (default 1h). See deferred.go.
	DeferredClaim      time.Duration `json:"-"`
	DeferredRenewEvery time.Duration `json:"-"`
	DeferredSweepEvery time.Duration `json:"-"`
	DeferredKeep       time.Duration `json:"-"`
	// SoleProcess says no other process shares the store (SQLite): the
	// interactions another run left open are taken up at once, without
	// waiting for its claims to lapse.
	SoleProcess bool `json:"-"`
}

func (c Config) withDefaults() Config {
	c.Config = c.Config.WithDefaults()
	if c.CommandsPerMinute == 0 {
		c.CommandsPerMinute = 6
	}
	if c.UserBurst <= 0 {
		c.UserBurst = 3
	}
	if c.GuildCommandsPerMinute == 0 {
		c.GuildCommandsPerMinute = 60
	}
	if c.GuildBurst <= 0 {
		c.GuildBurst = 20
	}
	if c.RefusalDMEvery <= 0 {
		c.RefusalDMEvery = time.Hour
	}
	if c.HandlerTimeout <= 0 {
		c.HandlerTimeout = 2 * time.Minute
	}
	if c.InteractionAnswerWithin <= 0 {
		c.InteractionAnswerWithin = 2500 * time.Millisecond
	}
	if c.InteractionMaxAge <= 0 {
		c.InteractionMaxAge = 5 * time.Minute
	}
	if c.PartyCheckEvery <= 0 {
		c.PartyCheckEvery = 15 * time.Second
	}
	if c.DeferredClaim <= 0 {
		c.DeferredClaim = 15 * time.Second
	}
	if c.DeferredRenewEvery <= 0 {
		c.DeferredRenewEvery = c.DeferredClaim / 3
	}
	if c.DeferredSweepEvery <= 0 {
		c.DeferredSweepEvery = 5 * time.Second
	}
	if c.DeferredKeep <= 0 {
		c.DeferredKeep = time.Hour
	}
	return c
}

// GatewayOn reports whether the process connects to the gateway (the
// default) rather than serving only the HTTP interactions endpoint.
func (c Config) GatewayOn() bool { return c.Gateway == nil || *c.Gateway }

// Kudos is what the bot needs from the kudos engine: the commands' needs
// plus the reaction and thanks events. *kudos.Engine satisfies it.
type Kudos interface {
	commands.Kudos
	// Config is the engine's configuration (award emojis, art channels).
	Config() kudos.Config
	// OnReactionAdded records a reaction award or returns a refusal (kudos.IsRefusal).
	OnReactionAdded(ctx context.Context, ev kudos.ReactionAdded) (kudos.Outcome, error)
	// OnReactionRemoved revokes a pending award made with that reaction.
	OnReactionRemoved(ctx context.Context, ev kudos.ReactionRemoved) (int, error)
	// OnThanks records a thanks reply as a helpful award, or returns a refusal (kudos.IsRefusal).
	OnThanks(ctx context.Context, r kudos.ThanksReply) (kudos.Outcome, error)
}

var _ Kudos = (*kudos.Engine)(nil)

// Store is what the bot persists: pending result deliveries, small
// settings (the registered commands' hash) and the posts "share" made in
// the art channel, and the members' /settings. *store.Store satisfies it.
type Store interface {
	commands.DeliveryStore
	DeferredStore
	commands.SharedPostStore
	commands.MemberSettingsStore
	// SharedPost returns the shared post of a message; an error wrapping
	// horde.ErrNotFound if the bot made no shared post with that id.
	SharedPost(ctx context.Context, messageID string) (sharedpost.Post, error)
	// ForgetSharedPost deletes the record of a shared post whose message was
	// deleted (the web gallery drops it); any other message changes nothing.
	ForgetSharedPost(ctx context.Context, messageID string) error
	// DiscordSetting returns a setting; an error wrapping horde.ErrNotFound if never set.
	DiscordSetting(ctx context.Context, key string) (string, error)
	// SetDiscordSetting stores a setting.
	SetDiscordSetting(ctx context.Context, key, value string) error
}

// Deps are the services the bot calls.
type Deps struct {
	Horde commands.Horde
	// Kudos may be nil at New and set with SetKudos before Start: the kudos
	// engine itself takes the bot as its MemberDirectory and leaderboard poster.
	Kudos Kudos
	Store Store
	// Moderation serves /mod; nil takes Horde (a *horde.Horde satisfies both).
	Moderation commands.Moderation
	// Filter serves /mod filter test; nil disables it.
	Filter commands.PromptChecker
	// Roles feeds the role rewards (Config.RoleRewards); nil disables them.
	Roles RoleStandings
	// Ratings puts rating buttons on shared posts; nil: none.
	Ratings commands.Ratings
	// Previews shows live previews in /imagine progress messages; nil: none.
	Previews commands.Previews
	// Styles are the horde's styles (/style, /imagine style); nil: none.
	// *api.StyleRules over the store satisfies it.
	Styles commands.Styles
	// Events wakes result watchers when their request finishes; nil: they poll.
	Events commands.RequestEvents
}

// Bot is the Discord bot. Create it with New, then Start it with a session.
type Bot struct {
	cfg    Config
	deps   Deps
	log    *slog.Logger
	limits *limiter

	mu sync.Mutex
	// session makes the bot's own REST calls (posts, member lists,
	// command registration); shards are the gateway sessions it opened,
	// and shardCount their total over all processes (0 without gateway).
	session    *discordgo.Session
	shards     []*discordgo.Session
	shardCount int
	set        *commands.Set
	started    bool
	stopping   bool
	cancel     context.CancelFunc
	removers   []func()
	inflight   sync.WaitGroup
	background sync.WaitGroup // the bot's own loops (role rewards), ended by Stop
	refusals   *dmThrottle
	audit      *auditor // posts moderation events to the audit channel (audit.go)
	// readyUserID is the bot's own user id from the last READY (or, with
	// no gateway, from GET /users/@me).
	readyUserID string
	replays     *replayGuard // interaction ids the HTTP endpoint has seen
	// owner names this run's claims on deferred interactions (deferred.go);
	// servesHTTP is set once the interactions endpoint's handler is made.
	owner      string
	servesHTTP bool
}

// New returns a bot; nothing runs until Start.
func New(cfg Config, deps Deps) *Bot {
	cfg = cfg.withDefaults()
	if cfg.Locale != "" {
		if _, ok := locale.LanguageOf(discordgo.Locale(cfg.Locale)); !ok {
			cfg.Logger.Warn("discord.locale names a language the bot does not speak: posts follow the guild's language, else English",
				"locale", cfg.Locale, "languages", locale.Codes())
		}
	}
	return &Bot{
		cfg: cfg, deps: deps, log: cfg.Logger,
		limits:   newLimiter(cfg.CommandsPerMinute, cfg.UserBurst, cfg.GuildCommandsPerMinute, cfg.GuildBurst, cfg.Clock),
		refusals: newDMThrottle(cfg.RefusalDMEvery, cfg.Clock),
		audit:    newAuditor(cfg.AuditChannelID, cfg.Retry, cfg.Logger),
		replays:  newReplayGuard(),
		owner:    newOwnerID(),
	}
}

// SetKudos sets the kudos engine; call it before Start.
func (b *Bot) SetKudos(k Kudos) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.deps.Kudos = k
}

// Intents are the gateway intents the bot always asks for: guilds, guild
// messages and reactions, and direct messages. When the kudos engine detects
// thanks, the privileged message content intent is added (replies' text is
// read); it must then be enabled for the application in the developer portal.
const Intents = discordgo.IntentsGuilds | discordgo.IntentsGuildMessages | discordgo.IntentsGuildMessageReactions |
	discordgo.IntentsDirectMessages

// Start sets the session's intents, adds the handlers, opens the gateway,
// registers the slash commands (skipped when their hash is unchanged) and
// resumes the result deliveries a previous run left pending. ctx bounds
// Start itself; the bot then runs until Stop. The session is the bot's one
// gateway connection (its ShardID and ShardCount say which shard it is) and
// makes its REST calls; StartSessions runs several shards or none.
func (b *Bot) Start(ctx context.Context, s *discordgo.Session) error {
	return b.StartSessions(ctx, Sessions{REST: s, Shards: []*discordgo.Session{s}})
}

// Sessions are the discordgo sessions a bot runs on.
type Sessions struct {
	// REST makes the bot's own REST calls; it may be one of Shards. When it
	// is not, it is never opened (an interactions-only process).
	REST *discordgo.Session
	// Shards are the gateway sessions to open, each with its ShardID and
	// ShardCount set (see ShardPlan.Sessions); empty: no gateway.
	Shards []*discordgo.Session
	// MaxConcurrency is how many shards identify at once (0: 1); further
	// ones wait Discord's 5 s per bucket.
	MaxConcurrency int
}

// StartSessions is Start over several gateway shards (or none): every shard
// gets the same intents and handlers, and they are opened with Discord's
// IDENTIFY pacing. Closing the sessions after Stop is the caller's job.
func (b *Bot) StartSessions(ctx context.Context, ss Sessions) error {
	if ss.REST == nil {
		return errors.New("bot: no REST session")
	}
	b.mu.Lock()
	if b.started {
		b.mu.Unlock()
		return errors.New("bot already started")
	}
	if b.deps.Horde == nil {
		b.mu.Unlock()
		return errors.New("bot: no horde")
	}
	var kd commands.Kudos
	if b.deps.Kudos != nil {
		kd = b.deps.Kudos
	}
	var (
		ds commands.DeliveryStore
		sp commands.SharedPostStore
		ms commands.MemberSettingsStore
	)
	if b.deps.Store != nil {
		ds, sp, ms = b.deps.Store, b.deps.Store, b.deps.Store
	}
	b.shards = ss.Shards
	b.shardCount = 0
	if len(ss.Shards) > 0 {
		b.shardCount = max(ss.Shards[0].ShardCount, 1)
	}
	ccfg := b.cfg.Config
	if len(ss.Shards) > 0 && b.shardCount > 1 {
		// Another process runs the other shards and resumes their guilds' deliveries.
		ccfg.ResumeFilter = b.ownsGuild
	}
	b.set = commands.New(ccfg, commands.Deps{Horde: b.deps.Horde, Kudos: kd, Deliveries: ds, SharedPosts: sp,
		Moderation: b.deps.Moderation, Filter: b.deps.Filter, Ratings: b.deps.Ratings, Previews: b.deps.Previews,
		Styles: b.deps.Styles, Settings: ms, Events: b.deps.Events})
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.session, b.cancel, b.started = ss.REST, cancel, true
	intents := Intents
	if b.deps.Kudos != nil && b.deps.Kudos.Config().Thanks {
		intents |= discordgo.IntentsMessageContent
	}
	b.removers = nil
	for _, s := range ss.Shards {
		s.Identify.Intents = intents
		b.removers = append(b.removers,
			s.AddHandler(b.onInteraction),
			s.AddHandler(b.onReactionAdd),
			s.AddHandler(b.onReactionRemove),
			s.AddHandler(b.onMessageCreate),
			s.AddHandler(b.onMessageDelete),
			s.AddHandler(func(s *discordgo.Session, r *discordgo.Ready) {
				if r.User != nil {
					b.mu.Lock()
					b.readyUserID = r.User.ID
					b.mu.Unlock()
				}
				b.log.Info("discord ready", "user", r.User.Username, "guilds", len(r.Guilds), "session", r.SessionID,
					"shard", s.ShardID, "shards", max(s.ShardCount, 1))
			}),
		)
	}
	b.mu.Unlock()

	if len(ss.Shards) > 0 {
		b.warnWithoutShardZero(ss.Shards)
		if err := openShards(ctx, ss.Shards, ss.MaxConcurrency, sleepCtx); err != nil {
			b.abortStart()
			return fmt.Errorf("open discord gateway: %w", err)
		}
	} else if err := b.identifyOverREST(ctx, ss.REST); err != nil {
		b.abortStart()
		return err
	}
	closeShards := func() {
		for _, s := range ss.Shards {
			_ = s.Close()
		}
	}
	if err := b.registerCommands(ctx, ss.REST); err != nil {
		b.abortStart()
		closeShards()
		return err
	}
	b.audit.start(ss.REST)
	if err := b.set.Start(runCtx, ss.REST); err != nil {
		// The bot works without the old deliveries; say so loudly.
		b.log.Error("resume pending deliveries", "err", err)
	}
	b.startDeferredSweeps(runCtx)
	if len(ss.Shards) > 0 {
		b.startRoleRewards(runCtx) // a process without gateway owns no guild
		b.startPartyEnds(runCtx)
	}
	b.log.Info("bot started", "guilds", b.cfg.GuildIDs, "gateway_shards", shardIDs(ss.Shards), "shard_count", b.shardCount)
	return nil
}

// warnWithoutShardZero says, once at start, that this process will see no
// DMs: Discord sends them only to shard 0.
func (b *Bot) warnWithoutShardZero(shards []*discordgo.Session) {
	if slices.Contains(shardIDs(shards), 0) {
		return
	}
	b.log.Warn("this process does not run gateway shard 0: Discord sends every DM event to shard 0, so DM features "+
		"(worker registration in DMs, unless slash commands come by the interactions endpoint) need shard 0 in another process (discord.shards.ids)",
		"shards", shardIDs(shards), "shard_count", b.shardCount)
}

func shardIDs(shards []*discordgo.Session) []int {
	ids := make([]int, 0, len(shards))
	for _, s := range shards {
		ids = append(ids, s.ShardID)
	}
	return ids
}

// ownsGuild reports whether a guild's gateway events reach this process:
// its shard ((guild_id >> 22) % shard count, shard 0 for DMs) is one of the
// shards it runs. Work a process does on its own for a guild (resuming its
// deliveries) is limited to those guilds; a process without gateway owns
// none, one running every shard owns all.
func (b *Bot) ownsGuild(guildID string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.shards {
		if ShardOf(guildID, b.shardCount) == s.ShardID {
			return true
		}
	}
	return false
}

// identifyOverREST fills a never-opened session's state with the bot user
// and the application, which READY gives gateway sessions: command
// registration and "is this the bot's own message" need them.
func (b *Bot) identifyOverREST(ctx context.Context, s *discordgo.Session) error {
	var (
		u   *discordgo.User
		app *discordgo.Application
	)
	err := b.cfg.Retry.Do(ctx, "get the bot user", func(opts ...discordgo.RequestOption) error {
		var err error
		if u, err = s.User("@me", opts...); err != nil {
			return err
		}
		app, err = s.Application("@me")
		return err
	})
	if err != nil {
		return fmt.Errorf("identify the bot over REST: %w", err)
	}
	s.State.Lock()
	s.State.User = u
	s.State.Application = app
	s.State.Unlock()
	b.mu.Lock()
	b.readyUserID = u.ID
	b.mu.Unlock()
	b.log.Info("discord identified over REST (no gateway)", "user", u.Username, "application", app.ID)
	return nil
}

func (b *Bot) abortStart() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, rm := range b.removers {
		rm()
	}
	b.removers = nil
	b.cancel()
	b.started = false
}

// Stop drains the bot: new interactions are refused, those being handled
// finish, the result watchers stop (their deliveries stay persisted, so the
// next Start resumes them) and the bot's handlers are removed. The session
// stays open: its creator closes it after Stop (discordgo's Close waits about
// a second for Discord to close the websocket).
func (b *Bot) Stop() {
	b.mu.Lock()
	if !b.started || b.stopping {
		b.mu.Unlock()
		return
	}
	b.stopping = true
	b.mu.Unlock()

	b.inflight.Wait()
	b.mu.Lock()
	for _, rm := range b.removers {
		rm()
	}
	b.removers = nil
	b.mu.Unlock()
	b.cancel()
	b.background.Wait()
	b.releaseDeferred()
	b.set.Wait()
	b.audit.stop()
	b.log.Info("bot stopped")
}

// enter registers an event being handled; false once Stop began.
func (b *Bot) enter() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.started || b.stopping {
		return false
	}
	b.inflight.Add(1)
	return true
}

// Commands returns the command set (after Start), for inspection in tests and tools.
func (b *Bot) Commands() *commands.Set {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.set
}

func (b *Bot) kudos() Kudos {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.deps.Kudos
}

// selfID is the bot's own Discord user id: the session state's (set from
// READY before any handler runs), else the one the READY handler saw; ""
// before the first READY.
func (b *Bot) selfID(s *discordgo.Session) string {
	if s != nil && s.State != nil {
		s.State.RLock()
		u := s.State.User
		s.State.RUnlock()
		if u != nil && u.ID != "" {
			return u.ID
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.readyUserID
}

func (b *Bot) sess() *discordgo.Session {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.session
}

// eventDone reports a handled gateway event to the EventDone hook.
func (b *Bot) eventDone(event string, err error) {
	if b.cfg.EventDone != nil {
		b.cfg.EventDone(event, err)
	}
}

func (b *Bot) handlerContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), b.cfg.HandlerTimeout)
}

// Package bot is hordebot's Discord side: it takes a discordgo session, sets
// its intents and handlers, registers the slash commands, routes interactions
// to the commands package (both answer through bot/interact), turns
// reactions and thank-you replies into kudos events, applies per-member and
// per-guild rate limits, and posts the kudos engine's scheduled results. It
// keeps no package state: the session, the scheduler, the kudos engine and
// the store are passed in.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

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
	return c
}

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
// the art channel. *store.Store satisfies it.
type Store interface {
	commands.DeliveryStore
	commands.SharedPostStore
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
}

// Bot is the Discord bot. Create it with New, then Start it with a session.
type Bot struct {
	cfg    Config
	deps   Deps
	log    *slog.Logger
	limits *limiter

	mu       sync.Mutex
	session  *discordgo.Session
	set      *commands.Set
	started  bool
	stopping bool
	cancel   context.CancelFunc
	removers []func()
	inflight sync.WaitGroup
	refusals *dmThrottle
	audit    *auditor // posts moderation events to the audit channel (audit.go)
	// readyUserID is the bot's own user id from the last READY.
	readyUserID string
}

// New returns a bot; nothing runs until Start.
func New(cfg Config, deps Deps) *Bot {
	cfg = cfg.withDefaults()
	return &Bot{
		cfg: cfg, deps: deps, log: cfg.Logger,
		limits:   newLimiter(cfg.CommandsPerMinute, cfg.UserBurst, cfg.GuildCommandsPerMinute, cfg.GuildBurst, cfg.Clock),
		refusals: newDMThrottle(cfg.RefusalDMEvery, cfg.Clock),
		audit:    newAuditor(cfg.AuditChannelID, cfg.Retry, cfg.Logger),
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
// Start itself; the bot then runs until Stop.
func (b *Bot) Start(ctx context.Context, s *discordgo.Session) error {
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
	)
	if b.deps.Store != nil {
		ds, sp = b.deps.Store, b.deps.Store
	}
	b.set = commands.New(b.cfg.Config, commands.Deps{Horde: b.deps.Horde, Kudos: kd, Deliveries: ds, SharedPosts: sp,
		Moderation: b.deps.Moderation, Filter: b.deps.Filter})
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.session, b.cancel, b.started = s, cancel, true
	s.Identify.Intents = Intents
	if b.deps.Kudos != nil && b.deps.Kudos.Config().Thanks {
		s.Identify.Intents |= discordgo.IntentsMessageContent
	}
	b.removers = []func(){
		s.AddHandler(b.onInteraction),
		s.AddHandler(b.onReactionAdd),
		s.AddHandler(b.onReactionRemove),
		s.AddHandler(b.onMessageCreate),
		s.AddHandler(b.onMessageDelete),
		s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
			if r.User != nil {
				b.mu.Lock()
				b.readyUserID = r.User.ID
				b.mu.Unlock()
			}
			b.log.Info("discord ready", "user", r.User.Username, "guilds", len(r.Guilds), "session", r.SessionID)
		}),
	}
	b.mu.Unlock()

	if err := s.Open(); err != nil {
		b.abortStart()
		return fmt.Errorf("open discord gateway: %w", err)
	}
	if err := b.registerCommands(ctx, s); err != nil {
		b.abortStart()
		_ = s.Close()
		return err
	}
	b.audit.start(s)
	if err := b.set.Start(runCtx, s); err != nil {
		// The bot works without the old deliveries; say so loudly.
		b.log.Error("resume pending deliveries", "err", err)
	}
	b.log.Info("bot started", "guilds", b.cfg.GuildIDs)
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

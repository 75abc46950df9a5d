// Package commands holds the Discord slash commands, buttons and
// autocomplete handlers of hordebot. Each command lives in its own file that
// owns both its definition and its handlers; a Set gathers them for the bot's
// router. Commands call the scheduler and the kudos engine through the narrow
// interfaces in deps.go, never the store directly. The interaction plumbing
// they answer with (Interaction, Options, retries) is in bot/interact, which
// the bot's router uses too.
package commands

import (
	"context"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
)

// Command is one slash command: its definition and its handlers.
type Command struct {
	Def *discordgo.ApplicationCommand
	// Defer says how to acknowledge the interaction before Handle runs; nil is interact.DeferNone.
	Defer func(ix *interact.Interaction) interact.DeferMode
	// Handle runs the command. An error is turned into an ephemeral reply by the bot.
	Handle func(ctx context.Context, ix *interact.Interaction) error
	// Autocomplete answers the focused option's choices; nil if the command has none.
	Autocomplete func(ctx context.Context, ix *interact.Interaction) ([]*discordgo.ApplicationCommandOptionChoice, error)
	// Resumable says the command survives its process: the bot records
	// the interaction before deferring it, and when the process dies
	// before Handle queued its request, the next run or another process
	// runs Handle again (the deferral already sent). Handle must queue at
	// most one request, through submitAndWatch, or one interrogation,
	// through interrogateAndWatch, which link it to the interaction so
	// that it is queued once whoever runs it. What Handle reads of the
	// interaction (options, resolved attachments and messages, a form's
	// values) is in the record; what it fetches it fetches again.
	Resumable bool
}

// Component handles the buttons (or, registered as a form, the modal
// submits) whose custom ID is Prefix followed by "/"-separated arguments
// (e.g. "imagine/upscale/{request}/{n}").
type Component struct {
	Prefix string
	Defer  func(ix *interact.Interaction) interact.DeferMode
	Handle func(ctx context.Context, ix *interact.Interaction, args []string) error
	// Resumable: as Command.Resumable (a form's: its modal submit, an
	// interaction of its own). Handle queues at most one request
	// (submitAndWatch) or interrogation (interrogateAndWatch).
	Resumable bool
}

// Config tunes the commands. Zero values take the defaults. It is part of
// bot.Config (embedded there), so the bot and the commands read the same
// values; the json names are the keys of the config file's discord section
// (the other fields are set by the program, not the file).
type Config struct {
	// ArtChannelID is where "share" posts images; empty disables sharing.
	ArtChannelID string `json:"art_channel_id"`
	// AuditChannelID receives a line for every moderator award; empty disables.
	AuditChannelID string `json:"audit_channel_id"`
	// Locale is the language of what the bot posts outside an interaction
	// (leaderboards, art tallies, level-ups, the audit channel, DMs about
	// reactions): a Discord locale code such as "de" or "es-ES". Empty: the
	// guild's preferred locale ("Server Primary Language", a community
	// server's setting), else English. Members' own replies follow their
	// Discord language whatever this says.
	Locale string `json:"locale"`
	// ModeratorRoleIDs may use /kudos award.
	ModeratorRoleIDs []string `json:"moderator_role_ids"`
	// StyleManagerRoleIDs may create and edit the horde's styles with
	// /style (style.go); moderators always may.
	StyleManagerRoleIDs []string `json:"style_manager_role_ids"`
	// RoleLimits bounds /imagine and /write per role (role_limits.go).
	RoleLimits RoleLimits `json:"role_limits"`
	// PublicURL is the horde API address shown to worker owners.
	PublicURL string `json:"-"`
	// WebURL, when set, is the web pages' address: progress messages link
	// to the request's live page, WebURL + "/r/" + id.
	WebURL string `json:"-"`
	// MaxFiles and MaxFileBytes bound a message's attachments (Discord: 10 files, 10 MiB by default).
	MaxFiles     int `json:"-"`
	MaxFileBytes int `json:"-"`
	// PollInterval is how often a pending request is checked; EditEvery the
	// least time between two progress edits of its message.
	PollInterval time.Duration `json:"-"`
	EditEvery    time.Duration `json:"-"`
	// TokenLifetime is how long after an interaction its token is trusted
	// for edits (Discord's is 15 minutes); later results go to the channel.
	TokenLifetime time.Duration `json:"-"`
	// ResumeFilter, if set, limits the pending deliveries Start resumes to
	// those of the guilds ("" for DMs) it accepts: with gateway shards split
	// over processes, each resumes those of its own shards' guilds.
	ResumeFilter func(guildID string) bool `json:"-"`
	// AttachmentHosts are the hosts (host, or host:port) members' images
	// are fetched from (attachment.go); default DefaultAttachmentHosts,
	// Discord's CDN. AttachmentClient fetches them (default: a plain
	// client; a redirect is followed only to an allowed host).
	AttachmentHosts  []string     `json:"-"`
	AttachmentClient *http.Client `json:"-"`
	// MaxSourceBytes and MaxSourcePixels bound a member's image (default
	// 10 MiB and 3072x3072); FetchTimeout one download (default 20 s).
	MaxSourceBytes  int           `json:"-"`
	MaxSourcePixels int           `json:"-"`
	FetchTimeout    time.Duration `json:"-"`
	// Retry tunes retries of Discord REST calls.
	Retry  interact.Retrier `json:"-"`
	Clock  horde.Clock      `json:"-"`
	Logger *slog.Logger     `json:"-"`
}

// WithDefaults returns c with every zero value replaced by its default
// (10 files of 10 MiB, polls every 2s, edits every 5s (negative: every
// poll), tokens trusted for 14m, the API on http://127.0.0.1:7001, the
// system clock, the default logger).
func (c Config) WithDefaults() Config {
	if c.MaxFiles <= 0 {
		c.MaxFiles = 10
	}
	if c.MaxFileBytes <= 0 {
		c.MaxFileBytes = 10 << 20
	}
	if c.PollInterval <= 0 {
		c.PollInterval = 2 * time.Second
	}
	if c.EditEvery < 0 {
		c.EditEvery = 0
	} else if c.EditEvery == 0 {
		c.EditEvery = 5 * time.Second
	}
	if c.TokenLifetime <= 0 {
		c.TokenLifetime = 14 * time.Minute
	}
	if len(c.AttachmentHosts) == 0 {
		c.AttachmentHosts = DefaultAttachmentHosts
	}
	if c.MaxSourceBytes <= 0 {
		c.MaxSourceBytes = DefaultMaxSourceBytes
	}
	if c.MaxSourcePixels <= 0 {
		c.MaxSourcePixels = DefaultMaxSourcePixels
	}
	if c.FetchTimeout <= 0 {
		c.FetchTimeout = DefaultFetchTimeout
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://127.0.0.1:7001"
	}
	if c.Clock == nil {
		c.Clock = horde.SystemClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Deps are the services the commands call.
type Deps struct {
	Horde      Horde
	Kudos      Kudos
	Deliveries DeliveryStore
	// SharedPosts, if set, records the art-channel posts of "share".
	SharedPosts SharedPostStore
	// Moderation serves /mod; nil takes Horde when it satisfies Moderation
	// (*horde.Horde does).
	Moderation Moderation
	// Filter serves /mod filter test; nil disables that subcommand.
	Filter PromptChecker
	// Ratings, if set, puts 1-10 rating buttons on shared posts (share_ratings.go).
	Ratings Ratings
	// Previews, if set, gives the live previews the /imagine progress
	// message shows while its images are made; nil: none are shown.
	Previews Previews
	// Parties serves /party and pays its awards when results are
	// delivered; nil takes Kudos when it satisfies Parties (*kudos.Engine
	// does). Without it, or with parties switched off, there is no /party.
	Parties Parties
	// Styles, if set, are the horde's styles: /imagine style, /style and
	// the style of /settings; nil: no /style, and /imagine style is refused.
	Styles Styles
	// Settings, if set, keeps the members' /settings; nil: no /settings.
	Settings MemberSettingsStore
	// Events, if set, wakes a result's watcher as soon as its request
	// finishes, on this process or (PostgreSQL) another; the poll every
	// PollInterval stays the fallback. nil: the poll alone.
	Events RequestEvents
	// Alchemy serves describe and upscale (alchemy.go); nil takes Horde
	// when it satisfies Alchemy (*horde.Horde does), else they are off.
	Alchemy Alchemy
}

// Set is every command and button handler, plus the watchers that deliver
// results. Create it with New.
type Set struct {
	cfg       Config
	horde     Horde
	kudos     Kudos
	dstore    DeliveryStore
	shares    SharedPostStore
	mod       Moderation
	filter    PromptChecker
	ratings   Ratings             // nil: shared posts carry no rating buttons
	cooldowns cooldowns           // members' last requests, for RoleLimits
	pv        Previews            // nil: no live previews
	parties   Parties             // nil: no /party, no party awards
	styles    Styles              // nil: no styles
	settings  MemberSettingsStore // nil: no /settings
	events    RequestEvents       // nil: watchers only poll
	fetcher   *attachmentFetcher
	alchemy   Alchemy // nil: describe and upscale are off
	log       *slog.Logger

	cmds  map[string]*Command
	comps map[string]*Component
	forms map[string]*Component // modal submits, by custom-ID prefix

	mu       sync.Mutex
	session  *discordgo.Session
	baseCtx  context.Context
	watching map[string]bool
	wg       sync.WaitGroup
}

// New builds the command set.
func New(cfg Config, deps Deps) *Set {
	cfg = cfg.WithDefaults()
	s := &Set{
		cfg: cfg, horde: deps.Horde, kudos: deps.Kudos, dstore: deps.Deliveries, shares: deps.SharedPosts, log: cfg.Logger,
		cmds: map[string]*Command{}, comps: map[string]*Component{}, forms: map[string]*Component{},
		watching: map[string]bool{}, baseCtx: context.Background(),
		mod: deps.Moderation, filter: deps.Filter, ratings: deps.Ratings, pv: deps.Previews, events: deps.Events,
		styles: deps.Styles, settings: deps.Settings,
		fetcher: newAttachmentFetcher(cfg),
	}
	if s.mod == nil {
		s.mod, _ = deps.Horde.(Moderation)
	}
	if s.parties = deps.Parties; s.parties == nil {
		s.parties, _ = deps.Kudos.(Parties)
	}
	if s.parties != nil && !s.parties.PartyConfig().Enabled {
		s.parties = nil
	}
	if s.alchemy = deps.Alchemy; s.alchemy == nil {
		s.alchemy, _ = deps.Horde.(Alchemy)
	}
	cmds := []*Command{s.imagineCommand(), s.writeCommand(), s.kudosCommand(), s.workerCommand(), s.hordeCommand(), s.modCommand()}
	if s.parties != nil {
		cmds = append(cmds, s.partyCommand())
	}
	cmds = append(cmds, s.userMenus()...)
	for _, c := range append(cmds, s.workflowCommands()...) {
		s.cmds[c.Def.Name] = c
	}
	if s.styles != nil {
		s.cmds["style"] = s.styleCommand()
	}
	if s.settings != nil {
		s.cmds["settings"] = s.settingsCommand()
	}
	for _, f := range append(s.workflowForms(), s.userMenuForms()...) {
		s.forms[f.Prefix] = f
	}
	for _, c := range append(append(s.imagineButtons(), s.ratingComponents()...), s.imageWorkflowButtons()...) {
		c.Handle = onItsMessage(c.Handle) // a custom ID is the client's: its message is Discord's
		s.comps[c.Prefix] = c
	}
	// Names and descriptions in the members' languages (locale.LocalizeCommands);
	// a path a catalog lacks stays in English, which the locale tests report.
	if problems := locale.Default().LocalizeCommands(s.Definitions()); len(problems) > 0 {
		s.log.Debug("slash command localisations missing or refused", "count", len(problems), "first", problems[0])
	}
	return s
}

// Definitions returns every command definition, sorted by name (stable, so
// that a hash of them changes only when a definition does).
func (s *Set) Definitions() []*discordgo.ApplicationCommand {
	defs := make([]*discordgo.ApplicationCommand, 0, len(s.cmds))
	for _, c := range s.cmds {
		defs = append(defs, c.Def)
	}
	sort.Slice(defs, func(i, j int) bool { return defs[i].Name < defs[j].Name })
	return defs
}

// Command returns the command named name, or nil.
func (s *Set) Command(name string) *Command { return s.cmds[name] }

// Component returns the handler of a button's custom ID and the arguments
// after its prefix, or nil. The longest matching prefix wins.
func (s *Set) Component(customID string) (*Component, []string) {
	parts := strings.Split(customID, "/")
	for n := len(parts); n > 0; n-- {
		if c, ok := s.comps[strings.Join(parts[:n], "/")]; ok {
			return c, parts[n:]
		}
	}
	return nil, nil
}

// Form returns the handler of a modal submit's custom ID and the arguments
// after its prefix, or nil. The longest matching prefix wins.
func (s *Set) Form(customID string) (*Component, []string) {
	parts := strings.Split(customID, "/")
	for n := len(parts); n > 0; n-- {
		if c, ok := s.forms[strings.Join(parts[:n], "/")]; ok {
			return c, parts[n:]
		}
	}
	return nil, nil
}

// Start binds the set to the session results are delivered on and resumes
// watching the deliveries persisted by an earlier run. Watchers run until
// ctx ends; Wait waits for them.
func (s *Set) Start(ctx context.Context, session *discordgo.Session) error {
	s.mu.Lock()
	s.session, s.baseCtx = session, ctx
	s.mu.Unlock()
	return s.resumeDeliveries(ctx)
}

// Wait blocks until every watcher started by the set has returned (after
// the context given to Start ended, or their results were delivered).
func (s *Set) Wait() { s.wg.Wait() }

// Watching returns how many requests are being watched for delivery.
func (s *Set) Watching() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.watching)
}

// IsModerator reports whether a member holds one of the configured moderator roles.
func (s *Set) IsModerator(m *discordgo.Member) bool {
	if m == nil {
		return false
	}
	for _, r := range m.Roles {
		for _, mr := range s.cfg.ModeratorRoleIDs {
			if r == mr {
				return true
			}
		}
	}
	return false
}

func deferAlways(mode interact.DeferMode) func(*interact.Interaction) interact.DeferMode {
	return func(*interact.Interaction) interact.DeferMode { return mode }
}

// unknownSubcommand is the refusal of a subcommand this bot does not have
// (Discord still shows a registration older than the bot's), worded in
// the member's language by the catalogs (error.ValidationError.subcommand).
func unknownSubcommand(ix *interact.Interaction, sub string) error {
	cmd := ""
	if ix.I.Type == discordgo.InteractionApplicationCommand {
		cmd = ix.I.ApplicationCommandData().Name
	}
	return horde.Invalidf("", "/%s has no subcommand %q", cmd, sub).InCase("subcommand").With("Command", cmd).With("Sub", sub)
}

// subCommand is a subcommand definition with its options.
func subCommand(name, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{Type: discordgo.ApplicationCommandOptionSubCommand, Name: name, Description: desc, Options: opts}
}

package discordtest

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// DefaultToken is the bot token a Server accepts unless WithToken says otherwise.
const DefaultToken = "discordtest-bot-token"

// DefaultFileSizeLimit is the largest attachment the fake accepts by default
// (Discord's limit for an unboosted guild).
const DefaultFileSizeLimit = 10 << 20

// Server is a fake Discord. Create it with New and stop it with Close. All
// methods are safe for concurrent use.
type Server struct {
	cfg       config
	http      *http.Server
	listener  net.Listener
	url       string          // http://127.0.0.1:port
	base      *url.URL        // url, parsed
	transport *http.Transport // the clients' connections to the fake (no proxy)

	mu           sync.Mutex
	ids          snowflakes
	bot          discordgo.User
	users        map[string]*userState
	guilds       map[string]*guildState
	guildOrder   []string
	channels     map[string]*channelState
	dms          map[string]string // user id -> DM channel id
	interactions map[string]*interactionState
	commands     map[string][]*discordgo.ApplicationCommand // guild id ("" = global) -> commands
	attachments  map[string]File                            // attachment id -> bytes
	uploads      map[string]*uploadState                    // attachments uploaded for command options
	records      []Recorded
	rateLimits   []rateLimitRule
	changed      chan struct{} // closed and replaced whenever state or records change
	closed       bool

	gw       gateway
	endpoint endpoint // the Interactions Endpoint URL (interactions_http.go)
}

type config struct {
	token     string
	appID     string
	botName   string
	heartbeat time.Duration
	fileLimit int64
	now       func() time.Time
	log       *slog.Logger
	// shards and maxConcurrency are what GET /gateway/bot recommends.
	shards             int
	maxConcurrency     int
	sessionStarts      int
	interactionTimeout time.Duration
}

// Option configures a Server.
type Option func(*config)

// WithToken sets the bot token the fake accepts on REST calls (as "Bot <token>")
// and in the gateway IDENTIFY.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// WithApplicationID sets the application id; the bot user gets the same id, as
// on Discord for applications created since 2019.
func WithApplicationID(id string) Option { return func(c *config) { c.appID = id } }

// WithBotName sets the bot user's username.
func WithBotName(name string) Option { return func(c *config) { c.botName = name } }

// WithHeartbeatInterval sets the heartbeat_interval sent in HELLO (default
// 41.25 s, as Discord). discordgo v0.29 heartbeats once right after
// connecting, so a long interval costs tests nothing; a short one lets its
// heartbeat goroutine race the reconnect logic (a tick during Close's
// one-second sleep makes it close and reopen the new connection).
func WithHeartbeatInterval(d time.Duration) Option { return func(c *config) { c.heartbeat = d } }

// WithFileSizeLimit sets the largest attachment accepted, in bytes; bigger
// uploads answer 413 as Discord does.
func WithFileSizeLimit(n int64) Option { return func(c *config) { c.fileLimit = n } }

// WithClock sets the clock used for timestamps, snowflakes and joined_at defaults.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithRecommendedShards sets the shard count GET /gateway/bot recommends
// (default 1). The fake serves any shard count a session identifies with.
func WithRecommendedShards(n int) Option { return func(c *config) { c.shards = n } }

// WithMaxConcurrency sets session_start_limit.max_concurrency in GET
// /gateway/bot: how many shards may identify at once (default 16, a large
// bot's; Discord's default is 1).
func WithMaxConcurrency(n int) Option { return func(c *config) { c.maxConcurrency = n } }

// WithSessionStartLimit sets session_start_limit.total in GET /gateway/bot,
// the IDENTIFYs allowed a day (default 1000); each one the fake accepts
// lowers remaining.
func WithSessionStartLimit(n int) Option { return func(c *config) { c.sessionStarts = n } }

// WithInteractionTimeout sets how long an interaction POST waits for the
// bot's answer (default DefaultInteractionTimeout, Discord's 3 s).
func WithInteractionTimeout(d time.Duration) Option {
	return func(c *config) { c.interactionTimeout = d }
}

// WithLogger sets the logger; by default the fake logs nothing.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// New starts a fake Discord on 127.0.0.1 with a bot user and no guilds.
func New(opts ...Option) *Server {
	cfg := config{
		token:     DefaultToken,
		botName:   "hordebot",
		heartbeat: 41250 * time.Millisecond,
		fileLimit: DefaultFileSizeLimit,
		now:       time.Now,
		log:       slog.New(slog.DiscardHandler),

		shards:             1,
		maxConcurrency:     16,
		sessionStarts:      1000,
		interactionTimeout: DefaultInteractionTimeout,
	}
	for _, o := range opts {
		o(&cfg)
	}
	s := &Server{
		cfg:          cfg,
		users:        map[string]*userState{},
		guilds:       map[string]*guildState{},
		channels:     map[string]*channelState{},
		dms:          map[string]string{},
		interactions: map[string]*interactionState{},
		commands:     map[string][]*discordgo.ApplicationCommand{},
		attachments:  map[string]File{},
		uploads:      map[string]*uploadState{},
		changed:      make(chan struct{}),
	}
	s.gw.init()
	s.endpoint.init()
	if s.cfg.appID == "" {
		s.cfg.appID = s.ids.next(s.cfg.now())
	}
	s.bot = discordgo.User{
		ID:            s.cfg.appID,
		Username:      s.cfg.botName,
		Discriminator: "0",
		Bot:           true,
		Verified:      true,
	}
	s.users[s.bot.ID] = &userState{user: s.bot}

	s.serve()
	return s
}

// Close disconnects every gateway connection and stops the server. Close the
// discordgo sessions first: a session whose server vanished keeps trying to
// reconnect.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.bumpLocked()
	s.mu.Unlock()
	s.gw.closeAll(s)
	s.stopServing()
	s.gw.wg.Wait()
	s.endpoint.wg.Wait()
}

// URL is the fake's base URL, e.g. http://127.0.0.1:41234.
func (s *Server) URL() string { return s.url }

// GatewayURL is the websocket URL that GET /api/v9/gateway returns.
func (s *Server) GatewayURL() string { return "ws://" + s.base.Host + "/gateway" }

// Token is the bot token the fake accepts.
func (s *Server) Token() string { return s.cfg.token }

// ApplicationID is the application id; interactions carry it and webhook
// (follow-up) URLs must use it.
func (s *Server) ApplicationID() string { return s.cfg.appID }

// BotUser returns the bot's user object.
func (s *Server) BotUser() *discordgo.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.bot
	return &u
}

// Transport returns a RoundTripper that sends requests for discord.com (and
// the Discord CDN hosts) to the fake and refuses any other host.
func (s *Server) Transport() http.RoundTripper {
	return &rewriteTransport{target: s.base, base: s.transport}
}

// Client returns an HTTP client using Transport, for discordgo.Session.Client.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: s.Transport(), Timeout: 20 * time.Second}
}

// NewSession returns an unopened discordgo session wired to the fake:
//
//	s, err := discordgo.New("Bot " + token)
//	s.Client = srv.Client()
//	s.Dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second} // no proxy for 127.0.0.1
//
// The caller sets intents and handlers, then calls Open.
func (s *Server) NewSession(token string) (*discordgo.Session, error) {
	sess, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, fmt.Errorf("discordtest: new session: %w", err)
	}
	sess.Client = s.Client()
	sess.Dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	return sess, nil
}

// now returns the fake's current time.
func (s *Server) now() time.Time { return s.cfg.now().UTC() }

// bumpLocked wakes every waiter. Callers hold s.mu.
func (s *Server) bumpLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
)

// Config is the whole configuration: assets/default-config.yaml, overlaid by
// the --config file, overlaid by HORDEBOT_* environment variables. Secrets
// (DISCORD_TOKEN) come only from the environment and are not part of it.
type Config struct {
	// Data is the data directory: the SQLite database and the result images
	// when Database.URL is empty, and the model reference's cache always.
	Data string `json:"data"`
	// Database names the database (store.ParseDatabaseURL): empty is
	// SQLite in Data.
	Database DatabaseConfig `json:"database"`
	// DataMaxMiB caps the data directory (store.Options.MaxDBBytes): the
	// SQLite database plus the result images. Past it, writes are refused as
	// on a full disk (the API answers 503, the bot says storage is
	// unavailable). 0: no cap.
	DataMaxMiB int64 `json:"data_max_mib"`
	// Retention: how long results are kept, and the image folder's sweep.
	Retention RetentionConfig `json:"retention"`
	// Results: where result images live (results.go).
	Results  ResultsConfig `json:"results"`
	LogLevel string        `json:"log_level"`
	// MetricsListen, when set (e.g. "127.0.0.1:9464"), is where `run` and
	// `api` serve Prometheus metrics at /metrics. Empty: no metrics.
	MetricsListen string      `json:"metrics_listen"`
	API           APIConfig   `json:"api"`
	Horde         HordeConfig `json:"horde"`
	// Web: the community's web pages served beside the API (web_wiring.go).
	Web     WebConfig  `json:"web"`
	Discord bot.Config `json:"discord"`
	// Moderation: strikes, trust, escrow, suspicion; Filter: the prompt filter.
	Moderation ModerationConfig `json:"moderation"`
	Filter     FilterConfig     `json:"filter"`
	// Models names the model reference (baselines, step limits, nsfw).
	Models ModelsConfig `json:"models"`
	// Kudos is passed as it is to the kudos engine (kudos.Config).
	Kudos json.RawMessage `json:"kudos"`
}

// DatabaseConfig chooses the engine.
type DatabaseConfig struct {
	// URL is "sqlite:DIR" or "postgres://user@host:port/db?..." (also
	// postgresql://); empty: sqlite:<data>. HORDEBOT_DATABASE_URL and
	// --database override it; --data DIR means sqlite:DIR.
	URL string `json:"url"`
	// MaxConns is the PostgreSQL pool's size (0: store.DefaultMaxConns).
	MaxConns int `json:"max_conns"`
}

// DatabaseURL is the database the store opens: database.url, or the SQLite
// database in the data directory.
func (c Config) DatabaseURL() string {
	if c.Database.URL != "" {
		return c.Database.URL
	}
	return "sqlite:" + c.Data
}

// runsKudosSchedules says whether an `api` process contends for the kudos
// schedules' lease.
func (c APIConfig) runsKudosSchedules() bool { return c.KudosSchedules == nil || *c.KudosSchedules }

// APIConfig configures the AI Horde v2 HTTP API.
type APIConfig struct {
	Listen      string  `json:"listen"`
	PublicURL   string  `json:"public_url"`
	MaxBodyMiB  int     `json:"max_body_mib"`
	RatePerKey  float64 `json:"rate_per_key"`
	BurstPerKey int     `json:"burst_per_key"`
	RatePerIP   float64 `json:"rate_per_ip"`
	BurstPerIP  int     `json:"burst_per_ip"`
	// MaxConns caps the API's open connections (0: 4096); MaxConnsPerIP
	// those from one address (0: 256; -1: no cap, behind a reverse proxy).
	MaxConns      int `json:"max_conns"`
	MaxConnsPerIP int `json:"max_conns_per_ip"`
	// ClientIPHeader names the header a trusted reverse proxy puts the
	// client's address in (X-Real-IP, X-Forwarded-For): the rate limits,
	// IP timeouts and logs then use its last address (the one the proxy
	// added) instead of the proxy's. Empty: the connection's address.
	ClientIPHeader string `json:"client_ip_header"`
	// KudosSchedules says whether an `api` process contends for the kudos
	// schedules' lease (nil: yes). Off leaves them to the `run` processes,
	// which announce tallies and leaderboards and read members' roles.
	KudosSchedules *bool `json:"kudos_schedules"`
	// RatingDailyCap is the most kudos a member earns a day from rating
	// images (POST /generate/rate/{id}); 0: 150, -1: no cap.
	RatingDailyCap int64 `json:"rating_daily_cap"`
	// WebhooksAllowPrivate lets requests' webhooks reach loopback and
	// private addresses (default false: only public addresses).
	WebhooksAllowPrivate bool `json:"webhooks_allow_private"`
	// AlchemySourceURLs says what an alchemy request's source_image URL
	// may be: "public" (default: fetched from public addresses only),
	// "private" (any address: a horde on a private network) or "off"
	// (base64 images and this horde's own result links only).
	AlchemySourceURLs string `json:"alchemy_source_urls"`
}

// RetentionConfig sets how long finished requests and their images are
// kept (store.Retention).
type RetentionConfig struct {
	// Results: finished requests, their jobs, results and images are deleted
	// this long after they finish; 0 keeps them forever. Shared art posts and
	// results still owed to Discord are kept; the kudos ledger always is.
	Results kudos.Duration `json:"results"`
	// OrphanGrace: an image file no row names is deleted once it is this
	// old (a file written just before its row commits is younger).
	OrphanGrace kudos.Duration `json:"orphan_grace"`
	// SweepEvery: how often the purge and the image sweep run.
	SweepEvery kudos.Duration `json:"sweep_every"`
	// Parties: ended generation parties (their rows, generations and
	// awards) are deleted this long after they end, once their summary is
	// posted; 0 keeps them forever. Their ledger entries stay.
	Parties kudos.Duration `json:"parties"`
}

// Store is the store's housekeeping configuration.
func (r RetentionConfig) Store() store.Retention {
	return store.Retention{Results: time.Duration(r.Results), BlobGrace: time.Duration(r.OrphanGrace), Every: time.Duration(r.SweepEvery),
		Parties: time.Duration(r.Parties)}
}

// HordeConfig configures the scheduler and its payments.
type HordeConfig struct {
	MemberFloor          int64 `json:"member_floor"`
	AnonymousFloor       int64 `json:"anonymous_floor"`
	UptimeBonus          int64 `json:"uptime_bonus"`
	DropsForMaintenance  int   `json:"drops_for_maintenance"`
	Concurrency          int   `json:"concurrency"`
	AnonymousConcurrency int   `json:"anonymous_concurrency"`
}

// Payments are the kudos rules the scheduler pays by, from the one place
// each is configured (floors and uptime under horde:, escrow under
// moderation:).
func (c Config) Payments() kudos.PaymentRules {
	return kudos.PaymentRules{
		MemberFloor:    c.Horde.MemberFloor,
		AnonymousFloor: c.Horde.AnonymousFloor,
		UptimeBonus:    c.Horde.UptimeBonus,
		EscrowPercent:  c.Moderation.EscrowPercent,
	}.WithDefaults()
}

// ModerationConfig sets when users are flagged and how workers earn trust.
type ModerationConfig struct {
	CSAMThreshold              int64          `json:"csam_threshold"`
	CensoredThreshold          int64          `json:"censored_threshold"`
	RefusedThreshold           int64          `json:"refused_threshold"`
	EscrowPercent              int            `json:"escrow_percent"`
	TrustAfterKudos            int64          `json:"trust_after_kudos"`
	TrustMinAge                kudos.Duration `json:"trust_min_age"` // "168h" or seconds
	MaxMegapixelStepsPerSecond float64        `json:"max_megapixelsteps_per_second"`
	SuspicionThreshold         int64          `json:"suspicion_threshold"`
	ReportersToFlag            int64          `json:"reporters_to_flag"`
	MaxWorkersUntrusted        int            `json:"max_workers_untrusted"`
	MaxWorkersTrusted          int            `json:"max_workers_trusted"`
}

// FilterConfig replaces the built-in prompt filter lists and sets its mode.
type FilterConfig struct {
	Minors      string   `json:"minors"`
	Sexual      string   `json:"sexual"`
	NSFW        string   `json:"nsfw"`
	Negative    string   `json:"negative"`
	RewriteNSFW bool     `json:"rewrite_nsfw"`
	NSFWModels  []string `json:"nsfw_models"`
}

// ModelsConfig names the model reference, in the AI Horde's formats: each
// kind from a file, else a URL fetched at start (with a timeout, cached in
// the data dir, never fatal), else the embedded default.
type ModelsConfig struct {
	ReferenceFile     string         `json:"reference_file"`      // image (stable_diffusion.json)
	ReferenceURL      string         `json:"reference_url"`       // image
	TextReferenceFile string         `json:"text_reference_file"` // text (db.json)
	TextReferenceURL  string         `json:"text_reference_url"`  // text
	FetchTimeout      kudos.Duration `json:"fetch_timeout"`       // default 10s
}

// DeprecatedKeys names the keys of c that are deprecated aliases, each with
// the key that replaces it, for a warning at start.
func (c Config) DeprecatedKeys() map[string]string {
	out := map[string]string{}
	var k struct {
		ModeratorRoles []string `json:"moderator_roles"`
	}
	if len(c.Kudos) > 0 && json.Unmarshal(c.Kudos, &k) == nil && len(k.ModeratorRoles) > 0 {
		out["kudos.moderator_roles"] = "discord.moderator_role_ids"
	}
	return out
}

// LoadConfig reads the defaults, then the file at path (if not empty), then
// the environment.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	var cfg Config
	if err := overlayYAML(&cfg, assets.DefaultConfig); err != nil {
		return cfg, fmt.Errorf("default config: %w", err)
	}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("read config: %w", err)
		}
		if err := overlayYAML(&cfg, b); err != nil {
			return cfg, fmt.Errorf("config %s: %w", path, err)
		}
	}
	for env, dst := range map[string]*string{
		"HORDEBOT_DATA":           &cfg.Data,
		"HORDEBOT_DATABASE_URL":   &cfg.Database.URL,
		"HORDEBOT_LISTEN":         &cfg.API.Listen,
		"HORDEBOT_PUBLIC_URL":     &cfg.API.PublicURL,
		"HORDEBOT_LOG_LEVEL":      &cfg.LogLevel,
		"HORDEBOT_METRICS_LISTEN": &cfg.MetricsListen,
		"HORDEBOT_WEB_PUBLIC_URL": &cfg.Web.PublicURL,
		// The public key is no secret, but deployments keep it beside the token.
		"HORDEBOT_DISCORD_PUBLIC_KEY":          &cfg.Discord.PublicKey,
		"HORDEBOT_DISCORD_INTERACTIONS_LISTEN": &cfg.Discord.InteractionsListen,
		"HORDEBOT_DISCORD_REST_URL":            &cfg.Discord.RESTURL,
	} {
		if v := getenv(env); v != "" {
			*dst = v
		}
	}
	cfg.Results.S3.s3Credentials(getenv)
	return cfg, cfg.validate()
}

// overlayYAML decodes YAML over cfg. The YAML is turned into JSON first so
// that the json tags are the one naming of every key (shared with kudos.Config),
// and unknown keys are errors (a typo in a config file should not be silent).
func overlayYAML(cfg *Config, b []byte) error {
	var v any
	if err := yaml.Unmarshal(b, &v); err != nil {
		return err
	}
	if v == nil {
		return nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return err
	}
	kudosBefore := cfg.Kudos
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.DisallowUnknownFields()
	if err := dec.Decode(cfg); err != nil {
		return err
	}
	if len(kudosBefore) > 0 && len(cfg.Kudos) > 0 && !bytes.Equal(kudosBefore, cfg.Kudos) {
		cfg.Kudos = mergeJSON(kudosBefore, cfg.Kudos)
	}
	return nil
}

// mergeJSON overlays object b on object a, key by key, recursively.
func mergeJSON(a, b json.RawMessage) json.RawMessage {
	var ma, mb map[string]json.RawMessage
	if json.Unmarshal(a, &ma) != nil || json.Unmarshal(b, &mb) != nil {
		return b
	}
	for k, v := range mb {
		if old, ok := ma[k]; ok {
			ma[k] = mergeJSON(old, v)
		} else {
			ma[k] = v
		}
	}
	out, err := json.Marshal(ma)
	if err != nil {
		return b
	}
	return out
}

func (c Config) validate() error {
	if c.Data == "" {
		return fmt.Errorf("config: data must name a directory")
	}
	if c.API.Listen == "" {
		return fmt.Errorf("config: api.listen is empty")
	}
	if c.Database.URL != "" {
		if _, err := store.ParseDatabaseURL(c.Database.URL); err != nil {
			return fmt.Errorf("config: database.url: %w", err)
		}
	}
	if c.Database.MaxConns < 0 {
		return fmt.Errorf("config: database.max_conns must not be negative")
	}
	if c.DataMaxMiB < 0 {
		return fmt.Errorf("config: data_max_mib must not be negative")
	}
	if c.Retention.Results < 0 {
		return fmt.Errorf("config: retention.results must not be negative (0 keeps results forever)")
	}
	if time.Duration(c.Retention.OrphanGrace) < time.Minute {
		return fmt.Errorf("config: retention.orphan_grace must be at least 1m: an image is written before the row naming it commits")
	}
	if c.Retention.SweepEvery <= 0 {
		return fmt.Errorf("config: retention.sweep_every must be positive")
	}
	if c.Retention.Parties < 0 {
		return fmt.Errorf("config: retention.parties must not be negative (0 keeps ended parties forever)")
	}
	if err := c.Results.validate(); err != nil {
		return err
	}
	switch c.API.AlchemySourceURLs {
	case "", "public", "private", "off":
	default:
		return fmt.Errorf("config: api.alchemy_source_urls is %q; want public, private or off", c.API.AlchemySourceURLs)
	}
	if c.API.MaxBodyMiB <= 0 {
		return fmt.Errorf("config: api.max_body_mib must be positive")
	}
	if err := validateDiscord(c.Discord, c.API.Listen); err != nil {
		return err
	}
	if c.MetricsListen != "" {
		_, port, err := net.SplitHostPort(c.MetricsListen)
		if err != nil {
			return fmt.Errorf("config: metrics_listen %q: want host:port: %w", c.MetricsListen, err)
		}
		if c.MetricsListen == c.API.Listen && port != "0" {
			return fmt.Errorf("config: metrics_listen %q is api.listen: give metrics their own port", c.MetricsListen)
		}
	}
	return nil
}

// StoreOptions are the store settings the config holds (the quota, the
// PostgreSQL pool).
func (c Config) StoreOptions() store.Options {
	return store.Options{MaxDBBytes: c.DataMaxMiB << 20, MaxConns: c.Database.MaxConns}
}

// openStore opens the configured database with the configured result
// image backend: what `run`, `api`, `demo` and every admin command open.
func (c Config) openStore(ctx context.Context, clock horde.Clock, log *slog.Logger) (*store.Store, error) {
	blobs, err := openBlobs(ctx, c.Results, log)
	if err != nil {
		return nil, err
	}
	opt := c.StoreOptions()
	opt.Clock, opt.Logger, opt.Blobs = clock, log, blobs
	return openDatabase(ctx, c.DatabaseURL(), opt)
}

// openDatabase opens the store at where with opt, its error naming the
// database (its password hidden).
func openDatabase(ctx context.Context, where string, opt store.Options) (*store.Store, error) {
	st, err := store.Open(ctx, where, opt)
	var dataDir *store.DataDirError
	if errors.As(err, &dataDir) {
		return nil, err // it names the directory and the fix already
	}
	if err != nil {
		u, perr := store.ParseDatabaseURL(where)
		if perr != nil {
			return nil, err
		}
		return nil, fmt.Errorf("open the database %s: %w", u, err)
	}
	return st, nil
}

// LogLevel parses the configured level.
func (c Config) SlogLevel() slog.Level {
	switch strings.ToLower(c.LogLevel) {
	case "debug":
		return slog.LevelDebug
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

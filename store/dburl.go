package store

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/hordebot/hordebot/horde"
)

// DatabaseURL names the database a store opens: a SQLite data directory
// ("sqlite:DIR", or a bare DIR) or a PostgreSQL server
// ("postgres://user@host:port/db?options", "postgresql://..." too).
type DatabaseURL struct {
	// Engine is "sqlite" or "postgres".
	Engine string
	// Dir is the SQLite data directory (Engine "sqlite").
	Dir string
	// DSN is the PostgreSQL connection URL as given (Engine "postgres").
	DSN string
}

// The engines a DatabaseURL names.
const (
	EngineSQLite   = "sqlite"
	EnginePostgres = "postgres"
)

// ParseDatabaseURL reads s: "sqlite:DIR" or a bare directory is SQLite,
// "postgres://..." or "postgresql://..." PostgreSQL. Anything else with a
// scheme, or an empty string, is KindInvalid (field "database").
func ParseDatabaseURL(s string) (DatabaseURL, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return DatabaseURL{}, horde.Invalidf("database", "the database URL is empty: give sqlite:DIR or postgres://...")
	}
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		u, err := url.Parse(s)
		if err != nil {
			return DatabaseURL{}, horde.Invalidf("database", "the PostgreSQL URL does not parse: %v", redact(err))
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return DatabaseURL{}, horde.Invalidf("database", "the PostgreSQL URL %s names no host", RedactURL(s))
		}
		return DatabaseURL{Engine: EnginePostgres, DSN: s}, nil
	case strings.HasPrefix(lower, "sqlite://"):
		dir := s[len("sqlite://"):]
		if dir == "" {
			return DatabaseURL{}, horde.Invalidf("database", "the SQLite URL %q names no data directory", s)
		}
		return DatabaseURL{Engine: EngineSQLite, Dir: dir}, nil
	case strings.HasPrefix(lower, "sqlite:"):
		dir := s[len("sqlite:"):]
		if dir == "" {
			return DatabaseURL{}, horde.Invalidf("database", "the SQLite URL %q names no data directory", s)
		}
		return DatabaseURL{Engine: EngineSQLite, Dir: dir}, nil
	}
	if i := strings.Index(s, "://"); i > 0 && !strings.ContainsAny(s[:i], `/\`) {
		return DatabaseURL{}, horde.Invalidf("database", "unknown database %q: give sqlite:DIR or postgres://...", s[:i]+"://")
	}
	return DatabaseURL{Engine: EngineSQLite, Dir: s}, nil
}

// String is the URL with any password hidden, for logs and messages.
func (u DatabaseURL) String() string {
	if u.Engine == EnginePostgres {
		return RedactURL(u.DSN)
	}
	return "sqlite:" + u.Dir
}

// RedactURL returns a PostgreSQL URL with its password (in the user info
// or a password= parameter) replaced by "xxxxx".
func RedactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "postgres://(unparsable URL)"
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// redact drops a url.Error's URL (which may carry a password) from err.
func redact(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

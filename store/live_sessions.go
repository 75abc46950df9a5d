package store

import (
	"context"
	"fmt"
	"time"
)

// LiveSession is a session of a running hordebot process on a PostgreSQL
// database: its event listener (every `run` and `api` process holds one)
// or a session holding one of its leases.
type LiveSession struct {
	PID         int
	Application string // application_name, e.g. "hordebot events hordebot_…" or "hordebot leases"
	Client      string // the client's address ("local" for a Unix socket)
	Since       time.Time
}

// qLiveSessions finds the sessions of the store's database that listen on
// its events channel (?1) or hold one of its leases' advisory locks (?2,
// bigint keys; pg_locks shows a bigint key as classid<<32 | objid, objsubid 1).
const qLiveSessions = `SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local'), a.backend_start
FROM pg_stat_activity a
WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
  AND (a.application_name = ?1 OR a.pid IN (SELECT l.pid FROM pg_locks l
    WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      AND ((l.classid::bigint << 32) | l.objid::bigint) = ANY(?2::bigint[])))
ORDER BY a.backend_start, a.pid`

// LiveSessions lists the sessions through which running hordebot processes
// use this store's database and schema: the event listeners on its channel
// and the holders of the leases named leases (LeaseKey of the database and
// schema). Other schemas' processes are not listed. On SQLite it returns
// none: a SQLite database in use is refused by its lock (Options.Exclusive).
func (s *Store) LiveSessions(ctx context.Context, leases []string) ([]LiveSession, error) {
	if s.eng != postgresEngine {
		return nil, nil
	}
	var database, schema string
	if err := s.r.QueryRowContext(ctx, "SELECT current_database(), current_schema()").Scan(&database, &schema); err != nil {
		return nil, unavailable(fmt.Errorf("read the database's name: %w", err))
	}
	keys := make([]int64, len(leases))
	for i, name := range leases {
		keys[i] = LeaseKey(database, schema, name)
	}
	rows, err := s.r.QueryContext(ctx, qLiveSessions, eventsAppName+s.channel, keys)
	if err != nil {
		return nil, unavailable(fmt.Errorf("read the database's sessions (pg_stat_activity): %w", err))
	}
	defer rows.Close()
	var out []LiveSession
	for rows.Next() {
		var ls LiveSession
		if err := rows.Scan(&ls.PID, &ls.Application, &ls.Client, &ls.Since); err != nil {
			return nil, fmt.Errorf("read the database's sessions: %w", err)
		}
		out = append(out, ls)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("read the database's sessions: %w", err))
	}
	return out, nil
}

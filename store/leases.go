package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/hordebot/hordebot/horde"
)

// Leases: periodic work that several processes sharing one PostgreSQL
// database must run once (cmd/hordebot names it) runs in the process that
// holds its lease. A lease is a session advisory lock
// (pg_try_advisory_lock) on a connection of the Leases' own, apart from the
// store's pool: a process holds it for as long as that session lives, and
// PostgreSQL lets it go the moment the session ends (the process exits or
// is killed, its connection is closed or terminated). The others try for
// it every LeaseOptions.Every, so one of them takes over within about that
// time. The holder pings its session as often; a ping that fails counts as
// the lease lost (the session is closed, so that PostgreSQL lets the lock
// go too) and ends the context the lease's work runs in.
//
// A lease narrows who runs the work to one process; it is not what makes
// the work correct. Between a holder's session ending on the server and
// its next ping (at most one interval) both may run, and what runs under a
// lease is written to be run twice harmlessly (a tally recorded once per
// period, conditional writes), as it was before leases.
//
// On SQLite there is one process (the data directory is locked to one
// writer): every lease is held at once and never lost.
//
// The key of a lease is a stable hash of its name, the database's name and
// the schema the tables are in, so that stores in separate schemas of one
// database (the tests') do not share leases.

// DefaultLeaseEvery is how often a process tries for a lease it does not
// hold, and pings the session of those it holds, when LeaseOptions.Every is
// zero.
const DefaultLeaseEvery = time.Second

// leaseStepTimeout bounds one round of the lease session's queries, so
// that a server that stopped answering counts as lost, not as held.
const leaseStepTimeout = 5 * time.Second

// leaseIdleMin is the least idle_session_timeout of a lease session: the
// server ends a session that sent nothing for ten intervals (at least
// this), so that the locks of a holder cut off from it (a partition, a
// frozen process) go within seconds, not when TCP keepalive gives up.
const leaseIdleMin = 5 * time.Second

// pgUndefinedObject is the SQLSTATE of a server that does not know a
// setting (idle_session_timeout is PostgreSQL 14's).
const pgUndefinedObject = "42704"

// ErrLeaseLost is the cause (context.Cause) of a held lease's context
// ending because the lease was lost: its session failed a ping or died.
var ErrLeaseLost = errors.New("lease lost: its database session ended")

// errLeaseReleased is the cause of a held lease's context ending because
// its holder released it.
var errLeaseReleased = errors.New("lease released")

// errLeasesClosed is the cause of a held lease's context ending because
// the Leases were closed.
var errLeasesClosed = errors.New("leases closed")

// LeaseOptions tune Store.Leases. Zero values take the defaults.
type LeaseOptions struct {
	// Every is how often a lease not held is tried for and a held one's
	// session pinged (DefaultLeaseEvery when 0): a takeover after the
	// holder died takes about this long.
	Every time.Duration
	// Logger gets the session's failures (the store's logger when nil).
	Logger *slog.Logger
}

// Leases hands out this process's named leases (see above). Create it with
// Store.Leases, Close it when done (which lets every lease it holds go).
// Its methods are safe for concurrent use.
type Leases struct {
	every time.Duration
	idle  time.Duration // the session's idle_session_timeout
	log   *slog.Logger
	db    *sql.DB // PostgreSQL: a pool of one connection; nil on SQLite

	mu     sync.Mutex
	leases map[string]*lease
	closed bool

	running bool               // the loop goroutine was started
	kick    chan struct{}      // a round now, not at the next tick
	ctx     context.Context    // ends at Close: the loop's rounds run in it
	stop    context.CancelFunc // ends ctx
	done    chan struct{}      // closed when the loop has ended

	// The session, the loop goroutine's only.
	conn             *sql.Conn
	database, schema string // the keys are hashed with them
	failing          bool   // the last round could not reach the server (logged once)
}

// lease is one name's state. Guarded by Leases.mu.
type lease struct {
	name   string
	key    int64   // while held: the advisory lock's key
	held   bool    // the session holds the lock
	holder *holder // the Hold waiting for or holding it; nil if none
}

// holder is one Hold call's claim on a lease.
type holder struct {
	ctx      context.Context
	cancel   context.CancelCauseFunc
	got      chan struct{} // closed when the lease is this holder's
	acquired bool
	lost     bool
}

// live reports whether h still wants or holds its lease. Caller holds mu.
func (h *holder) live() bool { return h != nil && !h.lost && h.ctx.Err() == nil }

// Leases returns this process's leases on the store's database. On
// PostgreSQL it opens (when first needed) a session of its own for them.
func (s *Store) Leases(opt LeaseOptions) *Leases {
	if opt.Every <= 0 {
		opt.Every = DefaultLeaseEvery
	}
	if opt.Logger == nil {
		opt.Logger = s.log
	}
	l := &Leases{every: opt.Every, idle: max(10*opt.Every, leaseIdleMin), log: opt.Logger, leases: make(map[string]*lease),
		kick: make(chan struct{}, 1), done: make(chan struct{})}
	l.ctx, l.stop = context.WithCancel(context.Background())
	if s.eng == postgresEngine {
		cfg := s.pgcfg.Copy()
		if cfg.RuntimeParams == nil {
			cfg.RuntimeParams = map[string]string{}
		}
		cfg.RuntimeParams["application_name"] = LeaseApplicationName
		l.db = stdlib.OpenDB(*cfg)
		// One session for every lease; never closed by the pool while
		// held (a *sql.Conn is not idle), and none kept when given back.
		l.db.SetMaxOpenConns(1)
		l.db.SetMaxIdleConns(0)
	}
	return l
}

// Hold waits until this process holds lease name (at once on SQLite) and
// returns the context to run its work in and release, which gives the
// lease up. The context ends when the lease is lost (its cause is then
// ErrLeaseLost), released, or ctx ends; the caller stops the work then and
// may Hold again. Call release when done, whatever happened. Hold returns
// ctx's error if ctx ends first, KindConflict if this process already
// holds or waits for name, and KindUnavailable once Close was called.
func (l *Leases) Hold(ctx context.Context, name string) (held context.Context, release func(), err error) {
	if name == "" {
		return nil, nil, horde.Invalidf("lease", "a lease needs a name")
	}
	hctx, cancel := context.WithCancelCause(ctx)
	h := &holder{ctx: hctx, cancel: cancel, got: make(chan struct{})}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		cancel(errLeasesClosed)
		return nil, nil, horde.Errorf(horde.KindUnavailable, "", "the leases are closed")
	}
	le := l.leases[name]
	if le == nil {
		le = &lease{name: name}
		l.leases[name] = le
	}
	if le.holder.live() {
		l.mu.Unlock()
		cancel(nil)
		return nil, nil, horde.Errorf(horde.KindConflict, "", "lease %q is already held or waited for in this process", name)
	}
	le.holder = h
	if l.db == nil || le.held { // SQLite; or still held by this session
		l.grant(le)
	} else if !l.running {
		l.running = true
		go l.loop()
	}
	l.mu.Unlock()
	release = sync.OnceFunc(func() {
		cancel(errLeaseReleased)
		l.mu.Lock()
		if le.holder == h {
			le.holder = nil
		}
		l.mu.Unlock()
		l.poke()
	})
	if l.db != nil {
		l.poke()
	}
	select {
	case <-h.got:
		return hctx, release, nil
	case <-ctx.Done():
		release()
		return nil, nil, ctx.Err()
	case <-hctx.Done(): // closed while waiting
		release()
		return nil, nil, horde.Errorf(horde.KindUnavailable, "", "the leases are closed")
	}
}

// grant hands a held (or, on SQLite, always held) lease to its holder.
// Caller holds mu.
func (l *Leases) grant(le *lease) {
	if h := le.holder; h.live() && !h.acquired {
		h.acquired = true
		close(h.got)
	}
}

// poke asks the loop for a round now.
func (l *Leases) poke() {
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// Close gives up every lease (their contexts end) and closes the session.
func (l *Leases) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	running := l.running
	for _, le := range l.leases {
		if le.holder != nil {
			le.holder.cancel(errLeasesClosed)
		}
	}
	l.mu.Unlock()
	if l.db == nil {
		return nil
	}
	l.stop()
	if running {
		<-l.done
	}
	return l.db.Close()
}

// loop runs a round every interval, and when poked (a Hold or a release),
// until Close: it tries for the leases wanted, pings the session of those held,
// lets go of those released.
func (l *Leases) loop() {
	defer close(l.done)
	t := time.NewTicker(l.every)
	defer t.Stop()
	for {
		select {
		case <-l.ctx.Done():
			l.dropSession(nil)
			return
		case <-t.C:
		case <-l.kick:
		}
		l.round()
	}
}

// round is one pass over the leases on the session.
func (l *Leases) round() {
	// Close does not wait for a server that stopped answering.
	ctx, cancel := context.WithTimeout(l.ctx, leaseStepTimeout)
	defer cancel()
	var try, unlock []*lease
	anyHeld := false
	l.mu.Lock()
	for _, le := range l.leases {
		live := le.holder.live()
		switch {
		case !live && le.held:
			unlock = append(unlock, le)
		case live && !le.held:
			try = append(try, le)
		case live:
			l.grant(le)
		}
		anyHeld = anyHeld || le.held
	}
	l.mu.Unlock()
	if len(try) == 0 && len(unlock) == 0 && !anyHeld {
		if l.conn != nil {
			l.dropSession(nil) // nothing held or wanted: no session kept open
		}
		return
	}
	if l.conn == nil {
		if err := l.connect(ctx); err != nil {
			if !l.failing {
				l.log.Warn("lease session: cannot reach the database; retrying", "err", err)
			}
			l.failing = true
			return
		}
		if l.failing {
			l.log.Info("lease session: the database answers again")
		}
		l.failing = false
	}
	if anyHeld {
		if err := l.conn.PingContext(ctx); err != nil {
			l.dropSession(err)
			return
		}
	}
	for _, le := range unlock {
		if _, err := l.conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", le.key); err != nil {
			l.dropSession(err)
			return
		}
		l.mu.Lock()
		le.held = false
		l.mu.Unlock()
	}
	for _, le := range try {
		key := LeaseKey(l.database, l.schema, le.name)
		var ok bool
		if err := l.conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
			l.dropSession(err)
			return
		}
		if !ok {
			continue
		}
		l.mu.Lock()
		le.held, le.key = true, key
		if le.holder.live() {
			l.grant(le)
		} else {
			l.poke() // released meanwhile: let it go in the next round
		}
		l.mu.Unlock()
	}
}

// connect opens the session and reads the names the keys are hashed with.
func (l *Leases) connect(ctx context.Context) error {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return err
	}
	var database, schema sql.NullString
	if err := conn.QueryRowContext(ctx, "SELECT current_database(), current_schema()").Scan(&database, &schema); err != nil {
		discard(conn)
		return err
	}
	// The session is never idle longer than an interval while it exists.
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("SET idle_session_timeout = %d", l.idle.Milliseconds())); err != nil {
		if pe := pgError(err); pe == nil || pe.Code != pgUndefinedObject {
			discard(conn)
			return err
		}
	}
	l.conn, l.database, l.schema = conn, database.String, schema.String
	return nil
}

// dropSession closes the session (so that the server lets its locks go)
// and marks every lease not held: a holder's context ends with
// ErrLeaseLost. err is why (logged), nil when the loop stops or nothing is
// wanted any more.
func (l *Leases) dropSession(err error) {
	if l.conn != nil {
		discard(l.conn)
		l.conn = nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	var lost []string
	for _, le := range l.leases {
		le.held = false
		if h := le.holder; h.live() && h.acquired {
			h.lost = true
			h.cancel(ErrLeaseLost)
			lost = append(lost, le.name)
		}
	}
	if err != nil && l.ctx.Err() == nil { // not the store closing
		l.log.Warn("lease session lost", "leases", lost, "err", err)
	}
}

// discard closes conn's session instead of handing it back to the pool.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// LeaseKey is the advisory lock key (pg_locks: classid the high 32 bits,
// objid the low ones, objsubid 1) of lease name on database, its tables in
// schema: for an operator looking for the session holding a lease.
func LeaseKey(database, schema, name string) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "hordebot lease\x00%s\x00%s\x00%s", database, schema, name)
	return int64(h.Sum64() >> 1)
}

// LeaseApplicationName is the application_name of the lease sessions
// (pg_stat_activity), whatever the database URL sets.
const LeaseApplicationName = "hordebot leases"

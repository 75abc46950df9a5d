package store

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hordebot/hordebot/horde"
)

// Cross-process events on PostgreSQL (horde.Events): a write that changes
// what another process may be waiting for (a request finished) sends a
// NOTIFY in its own transaction, so that it is heard once the change is
// committed and never when it is rolled back (a NOTIFY in a SAVEPOINT the
// group commit rolls back goes with it). Every process LISTENs on one
// dedicated connection (ListenEvents) and publishes what it hears to its
// own subscribers, its own process's NOTIFYs included.
//
// The channel is named for the database and the schema the store's tables
// are in, so that schemas side by side (one per test) do not hear each
// other. The payload is small: the event's kind and the request's id,
// "finished <id>".

const (
	// eventsAppName is the application_name of the listening connection
	// (pg_stat_activity shows it), followed by its channel.
	eventsAppName = "hordebot events "
	// listenBackoffMin and listenBackoffMax bound the wait before the
	// listener connects again after losing its connection.
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 30 * time.Second
	// maxEventID bounds the request id an event may carry.
	maxEventID = 128
)

// eventsChannel is the NOTIFY channel of a database and schema.
func eventsChannel(database, schema string) string {
	h := fnv.New64a()
	h.Write([]byte(database + "\x00" + schema))
	return fmt.Sprintf("hordebot_%016x", h.Sum64())
}

// EventsChannel is the channel the store's events are NOTIFYed on (and its
// listener's connection is named for, after "hordebot events "); "" on
// SQLite, where the Horde publishes its own events.
func (s *Store) EventsChannel() string { return s.channel }

// announce sends event kind of request id to every process listening, in
// tx: delivered when tx commits. On SQLite it does nothing.
func (s *Store) announce(ctx context.Context, tx *sql.Tx, kind horde.EventKind, id string) error {
	if s.eng != postgresEngine || s.channel == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_notify(?, ?)`, s.channel, string(kind)+" "+id); err != nil {
		return unavailable(fmt.Errorf("announce %s of request %s: %w", kind, id, err))
	}
	return nil
}

// parseEvent reads a notification's payload; ok false for one that is not
// an event this version knows (a newer process's, or someone's NOTIFY on
// the channel by hand).
func parseEvent(payload string) (horde.Event, bool) {
	kind, id, found := strings.Cut(payload, " ")
	if !found || id == "" || len(id) > maxEventID || strings.ContainsAny(id, " \x00") {
		return horde.Event{}, false
	}
	switch horde.EventKind(kind) {
	case horde.EventFinished:
		return horde.Event{Kind: horde.EventFinished, RequestID: id}, true
	}
	return horde.Event{}, false
}

// ListenEvents LISTENs for the events every process on the database
// announces and publishes each to events, until ctx ends (it then returns
// ctx's error). It holds one connection of its own, outside the pool: when
// that connection is lost (the server restarted, an administrator ended
// it), it connects again, waiting longer after each failure (from 100 ms up
// to 30 s). Each time it starts listening (the first time too) it
// publishes horde.EventResync: what was announced before was not heard. On
// SQLite it returns nil at once: one process, whose Horde publishes its own
// events.
func (s *Store) ListenEvents(ctx context.Context, events horde.Events) error {
	if s.eng != postgresEngine {
		return nil
	}
	backoff := listenBackoffMin
	for {
		conn, err := s.listenConn(ctx)
		if err == nil {
			s.log.Debug("listening for events", "channel", s.channel)
			events.Publish(horde.Event{Kind: horde.EventResync})
			since := time.Now()
			err = s.relay(ctx, conn, events)
			closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			_ = conn.Close(closeCtx)
			cancel()
			if time.Since(since) > listenBackoffMax {
				backoff = listenBackoffMin // it held a while: not a connection that keeps failing
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("event listener lost its connection; connecting again", "channel", s.channel, "err", err, "wait", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		backoff = min(2*backoff, listenBackoffMax)
	}
}

// listenConn connects and LISTENs on the store's channel.
func (s *Store) listenConn(ctx context.Context) (*pgx.Conn, error) {
	cfg := s.pgcfg.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = eventsAppName + s.channel
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(cctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if _, err := conn.Exec(cctx, "LISTEN "+pgx.Identifier{s.channel}.Sanitize()); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("listen on %s: %w", s.channel, err)
	}
	return conn, nil
}

// relay publishes the notifications conn receives until ctx ends or conn
// fails.
func (s *Store) relay(ctx context.Context, conn *pgx.Conn, events horde.Events) error {
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		if n.Channel != s.channel {
			continue
		}
		e, ok := parseEvent(n.Payload)
		if !ok {
			s.log.Debug("ignoring an unknown event", "channel", n.Channel, "payload", clipPayload(n.Payload))
			continue
		}
		events.Publish(e)
	}
}

// clipPayload shortens a payload for a log line.
func clipPayload(p string) string {
	if len(p) > 80 {
		return p[:80] + "…"
	}
	return p
}

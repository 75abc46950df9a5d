package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hordebot/hordebot/horde"
)

var _ horde.IPTimeoutStore = (*Store)(nil)

// SetIPTimeout inserts or replaces the timeout of t.Addr.
func (s *Store) SetIPTimeout(ctx context.Context, t horde.IPTimeout) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO ip_timeouts (ipaddr, until, created_by, created_at) VALUES (?, ?, ?, ?)
ON CONFLICT (ipaddr) DO UPDATE SET until = excluded.until, created_by = excluded.created_by, created_at = excluded.created_at`,
			t.Addr, nanos(t.Until), t.CreatedBy, nanos(t.CreatedAt))
		if err != nil {
			return unavailable(fmt.Errorf("set ip timeout %s: %w", t.Addr, err))
		}
		return nil
	})
}

// DeleteIPTimeout removes the timeout of addr; false if there was none.
func (s *Store) DeleteIPTimeout(ctx context.Context, addr string) (bool, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM ip_timeouts WHERE ipaddr = ?`, addr)
		if err != nil {
			return unavailable(fmt.Errorf("delete ip timeout %s: %w", addr, err))
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

// IPTimeouts returns every timeout.
func (s *Store) IPTimeouts(ctx context.Context) ([]horde.IPTimeout, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT ipaddr, until, created_by, created_at FROM ip_timeouts ORDER BY until`)
	if err != nil {
		return nil, fmt.Errorf("read ip timeouts: %w", err)
	}
	defer rows.Close()
	var out []horde.IPTimeout
	for rows.Next() {
		var t horde.IPTimeout
		var until, created int64
		if err := rows.Scan(&t.Addr, &until, &t.CreatedBy, &created); err != nil {
			return nil, fmt.Errorf("read ip timeouts: %w", err)
		}
		t.Until, t.CreatedAt = fromNanos(until), fromNanos(created)
		out = append(out, t)
	}
	return out, rows.Err()
}

package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hordebot/hordebot/horde"
)

var _ horde.UserAdminStore = (*Store)(nil)

// Users returns one page of users in the given order: most kudos first
// (ties by id), or oldest account first.
func (s *Store) Users(ctx context.Context, order horde.UserSort, offset, limit int) ([]horde.User, error) {
	orderBy := `coalesce(b.kudos, 0) DESC, u.id`
	if order == horde.SortByAge {
		orderBy = `u.created_at, u.id`
	}
	return queryRows(ctx, s.r, "list users", func(r scanner) (horde.User, error) { return scanUser(r) },
		`SELECT `+userColumns+` FROM users u LEFT JOIN balances b ON b.user_id = u.id
ORDER BY `+orderBy+` LIMIT ? OFFSET ?`, limit, offset)
}

// SetConcurrency sets (or, with nil, removes) a user's concurrency override.
func (s *Store) SetConcurrency(ctx context.Context, userID int64, limit *int) error {
	var v any
	if limit != nil {
		v = *limit
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET concurrency = ? WHERE id = ?`, v, userID)
		if err != nil {
			return unavailable(fmt.Errorf("set concurrency of user %d: %w", userID, err))
		}
		return mustAffect(res, "set concurrency of user %d", userID)
	})
}

// ConcurrencyOverrides returns every user's concurrency override.
func (s *Store) ConcurrencyOverrides(ctx context.Context) (map[int64]int, error) {
	type row struct {
		id    int64
		limit int
	}
	rows, err := queryRows(ctx, s.r, "concurrency overrides", func(r scanner) (row, error) {
		var v row
		return v, r.Scan(&v.id, &v.limit)
	}, `SELECT id, concurrency FROM users WHERE concurrency IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.id] = r.limit
	}
	return out, nil
}

// SetModerator sets a user's moderator status.
func (s *Store) SetModerator(ctx context.Context, userID int64, moderator bool) error {
	defer s.creds.invalidate()
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET moderator = ? WHERE id = ?`, moderator, userID)
		if err != nil {
			return unavailable(fmt.Errorf("set moderator of user %d: %w", userID, err))
		}
		return mustAffect(res, "set moderator of user %d", userID)
	})
}

// RenameUser changes a user's name.
func (s *Store) RenameUser(ctx context.Context, userID int64, name string) error {
	if name == "" {
		return horde.Invalidf("username", "a user needs a name")
	}
	defer s.creds.invalidate()
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET name = ? WHERE id = ?`, name, userID)
		if err != nil {
			return unavailable(fmt.Errorf("rename user %d: %w", userID, err))
		}
		return mustAffect(res, "rename user %d", userID)
	})
}

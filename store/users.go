package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hordebot/hordebot/horde"
)

const (
	userColumns = `u.id, u.name, coalesce(u.discord_id, ''), u.trusted, u.flagged, u.moderator, u.created_at`
	qCredential = `SELECT ` + userColumns + `, coalesce(k.worker_id, '')
FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.key_hash = ?`
)

// scanUser reads the userColumns (plus extra destinations) from row.
func scanUser(row interface{ Scan(...any) error }, extra ...any) (horde.User, error) {
	var u horde.User
	var created int64
	dest := append([]any{&u.ID, &u.Name, &u.DiscordID, &u.Trusted, &u.Flagged, &u.Moderator, &created}, extra...)
	if err := row.Scan(dest...); err != nil {
		return horde.User{}, err
	}
	u.CreatedAt = fromNanos(created)
	return u, nil
}

// notFound wraps horde.ErrNotFound for sql.ErrNoRows and adds context to other errors.
func notFound(err error, format string, args ...any) error {
	what := fmt.Sprintf(format, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%s: %w", what, horde.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// CreateUser creates a user (its ID is assigned) with an optional key hash.
// A Discord id already linked is KindConflict.
func (s *Store) CreateUser(ctx context.Context, u horde.User, keyHash string) (horde.User, error) {
	if u.Name == "" {
		return horde.User{}, horde.Invalidf("name", "a user needs a name")
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = s.clock.Now()
	}
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `INSERT INTO users (name, discord_id, trusted, flagged, moderator, created_at)
VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			u.Name, nullString(u.DiscordID), u.Trusted, u.Flagged, u.Moderator, nanos(u.CreatedAt)).Scan(&u.ID)
		if isUniqueViolation(err, "users.discord_id") {
			return conflict("DiscordIDTaken", "Discord account %s is already linked to a user", u.DiscordID)
		}
		if err != nil {
			return unavailable(fmt.Errorf("create user %q: %w", u.Name, err))
		}
		if keyHash == "" {
			return nil
		}
		return insertKey(ctx, tx, keyHash, u.ID, "")
	})
	if err != nil {
		return horde.User{}, err
	}
	return u, nil
}

// insertKey stores an API key hash for a user (workerID "") or one worker.
func insertKey(ctx context.Context, tx *sql.Tx, keyHash string, userID int64, workerID string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO api_keys (key_hash, user_id, worker_id) VALUES (?, ?, ?)`,
		keyHash, userID, nullString(workerID))
	if isUniqueViolation(err, "api_keys.key_hash") {
		return conflict("KeyTaken", "that API key is already in use")
	}
	if err != nil {
		return unavailable(fmt.Errorf("store key of user %d: %w", userID, err))
	}
	return nil
}

// User returns a user by id; ErrNotFound if none.
func (s *Store) User(ctx context.Context, id int64) (horde.User, error) {
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.id = ?`, id))
	if err != nil {
		return horde.User{}, notFound(err, "user %d", id)
	}
	return u, nil
}

// UserByDiscordID returns the user linked to a Discord account; ErrNotFound if none.
func (s *Store) UserByDiscordID(ctx context.Context, discordID string) (horde.User, error) {
	if discordID == "" {
		return horde.User{}, fmt.Errorf("user with empty Discord id: %w", horde.ErrNotFound)
	}
	u, err := scanUser(s.r.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u WHERE u.discord_id = ?`, discordID))
	if err != nil {
		return horde.User{}, notFound(err, "user with Discord id %s", discordID)
	}
	return u, nil
}

// Credential resolves an API key hash; ErrNotFound if no key has it.
// Answers are cached for a few seconds (credential_cache.go); the methods
// below that change keys or users invalidate the cache.
func (s *Store) Credential(ctx context.Context, keyHash string) (horde.Credential, error) {
	now := time.Now() // the cache's TTL is wall time, whatever the store's clock
	c, gen, ok := s.creds.get(keyHash, now)
	if ok {
		return c, nil
	}
	u, err := scanUser(s.readRow(ctx, qCredential, keyHash), &c.WorkerID)
	if err != nil {
		return horde.Credential{}, notFound(err, "api key")
	}
	c.User = u
	s.creds.put(keyHash, c, gen, now)
	return c, nil
}

// SetUserKey replaces a user's own key hash; an empty hash revokes it.
// ErrNotFound for an unknown user.
func (s *Store) SetUserKey(ctx context.Context, userID int64, keyHash string) error {
	defer s.creds.invalidate()
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, userID).Scan(&one); err != nil {
			return notFound(err, "set key of user %d", userID)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_keys WHERE user_id = ? AND worker_id IS NULL`, userID); err != nil {
			return unavailable(fmt.Errorf("revoke key of user %d: %w", userID, err))
		}
		if keyHash == "" {
			return nil
		}
		return insertKey(ctx, tx, keyHash, userID, "")
	})
}

// SetWorkerKey replaces the key hash bound to one worker (owned by the
// worker's owner); an empty hash revokes it. ErrNotFound for an unknown worker.
func (s *Store) SetWorkerKey(ctx context.Context, workerID string, keyHash string) error {
	defer s.creds.invalidate()
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var owner int64
		if err := tx.QueryRowContext(ctx, `SELECT owner_id FROM workers WHERE id = ?`, workerID).Scan(&owner); err != nil {
			return notFound(err, "set key of worker %s", workerID)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_keys WHERE worker_id = ?`, workerID); err != nil {
			return unavailable(fmt.Errorf("revoke key of worker %s: %w", workerID, err))
		}
		if keyHash == "" {
			return nil
		}
		return insertKey(ctx, tx, keyHash, owner, workerID)
	})
}

// UpdateUser saves Name, Trusted, Flagged and Moderator; ErrNotFound for an unknown user.
func (s *Store) UpdateUser(ctx context.Context, u horde.User) error {
	if u.Name == "" {
		return horde.Invalidf("name", "a user needs a name")
	}
	defer s.creds.invalidate()
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET name = ?, trusted = ?, flagged = ?, moderator = ? WHERE id = ?`,
			u.Name, u.Trusted, u.Flagged, u.Moderator, u.ID)
		if err != nil {
			return unavailable(fmt.Errorf("update user %d: %w", u.ID, err))
		}
		return mustAffect(res, "update user %d", u.ID)
	})
}

// mustAffect turns "0 rows affected" into a wrapped ErrNotFound.
func mustAffect(res sql.Result, format string, args ...any) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), horde.ErrNotFound)
	}
	return nil
}

// UsersNamed returns the users with this name (names are not unique: two
// Discord members may share one), oldest first.
func (s *Store) UsersNamed(ctx context.Context, name string) ([]horde.User, error) {
	return queryRows(ctx, s.r, "users named "+name, func(r scanner) (horde.User, error) { return scanUser(r) },
		`SELECT `+userColumns+` FROM users u WHERE u.name = ? ORDER BY u.id`, name)
}

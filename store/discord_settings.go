package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hordebot/hordebot/horde"
)

// DiscordSetting returns a bot setting; an error wrapping horde.ErrNotFound
// if it was never set.
func (s *Store) DiscordSetting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM discord_settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("discord setting %q: %w", key, horde.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("read discord setting %q: %w", key, err)
	}
	return v, nil
}

// SetDiscordSetting stores a bot setting.
func (s *Store) SetDiscordSetting(ctx context.Context, key, value string) error {
	at := nanos(s.clock.Now())
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO discord_settings (key, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, at)
		return err
	})
	if err != nil {
		return unavailable(fmt.Errorf("set discord setting %q: %w", key, err))
	}
	return nil
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hordebot/hordebot/horde"
)

var _ horde.ModeStore = (*Store)(nil)

// HordeModes returns the saved modes; all off if never saved.
func (s *Store) HordeModes(ctx context.Context) (horde.HordeModes, error) {
	var m horde.HordeModes
	err := s.r.QueryRowContext(ctx, `SELECT maintenance, invite_only, raid FROM horde_modes WHERE id = 1`).Scan(&m.Maintenance, &m.InviteOnly, &m.Raid)
	if errors.Is(err, sql.ErrNoRows) {
		return horde.HordeModes{}, nil
	}
	if err != nil {
		return horde.HordeModes{}, fmt.Errorf("read horde modes: %w", err)
	}
	return m, nil
}

// SaveHordeModes saves the modes.
func (s *Store) SaveHordeModes(ctx context.Context, m horde.HordeModes) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO horde_modes (id, maintenance, invite_only, raid) VALUES (1, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET maintenance = excluded.maintenance, invite_only = excluded.invite_only, raid = excluded.raid`,
			m.Maintenance, m.InviteOnly, m.Raid)
		if err != nil {
			return unavailable(fmt.Errorf("save horde modes: %w", err))
		}
		return nil
	})
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hordebot/hordebot/horde"
)

var _ horde.TeamStore = (*Store)(nil)

// teamNameTaken is the refusal of a team name in use.
func teamNameTaken(name string) error {
	return horde.Errorf(horde.KindConflict, "NameAlreadyExists", "a team named %s already exists", horde.QuoteInput(name))
}

// CreateTeam stores a new team; a name taken is KindConflict NameAlreadyExists.
func (s *Store) CreateTeam(ctx context.Context, t horde.Team) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO teams (id, name, info, owner_id) VALUES (?, ?, ?, ?)`, t.ID, t.Name, t.Info, t.OwnerID)
		if isUniqueViolation(err, "teams.name") {
			return teamNameTaken(t.Name)
		}
		if err != nil {
			return unavailable(fmt.Errorf("create team: %w", err))
		}
		return nil
	})
}

// Team returns a team by id; ErrNotFound if none.
func (s *Store) Team(ctx context.Context, id string) (horde.Team, error) {
	var t horde.Team
	err := s.r.QueryRowContext(ctx, `SELECT id, name, info, owner_id FROM teams WHERE id = ?`, id).Scan(&t.ID, &t.Name, &t.Info, &t.OwnerID)
	if err != nil {
		return horde.Team{}, notFound(err, "read team")
	}
	return t, nil
}

// Teams returns every team, by name.
func (s *Store) Teams(ctx context.Context) ([]horde.Team, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, info, owner_id FROM teams ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("read teams: %w", err)
	}
	defer rows.Close()
	out := []horde.Team{}
	for rows.Next() {
		var t horde.Team
		if err := rows.Scan(&t.ID, &t.Name, &t.Info, &t.OwnerID); err != nil {
			return nil, fmt.Errorf("read teams: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// UpdateTeam saves a team's name and info.
func (s *Store) UpdateTeam(ctx context.Context, t horde.Team) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE teams SET name = ?, info = ? WHERE id = ?`, t.Name, t.Info, t.ID)
		if isUniqueViolation(err, "teams.name") {
			return teamNameTaken(t.Name)
		}
		if err != nil {
			return unavailable(fmt.Errorf("update team: %w", err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("update team: %w", horde.ErrNotFound)
		}
		return nil
	})
}

// DeleteTeam removes a team; its members' rows go with it.
func (s *Store) DeleteTeam(ctx context.Context, id string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM teams WHERE id = ?`, id)
		if err != nil {
			return unavailable(fmt.Errorf("delete team: %w", err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("delete team: %w", horde.ErrNotFound)
		}
		return nil
	})
}

// SetWorkerTeam puts a worker in a team, or in none for "".
func (s *Store) SetWorkerTeam(ctx context.Context, workerID, teamID string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if teamID == "" {
			if _, err := tx.ExecContext(ctx, `DELETE FROM team_members WHERE worker_id = ?`, workerID); err != nil {
				return unavailable(fmt.Errorf("leave team: %w", err))
			}
			return nil
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO team_members (worker_id, team_id) VALUES (?, ?)
ON CONFLICT (worker_id) DO UPDATE SET team_id = excluded.team_id`, workerID, teamID)
		if isForeignKeyViolation(err) {
			return fmt.Errorf("join team %s: %w", teamID, horde.ErrNotFound)
		}
		if err != nil {
			return unavailable(fmt.Errorf("join team: %w", err))
		}
		return nil
	})
}

// WorkerTeam returns the id of the worker's team, "" if none.
func (s *Store) WorkerTeam(ctx context.Context, workerID string) (string, error) {
	var id string
	err := s.r.QueryRowContext(ctx, `SELECT team_id FROM team_members WHERE worker_id = ?`, workerID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read team of worker %s: %w", workerID, err)
	}
	return id, nil
}

// TeamWorkers returns the ids of a team's workers.
func (s *Store) TeamWorkers(ctx context.Context, teamID string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT worker_id FROM team_members WHERE team_id = ? ORDER BY worker_id`, teamID)
	if err != nil {
		return nil, fmt.Errorf("read workers of team %s: %w", teamID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("read workers of team %s: %w", teamID, err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

var _ kudos.EscrowStore = (*Store)(nil)

const qInsertHold = `INSERT INTO escrow (key, user_id, amount, ref, at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`

// Hold records escrow holds in one transaction; a hold whose key exists is
// skipped (applied[i] false).
func (s *Store) Hold(ctx context.Context, holds ...kudos.Hold) ([]bool, error) {
	for _, h := range holds {
		if err := h.Validate(); err != nil {
			return nil, invalidHold(err)
		}
	}
	var applied []bool
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		applied, err = s.holdEscrow(ctx, tx, holds)
		return err
	})
	if err != nil {
		return nil, err
	}
	return applied, nil
}

// holdEscrow records holds in tx (FinishJob records a job's hold with its
// ledger entries this way).
func (s *Store) holdEscrow(ctx context.Context, tx *sql.Tx, holds []kudos.Hold) ([]bool, error) {
	applied := make([]bool, len(holds))
	for i, h := range holds {
		if err := h.Validate(); err != nil {
			return nil, invalidHold(err)
		}
		at := nanos(h.At)
		if at == 0 {
			at = nanos(s.clock.Now())
		}
		res, err := s.exec(ctx, tx, qInsertHold, h.Key, h.UserID, h.Amount, h.Ref, at)
		if err != nil {
			return nil, unavailable(fmt.Errorf("hold escrow %q: %w", h.Key, err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return nil, fmt.Errorf("hold escrow %q: %w", h.Key, err)
		}
		applied[i] = n > 0
	}
	return applied, nil
}

// Escrowed returns the kudos held for a user and not yet released.
func (s *Store) Escrowed(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT coalesce(sum(amount), 0) FROM escrow WHERE user_id = ? AND released_at = 0`, userID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("escrow of user %d: %w", userID, err)
	}
	return n, nil
}

// ReleaseEscrow marks every unreleased hold of a user released and appends
// one ledger entry of kind escrow_release for their sum, in one transaction.
// The entry's key names the last hold released, so a release is never
// applied twice; with nothing held nothing changes (a release another
// process committed first leaves nothing held).
func (s *Store) ReleaseEscrow(ctx context.Context, userID, actorID int64, reason string, at time.Time) (kudos.Release, error) {
	if at.IsZero() {
		at = s.clock.Now()
	}
	var rel kudos.Release
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		rel = kudos.Release{UserID: userID}
		// On PostgreSQL another process may be releasing the same holds:
		// under the member's lock this read sees its commit, and finds
		// nothing left to release rather than holds that changed under it.
		if err := s.lockMembers(ctx, tx, userID); err != nil {
			return err
		}
		var lastID sql.NullInt64
		var sum int64
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT max(id), coalesce(sum(amount), 0), count(*) FROM escrow WHERE user_id = ? AND released_at = 0`,
			userID).Scan(&lastID, &sum, &n); err != nil {
			return unavailable(fmt.Errorf("read escrow of user %d: %w", userID, err))
		}
		if !lastID.Valid || sum <= 0 {
			return nil
		}
		key := fmt.Sprintf("escrow:%d:%d", userID, lastID.Int64)
		res, err := tx.ExecContext(ctx, `UPDATE escrow SET released_at = ?, release_key = ? WHERE user_id = ? AND released_at = 0 AND id <= ?`,
			nanos(at), key, userID, lastID.Int64)
		if err != nil {
			return unavailable(fmt.Errorf("release escrow of user %d: %w", userID, err))
		}
		if m, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("release escrow of user %d: %w", userID, err)
		} else if int(m) != n {
			return fmt.Errorf("release escrow of user %d: %d holds changed, want %d", userID, m, n)
		}
		applied, err := s.applyEntries(ctx, tx, []kudos.Entry{{
			UserID: userID, Delta: sum, Kind: kudos.KindEscrow, Reason: reason, ActorID: actorID,
			Ref: fmt.Sprintf("%d holds", n), Key: key, Floor: kudos.NoFloor, At: at,
		}})
		if err != nil {
			return fmt.Errorf("release escrow of user %d: %w", userID, err)
		}
		if !applied[0] {
			// The key names the last hold: a release entry can only exist if
			// these holds were marked released with it.
			return fmt.Errorf("release escrow of user %d: entry %q exists but its holds were held: %w", userID, key, errEscrowState)
		}
		rel.Amount, rel.Holds, rel.Key = sum, n, key
		return nil
	})
	if err != nil {
		return kudos.Release{}, err
	}
	return rel, nil
}

// errEscrowState is an escrow table out of step with the ledger.
var errEscrowState = errors.New("escrow and ledger out of step")

// VerifyEscrow returns the users whose released holds do not sum to their
// escrow_release ledger entries (Balance is the ledger's sum, Sum the holds').
func (s *Store) VerifyEscrow(ctx context.Context) ([]kudos.Mismatch, error) {
	return queryRows(ctx, s.r, "verify escrow", scanMismatch, `
SELECT coalesce(l.user_id, e.user_id), coalesce(l.total, 0), coalesce(e.total, 0)
FROM (SELECT user_id, sum(delta) AS total FROM ledger WHERE kind = ? GROUP BY user_id) l
FULL OUTER JOIN (SELECT user_id, sum(amount) AS total FROM escrow WHERE released_at != 0 GROUP BY user_id) e ON e.user_id = l.user_id
WHERE coalesce(l.total, 0) != coalesce(e.total, 0)
ORDER BY 1`, string(kudos.KindEscrow))
}

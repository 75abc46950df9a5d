package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

var _ horde.ModerationStore = (*Store)(nil)

// AddStrike records a strike unless its key was recorded, and returns the
// user's count of that kind since their last reset (see horde.ModerationStore).
func (s *Store) AddStrike(ctx context.Context, st horde.Strike) (int64, error) {
	if st.Key == "" {
		return 0, horde.Invalidf("key", "a strike needs an idempotency key")
	}
	at := nanos(st.At)
	if at == 0 {
		at = nanos(s.clock.Now())
	}
	var count int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO strikes (key, user_id, kind, ref, at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (key) DO NOTHING`, st.Key, st.UserID, string(st.Kind), st.Ref, at)
		if err != nil {
			return unavailable(fmt.Errorf("record strike %q: %w", st.Key, err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("record strike %q: %w", st.Key, err)
		} else if n > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO strike_counts (user_id, kind, count, total, last_at) VALUES (?, ?, 1, 1, ?)
ON CONFLICT (user_id, kind) DO UPDATE SET count = strike_counts.count + 1, total = strike_counts.total + 1, last_at = excluded.last_at`,
				st.UserID, string(st.Kind), at); err != nil {
				return unavailable(fmt.Errorf("count strike %q: %w", st.Key, err))
			}
		}
		err = tx.QueryRowContext(ctx, `SELECT count FROM strike_counts WHERE user_id = ? AND kind = ?`, st.UserID, string(st.Kind)).Scan(&count)
		if errors.Is(err, sql.ErrNoRows) {
			count = 0 // a replayed strike whose counts were never written cannot happen; be safe
			return nil
		}
		if err != nil {
			return fmt.Errorf("read strikes of user %d: %w", st.UserID, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return count, nil
}

// Strikes returns a user's strike counts since their last reset, by kind.
func (s *Store) Strikes(ctx context.Context, userID int64) (map[horde.StrikeKind]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT kind, count FROM strike_counts WHERE user_id = ? AND count > 0`, userID)
	if err != nil {
		return nil, fmt.Errorf("strikes of user %d: %w", userID, err)
	}
	defer rows.Close()
	out := map[horde.StrikeKind]int64{}
	for rows.Next() {
		var kind string
		var n int64
		if err := rows.Scan(&kind, &n); err != nil {
			return nil, fmt.Errorf("strikes of user %d: %w", userID, err)
		}
		out[horde.StrikeKind(kind)] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("strikes of user %d: %w", userID, err)
	}
	return out, nil
}

// ResetStrikes sets a user's strike counts to zero and takes their reports
// out of the tallies; strikes and reports stay on record.
func (s *Store) ResetStrikes(ctx context.Context, userID int64) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE strike_counts SET count = 0 WHERE user_id = ?`, userID); err != nil {
			return unavailable(fmt.Errorf("reset strikes of user %d: %w", userID, err))
		}
		if _, err := tx.ExecContext(ctx, `UPDATE result_reports SET live = 0 WHERE user_id = ? AND live = 1`, userID); err != nil {
			return unavailable(fmt.Errorf("reset reports of user %d: %w", userID, err))
		}
		return nil
	})
}

// qReportTally is a user's live report tally of one kind: every report, the
// distinct owners, the reports that count (a trusted owner's, not the
// user's own) and the distinct owners of those.
const qReportTally = `SELECT count(*), count(DISTINCT owner_id),
 coalesce(sum(CASE WHEN trusted = 1 AND owner_id >= 0 AND owner_id != user_id THEN 1 ELSE 0 END), 0),
 count(DISTINCT CASE WHEN trusted = 1 AND owner_id >= 0 AND owner_id != user_id THEN owner_id END)
FROM result_reports WHERE user_id = ? AND kind = ? AND live = 1`

// AddReport records a worker's report unless its key was recorded, and
// returns the user's live tally of that kind (see horde.ModerationStore).
func (s *Store) AddReport(ctx context.Context, r horde.Report) (horde.ReportTally, bool, error) {
	if r.Key == "" {
		return horde.ReportTally{}, false, horde.Invalidf("key", "a report needs an idempotency key")
	}
	at := nanos(r.At)
	if at == 0 {
		at = nanos(s.clock.Now())
	}
	var t horde.ReportTally
	var added bool
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO result_reports (key, user_id, kind, job_id, worker_id, owner_id, trusted, at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`,
			r.Key, r.UserID, string(r.Kind), r.JobID, r.WorkerID, r.OwnerID, r.Trusted, at)
		if err != nil {
			return unavailable(fmt.Errorf("record report %q: %w", r.Key, err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("record report %q: %w", r.Key, err)
		}
		added = n > 0
		if err := tx.QueryRowContext(ctx, qReportTally, r.UserID, string(r.Kind)).Scan(&t.Reports, &t.Owners, &t.TrustedReports, &t.TrustedOwners); err != nil {
			return fmt.Errorf("tally reports of user %d: %w", r.UserID, err)
		}
		return nil
	})
	if err != nil {
		return horde.ReportTally{}, false, err
	}
	return t, added, nil
}

// Reports returns a user's live report tallies by kind.
func (s *Store) Reports(ctx context.Context, userID int64) (map[horde.StrikeKind]horde.ReportTally, error) {
	out := map[horde.StrikeKind]horde.ReportTally{}
	for _, k := range []horde.StrikeKind{horde.StrikeCSAM, horde.StrikeCensored} {
		var t horde.ReportTally
		if err := s.r.QueryRowContext(ctx, qReportTally, userID, string(k)).Scan(&t.Reports, &t.Owners, &t.TrustedReports, &t.TrustedOwners); err != nil {
			return nil, fmt.Errorf("reports of user %d: %w", userID, err)
		}
		if t.Reports > 0 {
			out[k] = t
		}
	}
	return out, nil
}

// AddSuspicion records a suspicious result unless its key was recorded, and
// returns the worker's count since its last reset.
func (s *Store) AddSuspicion(ctx context.Context, sp horde.Suspicion) (int64, error) {
	if sp.Key == "" {
		return 0, horde.Invalidf("key", "a suspicion needs an idempotency key")
	}
	at := nanos(sp.At)
	if at == 0 {
		at = nanos(s.clock.Now())
	}
	rate := sp.Rate
	if rate > 1e300 || rate != rate {
		rate = 1e300 // +Inf and NaN do not round-trip through SQLite REAL
	}
	var count int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO suspicions (key, worker_id, ref, rate, at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (key) DO NOTHING`, sp.Key, sp.WorkerID, sp.Ref, rate, at)
		if err != nil {
			return unavailable(fmt.Errorf("record suspicion %q: %w", sp.Key, err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("record suspicion %q: %w", sp.Key, err)
		} else if n > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO suspicion_counts (worker_id, count, total, last_at) VALUES (?, 1, 1, ?)
ON CONFLICT (worker_id) DO UPDATE SET count = suspicion_counts.count + 1, total = suspicion_counts.total + 1, last_at = excluded.last_at`,
				sp.WorkerID, at); err != nil {
				return unavailable(fmt.Errorf("count suspicion %q: %w", sp.Key, err))
			}
		}
		err = tx.QueryRowContext(ctx, `SELECT count FROM suspicion_counts WHERE worker_id = ?`, sp.WorkerID).Scan(&count)
		if errors.Is(err, sql.ErrNoRows) {
			count = 0
			return nil
		}
		if err != nil {
			return fmt.Errorf("read suspicion of worker %s: %w", sp.WorkerID, err)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return count, nil
}

// Suspicions returns a worker's count of suspicious results since its last reset.
func (s *Store) Suspicions(ctx context.Context, workerID string) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT count FROM suspicion_counts WHERE worker_id = ?`, workerID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("suspicion of worker %s: %w", workerID, err)
	}
	return n, nil
}

// ResetSuspicion sets a worker's suspicion count to zero.
func (s *Store) ResetSuspicion(ctx context.Context, workerID string) error {
	return s.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE suspicion_counts SET count = 0 WHERE worker_id = ?`, workerID); err != nil {
			return unavailable(fmt.Errorf("reset suspicion of worker %s: %w", workerID, err))
		}
		return nil
	})
}

// SetFlagged sets a user's flag and reports whether it changed; ErrNotFound
// for an unknown user.
func (s *Store) SetFlagged(ctx context.Context, userID int64, flagged bool) (bool, error) {
	return s.setUserBit(ctx, "flagged", userID, flagged)
}

// SetTrusted sets a user's trust and reports whether it changed; ErrNotFound
// for an unknown user.
func (s *Store) SetTrusted(ctx context.Context, userID int64, trusted bool) (bool, error) {
	return s.setUserBit(ctx, "trusted", userID, trusted)
}

// setUserBit sets a 0/1 column of users with a conditional update, so that
// of two concurrent callers exactly one sees the change.
func (s *Store) setUserBit(ctx context.Context, column string, userID int64, v bool) (bool, error) {
	var q string
	switch column {
	case "flagged":
		q = `UPDATE users SET flagged = ?1 WHERE id = ?2 AND flagged != ?1`
	case "trusted":
		q = `UPDATE users SET trusted = ?1 WHERE id = ?2 AND trusted != ?1`
	default:
		return false, fmt.Errorf("set user %d: unknown column %q", userID, column)
	}
	var changed bool
	defer s.creds.invalidate()
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, v, userID)
		if err != nil {
			return unavailable(fmt.Errorf("set %s of user %d: %w", column, userID, err))
		}
		n, err := res.RowsAffected()
		if err != nil {
			return fmt.Errorf("set %s of user %d: %w", column, userID, err)
		}
		if n > 0 {
			changed = true
			return nil
		}
		var one int
		if err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = ?`, userID).Scan(&one); err != nil {
			return notFound(err, "set %s of user %d", column, userID)
		}
		changed = false
		return nil
	})
	if err != nil {
		return false, err
	}
	return changed, nil
}

// GenerationEarnings returns the kudos a user's workers earned from
// generations: the ledger's generation entries plus every escrow hold
// (released holds are in the ledger as escrow releases, not generations).
func (s *Store) GenerationEarnings(ctx context.Context, userID int64) (int64, error) {
	var paid, held int64
	err := s.r.QueryRowContext(ctx, `SELECT
 (SELECT coalesce(sum(delta), 0) FROM ledger WHERE user_id = ?1 AND kind = ?2),
 (SELECT coalesce(sum(amount), 0) FROM escrow WHERE user_id = ?1)`, userID, string(kudos.KindGeneration)).Scan(&paid, &held)
	if err != nil {
		return 0, fmt.Errorf("generation earnings of user %d: %w", userID, err)
	}
	return paid + held, nil
}

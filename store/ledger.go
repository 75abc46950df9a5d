package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hordebot/hordebot/kudos"
)

var _ kudos.Ledger = (*Store)(nil)

const (
	qInsertEntry = `INSERT INTO ledger (user_id, delta, kind, reason, actor_id, ref, key, at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING`
	qAddBalance = `INSERT INTO balances (user_id, kudos) VALUES (?1, ?2)
ON CONFLICT (user_id) DO UPDATE SET kudos = balances.kudos + excluded.kudos`
	qAddBalanceFloor = `UPDATE balances SET kudos = kudos + ?1 WHERE user_id = ?2 AND kudos + ?1 >= ?3`
	qBalance         = `SELECT kudos FROM balances WHERE user_id = ?`
	// The rollups (00025) of an entry: its (kind, UTC day, user) with the
	// arguments kind, day, user, delta, gain (1 or 0), earned (delta or 0);
	// for a positive one its (kind, user) all time: kind, user, delta.
	qAddLedgerDay = `INSERT INTO ledger_days (kind, day, user_id, entries, net, gains, earned) VALUES (?, ?, ?, 1, ?, ?, ?)
ON CONFLICT (kind, day, user_id) DO UPDATE SET entries = ledger_days.entries + 1, net = ledger_days.net + excluded.net,
gains = ledger_days.gains + excluded.gains, earned = ledger_days.earned + excluded.earned`
	qAddLedgerTotal = `INSERT INTO ledger_totals (kind, user_id, gains, earned) VALUES (?, ?, 1, ?)
ON CONFLICT (kind, user_id) DO UPDATE SET gains = ledger_totals.gains + 1, earned = ledger_totals.earned + excluded.earned`
	qHistory = `SELECT id, user_id, delta, kind, reason, actor_id, ref, key, at
FROM ledger WHERE user_id = ? ORDER BY at DESC, id DESC LIMIT ?`
)

// DefaultHistoryLimit is the number of entries History returns for a limit <= 0.
const DefaultHistoryLimit = 50

// Apply appends entries atomically (see kudos.Ledger). Many entries in one
// call are one transaction: the cheap way to write a batch of awards.
func (s *Store) Apply(ctx context.Context, entries ...kudos.Entry) ([]bool, error) {
	for _, e := range entries {
		if err := e.Validate(); err != nil {
			return nil, invalidEntry(err)
		}
	}
	var applied []bool
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		applied, err = s.applyEntries(ctx, tx, entries)
		return err
	})
	if err != nil {
		return nil, err
	}
	return applied, nil
}

// applyEntries appends entries in tx and keeps balances in step: an entry
// whose key exists is skipped (applied[i] false); an entry that would take
// its user below its Floor fails with an error wrapping
// kudos.ErrInsufficient, and the caller must roll back tx. Entries without a
// time get the store's clock.
func (s *Store) applyEntries(ctx context.Context, tx *sql.Tx, entries []kudos.Entry) ([]bool, error) {
	applied := make([]bool, len(entries))
	var now int64
	for i, e := range entries {
		if err := e.Validate(); err != nil {
			return nil, invalidEntry(err)
		}
		at := nanos(e.At)
		if at == 0 {
			if now == 0 {
				now = nanos(s.clock.Now())
			}
			at = now
		}
		res, err := s.exec(ctx, tx, qInsertEntry, e.UserID, e.Delta, string(e.Kind), e.Reason, e.ActorID, e.Ref, e.Key, at)
		if err != nil {
			return nil, unavailable(fmt.Errorf("append ledger entry %q: %w", e.Key, err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, fmt.Errorf("append ledger entry %q: %w", e.Key, err)
		} else if n == 0 {
			continue // already applied
		}
		applied[i] = true
		if e.Floor == kudos.NoFloor {
			if _, err := s.exec(ctx, tx, qAddBalance, e.UserID, e.Delta); err != nil {
				return nil, unavailable(fmt.Errorf("update balance of user %d: %w", e.UserID, err))
			}
		} else if err := s.addBalanceFloor(ctx, tx, e); err != nil {
			return nil, err
		}
		if err := s.addRollups(ctx, tx, e, at); err != nil {
			return nil, err
		}
	}
	return applied, nil
}

// addRollups adds an appended entry, dated at, to its day's rollup row and,
// if it is positive, to its all-time row (00025), in the entry's transaction.
func (s *Store) addRollups(ctx context.Context, tx *sql.Tx, e kudos.Entry, at int64) error {
	var gain, earned int64
	if e.Delta > 0 {
		gain, earned = 1, e.Delta
	}
	if _, err := s.exec(ctx, tx, qAddLedgerDay, string(e.Kind), floorTo(at, day), e.UserID, e.Delta, gain, earned); err != nil {
		return unavailable(fmt.Errorf("ledger rollup of user %d, day: %w", e.UserID, err))
	}
	if e.Delta <= 0 {
		return nil
	}
	if _, err := s.exec(ctx, tx, qAddLedgerTotal, string(e.Kind), e.UserID, e.Delta); err != nil {
		return unavailable(fmt.Errorf("ledger rollup of user %d, all time: %w", e.UserID, err))
	}
	return nil
}

// addBalanceFloor adds e.Delta to the user's balance unless that takes it
// below e.Floor (kudos.ErrInsufficient). A user without a balance row has 0:
// the row is created only then, so the usual case is one statement.
func (s *Store) addBalanceFloor(ctx context.Context, tx *sql.Tx, e kudos.Entry) error {
	res, err := s.exec(ctx, tx, qAddBalanceFloor, e.Delta, e.UserID, e.Floor)
	if err != nil {
		return unavailable(fmt.Errorf("update balance of user %d: %w", e.UserID, err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("update balance of user %d: %w", e.UserID, err)
	}
	if n > 0 {
		return nil
	}
	var kudosNow int64
	switch err := s.txQueryRow(ctx, tx, qBalance, e.UserID).Scan(&kudosNow); {
	case errors.Is(err, sql.ErrNoRows):
		if e.Delta >= e.Floor { // from 0
			if _, err := s.exec(ctx, tx, qAddBalance, e.UserID, e.Delta); err != nil {
				return unavailable(fmt.Errorf("create balance of user %d: %w", e.UserID, err))
			}
			return nil
		}
	case err != nil:
		return unavailable(fmt.Errorf("read balance of user %d: %w", e.UserID, err))
	}
	return fmt.Errorf("ledger entry %q: user %d by %d below floor %d: %w",
		e.Key, e.UserID, e.Delta, e.Floor, kudos.ErrInsufficient)
}

// Balance returns a user's kudos; 0 for a user with no entries.
func (s *Store) Balance(ctx context.Context, userID int64) (int64, error) {
	var k int64
	err := s.readRow(ctx, qBalance, userID).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("balance of user %d: %w", userID, err)
	}
	return k, nil
}

// History returns a user's newest entries first, at most limit
// (DefaultHistoryLimit when limit <= 0).
func (s *Store) History(ctx context.Context, userID int64, limit int) ([]kudos.Entry, error) {
	if limit <= 0 {
		limit = DefaultHistoryLimit
	}
	return queryRows(ctx, s.r, fmt.Sprintf("history of user %d", userID), func(row scanner) (kudos.Entry, error) {
		var e kudos.Entry
		var kind string
		var at int64
		if err := row.Scan(&e.ID, &e.UserID, &e.Delta, &kind, &e.Reason, &e.ActorID, &e.Ref, &e.Key, &at); err != nil {
			return kudos.Entry{}, err
		}
		e.Kind = kudos.EntryKind(kind)
		e.At = fromNanos(at)
		e.Floor = kudos.NoFloor
		return e, nil
	}, qHistory, userID, limit)
}

// Verify recomputes every balance from the ledger, in one consistent read,
// and returns the users whose stored balance differs from their sum.
func (s *Store) Verify(ctx context.Context) ([]kudos.Mismatch, error) {
	return queryRows(ctx, s.r, "verify ledger", scanMismatch, `
SELECT coalesce(b.user_id, l.user_id), coalesce(b.kudos, 0), coalesce(l.total, 0)
FROM balances b
FULL OUTER JOIN (SELECT user_id, sum(delta) AS total FROM ledger GROUP BY user_id) l ON l.user_id = b.user_id
WHERE coalesce(b.kudos, 0) != coalesce(l.total, 0)
ORDER BY 1`)
}

// scanMismatch reads a (user, balance, sum) row.
func scanMismatch(row scanner) (kudos.Mismatch, error) {
	var m kudos.Mismatch
	err := row.Scan(&m.UserID, &m.Balance, &m.Sum)
	return m, err
}

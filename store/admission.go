package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/hordebot/hordebot/horde"
)

// Admission on the shared queue: a member's new request or interrogation is
// checked against their concurrency and upfront kudos (horde's rules, the
// admit function) and stored in one transaction that first takes a
// transaction-scoped advisory lock of the member. Two submits of one member
// on two processes at once are so serialised: the second reads what the
// first holds once it has committed, and is refused as it would be in one
// process. The lock is PostgreSQL's two-key form, (a hash of the database,
// the schema and "member", the user id), a key space apart from the leases'
// one-key locks (leases.go); a user id past 2^31 shares its key with
// another, which only serialises the two.

const (
	qLockMember = `SELECT pg_advisory_xact_lock(hashtext(current_database() || '/' || current_schema() || '/hordebot member'),
	(?::bigint % 2147483647)::int4)`
	qHeldForms = `SELECT count(*), COALESCE(sum(cost), 0) FROM interrogation_forms
WHERE user_id = ? AND state IN ('waiting', 'processing')`
)

// AdmitRequest implements horde.SharedQueue.
func (q pgQueue) AdmitRequest(ctx context.Context, r horde.Request, admit func(horde.Holding) error) error {
	create, err := q.s.requestCreator(r)
	if err != nil {
		return err
	}
	return q.admit(ctx, r.UserID, admit, create)
}

// AdmitInterrogation implements horde.SharedQueue.
func (q pgQueue) AdmitInterrogation(ctx context.Context, in horde.Interrogation, admit func(horde.Holding) error) error {
	create, err := interrogationCreator(in)
	if err != nil {
		return err
	}
	err = q.admit(ctx, in.UserID, admit, create)
	q.s.unpinBlob(in.SourceRef)
	return err
}

// admit runs create after admit accepted what userID holds, in one write
// that holds the member's lock from before the read to the commit.
func (q pgQueue) admit(ctx context.Context, userID int64, admit func(horde.Holding) error,
	create func(context.Context, *sql.Tx) error) error {
	s := q.s
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, qLockMember, userID); err != nil {
			return unavailable(fmt.Errorf("lock member %d: %w", userID, err))
		}
		h, err := holding(ctx, tx, userID)
		if err != nil {
			return err
		}
		if err := admit(h); err != nil {
			return err
		}
		return create(ctx, tx)
	})
}

// Held implements horde.SharedQueue.
func (q pgQueue) Held(ctx context.Context, userID int64) (horde.Holding, error) {
	return holding(ctx, q.s.r, userID)
}

// holding reads what userID's open work holds, and their balance.
func holding(ctx context.Context, db rowQuerier, userID int64) (horde.Holding, error) {
	var h horde.Holding
	var items, forms int
	var itemKudos, formKudos int64
	if err := db.QueryRowContext(ctx, qHeld, userID).Scan(&items, &itemKudos); err != nil {
		return h, unavailable(fmt.Errorf("held items of user %d: %w", userID, err))
	}
	if err := db.QueryRowContext(ctx, qHeldForms, userID).Scan(&forms, &formKudos); err != nil {
		return h, unavailable(fmt.Errorf("held forms of user %d: %w", userID, err))
	}
	err := db.QueryRowContext(ctx, qBalance, userID).Scan(&h.Balance)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return h, unavailable(fmt.Errorf("balance of user %d: %w", userID, err))
	}
	h.Items, h.Forms, h.Kudos = items, forms, itemKudos+formKudos
	return h, nil
}

// lockMembers takes, on PostgreSQL, the member lock of each of ids, in id
// order, for the rest of tx: for a check of sums (caps, held kudos) that
// must see every other process's write for those members before its own.
// On SQLite one writer runs every transaction in turn and it does nothing.
func (s *Store) lockMembers(ctx context.Context, tx *sql.Tx, ids ...int64) error {
	if s.eng != postgresEngine {
		return nil
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, qLockMember, id); err != nil {
			return unavailable(fmt.Errorf("lock member %d: %w", id, err))
		}
	}
	return nil
}

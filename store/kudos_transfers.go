package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

const (
	qTransferByKey  = `SELECT from_id, to_id, amount FROM transfers WHERE key = ?`
	qPingPong       = `SELECT 1 FROM transfers WHERE from_id = ? AND to_id = ? AND at >= ? LIMIT 1`
	qInsertTransfer = `INSERT INTO transfers (key, from_id, to_id, amount, at) VALUES (?, ?, ?, ?, ?)`
)

// RecordTransfer records a transfer and applies its entries in one
// transaction (see kudos.TransferStore): a replayed key with the same sender,
// receiver and amount does nothing, a key recorded for another transfer is
// refused (kudos.RefuseKeyReused), a ping-pong is refused, and a sender who
// cannot cover it fails the whole call.
//
// On PostgreSQL the sender's entry is also floored at what their open work
// holds, read under the member's advisory lock (heldFloors), so that a
// transfer and a submit of one member on two processes are checked one
// after the other.
func (s *Store) RecordTransfer(ctx context.Context, t kudos.TransferRecord, pingPongSince time.Time, entries []kudos.Entry) (bool, error) {
	var applied bool
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		applied = false
		var was kudos.TransferRecord
		err := tx.QueryRowContext(ctx, qTransferByKey, t.Key).Scan(&was.FromID, &was.ToID, &was.Amount)
		if err == nil {
			if was.FromID != t.FromID || was.ToID != t.ToID || was.Amount != t.Amount {
				return kudos.KeyReused(was)
			}
			return nil // a replay: already done
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return unavailable(fmt.Errorf("look up transfer %q: %w", t.Key, err))
		}
		var one int
		err = tx.QueryRowContext(ctx, qPingPong, t.ToID, t.FromID, nanos(pingPongSince)).Scan(&one)
		if err == nil {
			return kudos.Refuse(kudos.RefusePingPong, "that member just gave you kudos: wait a little before giving kudos back")
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return unavailable(fmt.Errorf("ping-pong check of transfer %q: %w", t.Key, err))
		}
		floored, err := s.heldFloors(ctx, tx, entries)
		if err != nil {
			return err
		}
		if _, err := s.applyEntries(ctx, tx, floored); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, qInsertTransfer,
			t.Key, t.FromID, t.ToID, t.Amount, nanos(t.At))
		if isForeignKeyViolation(err) {
			return kudos.Refuse(kudos.RefuseUnknownUser, "that member has no kudos account yet")
		}
		if err != nil {
			return unavailable(fmt.Errorf("record transfer %q: %w", t.Key, err))
		}
		applied = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return applied, nil
}

// heldFloors returns entries with every floored debit's floor raised to
// what its member's open requests and interrogations hold, read in tx
// under the member's transaction-scoped lock (admission.go), on
// PostgreSQL. The kudos engine floors a transfer or a party's budget at
// what the horde said was held before the write; with the queue shared
// between processes, a submit on another process may have admitted more
// since, and the lock makes this check and that admission one after the
// other. On SQLite one process owns the queue and entries are returned as
// they are.
func (s *Store) heldFloors(ctx context.Context, tx *sql.Tx, entries []kudos.Entry) ([]kudos.Entry, error) {
	if s.eng != postgresEngine {
		return entries, nil
	}
	out := append([]kudos.Entry(nil), entries...)
	for i, e := range out {
		if e.Floor == kudos.NoFloor || e.Delta >= 0 {
			continue
		}
		if err := s.lockMembers(ctx, tx, e.UserID); err != nil {
			return nil, err
		}
		h, err := holding(ctx, tx, e.UserID)
		if err != nil {
			return nil, err
		}
		out[i].Floor = max(e.Floor, h.Kudos)
	}
	return out, nil
}

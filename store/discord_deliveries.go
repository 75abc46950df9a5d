package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hordebot/hordebot/bot/deferredix"
)

// SaveDiscordDelivery inserts or replaces the pending Discord delivery of a
// request (an opaque payload owned by the bot), and marks the deferred
// interaction that queued the request (discord_interactions) watched.
func (s *Store) SaveDiscordDelivery(ctx context.Context, requestID string, payload []byte) error {
	if requestID == "" {
		return fmt.Errorf("save discord delivery: empty request id")
	}
	at := nanos(s.clock.Now())
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO discord_deliveries (request_id, payload, created_at) VALUES (?, ?, ?)
			ON CONFLICT (request_id) DO UPDATE SET payload = excluded.payload`, requestID, payload, at)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE discord_interactions SET state = ? WHERE request_id = ? AND state = ?`,
			string(deferredix.Watched), requestID, string(deferredix.Queued))
		return err
	})
	if err != nil {
		return unavailable(fmt.Errorf("save discord delivery of %s: %w", requestID, err))
	}
	return nil
}

// DeleteDiscordDelivery forgets a delivered request; a missing one is not an error.
func (s *Store) DeleteDiscordDelivery(ctx context.Context, requestID string) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM discord_deliveries WHERE request_id = ?`, requestID)
		return err
	})
	if err != nil {
		return unavailable(fmt.Errorf("delete discord delivery of %s: %w", requestID, err))
	}
	return nil
}

// DiscordDeliveries returns the payloads of every pending delivery, oldest first.
func (s *Store) DiscordDeliveries(ctx context.Context) ([][]byte, error) {
	return queryRows(ctx, s.r, "list discord deliveries", func(row scanner) ([]byte, error) {
		var b []byte
		err := row.Scan(&b)
		return b, err
	}, `SELECT payload FROM discord_deliveries ORDER BY created_at, request_id`)
}

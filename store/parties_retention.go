package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Ended parties are kept for Retention.Parties after they end, then pruned
// with their generation and award rows. Only a party whose summary was
// posted goes: one still owed to its channel is kept until a gateway
// process posts it. The ledger entries a party made (kind party, its ref)
// are never removed, so `kudos verify` still balances: it checks the
// parties that remain.

// partyPruneBatch is how many parties one prune transaction removes.
const partyPruneBatch = 200

const (
	qPrunableParties = `SELECT id FROM parties WHERE ended = 1 AND announced = 1 AND ended_at > 0 AND ended_at < ? ORDER BY ended_at, id LIMIT ?`
	qDeletePartyRows = `DELETE FROM party_awards WHERE party_id = ?`
	qDeletePartyGens = `DELETE FROM party_generations WHERE party_id = ?`
	qDeleteParty     = `DELETE FROM parties WHERE id = ? AND ended = 1 AND announced = 1`
)

// PruneParties removes the parties that ended before before and whose
// summary was posted, with their generations and awards, in batches (each
// its own write); it returns how many it removed.
func (s *Store) PruneParties(ctx context.Context, before time.Time) (int, error) {
	removed := 0
	for {
		if err := ctx.Err(); err != nil {
			return removed, err
		}
		var ids []int64
		err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			var err error
			ids, err = queryRows(ctx, tx, "prunable parties", func(row scanner) (int64, error) {
				var id int64
				return id, row.Scan(&id)
			}, qPrunableParties, nanos(before), partyPruneBatch)
			if err != nil {
				return err
			}
			for _, id := range ids {
				for _, q := range []string{qDeletePartyRows, qDeletePartyGens, qDeleteParty} {
					if _, err := tx.ExecContext(ctx, q, id); err != nil {
						return unavailable(fmt.Errorf("prune party %d: %w", id, err))
					}
				}
			}
			return nil
		})
		if err != nil {
			return removed, fmt.Errorf("prune ended parties before %s: %w", before.Format(time.RFC3339), err)
		}
		removed += len(ids)
		if len(ids) < partyPruneBatch {
			return removed, nil
		}
	}
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Retention: finished requests are kept for a configured time, then
// removed with their items, jobs, generations and uploads, and the result
// images no other row names. The kudos ledger, escrow and strikes are never
// removed (their refs keep naming the job ids, which is all an audit needs).
// A request a shared art post refers to, or whose result is still owed to
// Discord, is kept.

// purgeBatch is how many requests one purge transaction removes, so that
// the writer is never held for long.
const purgeBatch = 200

const (
	qPurgeable = `SELECT r.id FROM requests r
WHERE r.` + finishedState + ` AND r.finished_at > 0 AND r.finished_at < ?
  AND NOT EXISTS (SELECT 1 FROM shared_posts p WHERE p.request_id = r.id AND p.request_id != '')
  AND NOT EXISTS (SELECT 1 FROM discord_deliveries d WHERE d.request_id = r.id)
ORDER BY r.finished_at LIMIT ?`
	qRequestBlobs = `SELECT blob_ref FROM generations WHERE request_id = ?1 AND blob_ref != ''
UNION SELECT u.blob_ref FROM uploads u JOIN jobs j ON j.id = u.job_id WHERE j.request_id = ?1`
	// Items, jobs, generations and uploads go with it (ON DELETE CASCADE).
	qDeleteRequest = `DELETE FROM requests WHERE id = ? AND state IN ('done', 'faulted', 'cancelled')`
)

// Purge is what PurgeResults removed.
type Purge struct {
	Requests int   // finished requests removed with their rows
	Blobs    int   // result images deleted
	Freed    int64 // bytes those took
	// Stats is how many generation_stats rows past statsKept Maintain removed.
	Stats int
	// Parties is how many ended parties past Retention.Parties Maintain removed.
	Parties int
}

// PurgeResults removes the requests that finished (done, faulted or
// cancelled) before before, with their items, jobs, generations and
// uploads, and then the result images no other row names. Requests a shared
// art post refers to, or whose result is still owed to Discord, are kept;
// the ledger is never touched. It works in batches, each its own write, and
// returns what it removed until ctx ended or a write failed.
func (s *Store) PurgeResults(ctx context.Context, before time.Time) (Purge, error) {
	var total Purge
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		var ids, refs []string
		err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			ids, refs = ids[:0], refs[:0]
			var err error
			if ids, err = queryRows(ctx, tx, "purgeable requests", scanString, qPurgeable, nanos(before), purgeBatch); err != nil {
				return err
			}
			for _, id := range ids {
				r, err := queryRows(ctx, tx, "blobs of request "+id, scanString, qRequestBlobs, id)
				if err != nil {
					return err
				}
				refs = append(refs, r...)
				if _, err := tx.ExecContext(ctx, qDeleteRequest, id); err != nil {
					return unavailable(fmt.Errorf("purge request %s: %w", id, err))
				}
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("purge finished requests: %w", err)
		}
		total.Requests += len(ids)
		n, freed := s.dropBlobs(ctx, refs...)
		total.Blobs += n
		total.Freed += freed
		if len(ids) < purgeBatch {
			return total, s.purgeInterrogations(ctx, before, &total)
		}
	}
}

const (
	qPurgeableInterrogations = `SELECT id FROM interrogations WHERE finished_at > 0 AND finished_at < ? ORDER BY finished_at LIMIT ?`
	qInterrogationBlobs      = `SELECT source_ref FROM interrogations WHERE id = ?1
UNION SELECT blob_ref FROM interrogation_forms WHERE interrogation_id = ?1 AND blob_ref != ''
UNION SELECT upload_ref FROM interrogation_forms WHERE interrogation_id = ?1 AND upload_ref != ''`
	// Its forms go with it (ON DELETE CASCADE).
	qDeleteInterrogation = `DELETE FROM interrogations WHERE id = ? AND finished_at > 0`
)

// purgeInterrogations removes the interrogations (alchemy requests) whose
// last form finished before before, with their forms and the images no
// other row names, counting them in total.
func (s *Store) purgeInterrogations(ctx context.Context, before time.Time, total *Purge) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var ids, refs []string
		err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
			ids, refs = ids[:0], refs[:0]
			var err error
			if ids, err = queryRows(ctx, tx, "purgeable interrogations", scanString, qPurgeableInterrogations, nanos(before), purgeBatch); err != nil {
				return err
			}
			for _, id := range ids {
				r, err := queryRows(ctx, tx, "blobs of interrogation "+id, scanString, qInterrogationBlobs, id)
				if err != nil {
					return err
				}
				refs = append(refs, r...)
				if _, err := tx.ExecContext(ctx, qDeleteInterrogation, id); err != nil {
					return unavailable(fmt.Errorf("purge interrogation %s: %w", id, err))
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("purge finished interrogations: %w", err)
		}
		total.Requests += len(ids)
		n, freed := s.dropBlobs(ctx, refs...)
		total.Blobs += n
		total.Freed += freed
		if len(ids) < purgeBatch {
			return nil
		}
	}
}

// scanString reads a one-column text row.
func scanString(row scanner) (string, error) {
	var v string
	err := row.Scan(&v)
	return v, err
}

// Retention configures the store's housekeeping (RunRetention, Maintain).
type Retention struct {
	// Results is how long finished requests and their images are kept;
	// 0 keeps them forever.
	Results time.Duration
	// BlobGrace is how old an image file no row names must be before the
	// sweep deletes it (a file written just before its row commits is
	// younger); at least a minute.
	BlobGrace time.Duration
	// Every is how often RunRetention runs Maintain.
	Every time.Duration
	// Parties is how long ended parties (their rows, generations and
	// awards) are kept once their summary is posted; 0 keeps them forever.
	Parties time.Duration
}

// minBlobGrace is the shortest grace period SweepBlobs is given by
// Maintain: far longer than a blob's write and its row's commit.
const minBlobGrace = time.Minute

// Maintain runs one round of housekeeping at the store's clock: it purges
// the results past r.Results (when set), prunes the generation stats past
// the longest window they report (whatever r.Results says: the all-time
// totals keep counting them), prunes the ended parties past r.Parties
// (when set), then sweeps the image files no row names.
// Each runs even if another fails; the errors are joined.
func (s *Store) Maintain(ctx context.Context, r Retention) (Purge, BlobSweep, error) {
	now := s.clock.Now()
	var p Purge
	var perr error
	if r.Results > 0 {
		p, perr = s.PurgeResults(ctx, now.Add(-r.Results))
	}
	var gerr error
	p.Stats, gerr = s.PruneGenerationStats(ctx, now.Add(-statsKept))
	var perr2 error
	if r.Parties > 0 {
		p.Parties, perr2 = s.PruneParties(ctx, now.Add(-r.Parties))
	}
	sw, serr := s.SweepBlobs(ctx, max(r.BlobGrace, minBlobGrace))
	return p, sw, errors.Join(perr, gerr, perr2, serr)
}

// RunRetention runs Maintain at start and then every r.Every (default an
// hour) until ctx ends, logging what it removed; it returns nil when ctx ends.
func (s *Store) RunRetention(ctx context.Context, r Retention) error {
	every := r.Every
	if every <= 0 {
		every = time.Hour
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		p, sw, err := s.Maintain(ctx, r)
		if err != nil && ctx.Err() == nil {
			s.log.Error("retention", "err", err)
		}
		if p.Requests > 0 || p.Stats > 0 || p.Parties > 0 || sw.Deleted > 0 || sw.Temps > 0 {
			s.log.Info("retention", "requests_purged", p.Requests, "stats_rows_pruned", p.Stats, "parties_pruned", p.Parties, "images_deleted", p.Blobs+sw.Deleted,
				"bytes_freed", p.Freed+sw.Freed, "temp_files_deleted", sw.Temps, "images_kept", sw.Kept, "images_kept_bytes", sw.KeptBytes)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

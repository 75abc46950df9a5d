package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

var _ horde.RatingStore = (*Store)(nil)

// RecordRatings stores rows and pays entry within the rater's daily cap, in
// one transaction (see horde.RatingStore). The cap is a sum over the
// rater's rows of the day taken inside the write transaction, so two
// concurrent rating sets cannot both slip under it (on PostgreSQL it is
// read under the rater's member lock, so that holds across processes).
func (s *Store) RecordRatings(ctx context.Context, rows []horde.RatingRecord, entry kudos.Entry, dayStart time.Time, dailyCap int64) (int64, error) {
	if len(rows) == 0 {
		return 0, horde.Invalidf("ratings", "nothing to rate")
	}
	var paid int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		paid = entry.Delta
		if dailyCap > 0 {
			if err := s.lockMembers(ctx, tx, rows[0].UserID); err != nil {
				return err
			}
			var earned int64
			if err := tx.QueryRowContext(ctx, `SELECT coalesce(sum(kudos), 0) FROM ratings WHERE user_id = ? AND at >= ?`,
				rows[0].UserID, nanos(dayStart)).Scan(&earned); err != nil {
				return unavailable(fmt.Errorf("sum ratings of user %d: %w", rows[0].UserID, err))
			}
			paid = max(min(paid, dailyCap-earned), 0)
		}
		for i, r := range rows {
			k := int64(0)
			if i == 0 {
				k = paid
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO ratings (user_id, generation_id, request_id, rating, artifacts, best, kudos, at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.UserID, r.GenerationID, r.RequestID, r.Rating, r.Artifacts, r.Best, k, nanos(r.At))
			if isUniqueViolation(err, "ratings.user_id") {
				return fmt.Errorf("rating of %s by user %d: %w", r.GenerationID, r.UserID, horde.ErrDuplicate)
			}
			if err != nil {
				return unavailable(fmt.Errorf("store rating of %s: %w", r.GenerationID, err))
			}
		}
		if paid == 0 {
			return nil
		}
		entry.Delta = paid
		_, err := s.applyEntries(ctx, tx, []kudos.Entry{entry})
		return err
	})
	if err != nil {
		return 0, err
	}
	return paid, nil
}

// PublishRequest marks a request shared (see horde.RatingStore).
func (s *Store) PublishRequest(ctx context.Context, requestID string) error {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE requests SET shared = 1 WHERE id = ?`, requestID)
		if err != nil {
			return unavailable(fmt.Errorf("publish request %s: %w", requestID, err))
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("request %s: %w", requestID, horde.ErrNotFound)
	}
	return nil
}

// RequestRatings sums up the ratings of a request's images: distinct
// raters, and the average of their ratings (a best-of without a rating
// counts as a rater but not in the average).
func (s *Store) RequestRatings(ctx context.Context, requestID string) (horde.RatingSummary, error) {
	var (
		sum horde.RatingSummary
		avg sql.NullFloat64
	)
	err := s.r.QueryRowContext(ctx, `SELECT count(DISTINCT user_id), avg(CASE WHEN rating > 0 THEN rating END)
FROM ratings WHERE request_id = ?`, requestID).Scan(&sum.Raters, &avg)
	if err != nil {
		return sum, fmt.Errorf("ratings of request %s: %w", requestID, err)
	}
	sum.Average = avg.Float64
	return sum, nil
}

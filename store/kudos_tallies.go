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
	qArtPosts = `SELECT a.message_id, max(a.channel_id), max(a.author_id), count(*)
FROM art_reactors a
WHERE a.first_at >= ? AND a.first_at < ?
  AND EXISTS (SELECT 1 FROM art_reactions r WHERE r.message_id = a.message_id AND r.reactor_id = a.reactor_id)
GROUP BY a.message_id ORDER BY a.message_id`
	qTallyRan  = `SELECT 1 FROM tally_runs WHERE name = ? AND period = ?`
	qLastTally = `SELECT coalesce(max(period), '') FROM tally_runs WHERE name = ?`
)

// cleanupQueries delete, each with one "before" argument, what the hourly cleanup removes.
var cleanupQueries = []string{
	`DELETE FROM awards WHERE state = 'revoked' AND done_at < ?`,
	`DELETE FROM awards WHERE state = 'pending' AND settle_at < ?`,
	`DELETE FROM art_reactions WHERE at < ?`,
	`DELETE FROM art_reactors WHERE first_at < ?`,
}

// RecordArtReaction records a reaction added to or removed from an art post.
// The first reaction of a reactor on a post fixes the day it is counted in.
func (s *Store) RecordArtReaction(ctx context.Context, r kudos.ArtReaction) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if !r.Added {
			if _, err := tx.ExecContext(ctx, `DELETE FROM art_reactions WHERE message_id = ? AND reactor_id = ? AND emoji = ?`,
				r.MessageID, r.ReactorID, r.Emoji); err != nil {
				return unavailable(fmt.Errorf("unrecord art reaction on %s: %w", r.MessageID, err))
			}
			return nil
		}
		at := nanos(r.At)
		if _, err := tx.ExecContext(ctx, `INSERT INTO art_reactions (message_id, reactor_id, emoji, at) VALUES (?, ?, ?, ?)
ON CONFLICT DO NOTHING`, r.MessageID, r.ReactorID, r.Emoji, at); err != nil {
			return unavailable(fmt.Errorf("record art reaction on %s: %w", r.MessageID, err))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO art_reactors (message_id, reactor_id, author_id, channel_id, first_at)
VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, r.MessageID, r.ReactorID, r.AuthorID, r.ChannelID, at); err != nil {
			return unavailable(fmt.Errorf("record art reactor on %s: %w", r.MessageID, err))
		}
		return nil
	})
}

// ArtPosts returns the art posts with their reactors first seen in [from, to)
// whose reactions are still there.
func (s *Store) ArtPosts(ctx context.Context, from, to time.Time) ([]kudos.ArtPost, error) {
	return queryRows(ctx, s.r, "read art posts", func(row scanner) (kudos.ArtPost, error) {
		var p kudos.ArtPost
		err := row.Scan(&p.MessageID, &p.ChannelID, &p.AuthorID, &p.Reactors)
		return p, err
	}, qArtPosts, nanos(from), nanos(to))
}

// CompleteTally records (name, period) and applies entries in one
// transaction; a period already recorded changes nothing and returns false.
func (s *Store) CompleteTally(ctx context.Context, name, period string, entries []kudos.Entry, at time.Time) (bool, error) {
	var ran bool
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		ran = false
		res, err := tx.ExecContext(ctx, `INSERT INTO tally_runs (name, period, at, entries) VALUES (?, ?, ?, ?)
ON CONFLICT DO NOTHING`, name, period, nanos(at), len(entries))
		if err != nil {
			return unavailable(fmt.Errorf("record tally %s %s: %w", name, period, err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("record tally %s %s: %w", name, period, err)
		} else if n == 0 {
			return nil // already ran
		}
		if _, err := s.applyEntries(ctx, tx, entries); err != nil {
			return fmt.Errorf("tally %s %s: %w", name, period, err)
		}
		ran = true
		return nil
	})
	if err != nil {
		return false, err
	}
	return ran, nil
}

// TallyRan reports whether tally name has run for period.
func (s *Store) TallyRan(ctx context.Context, name, period string) (bool, error) {
	var one int
	err := s.r.QueryRowContext(ctx, qTallyRan, name, period).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("tally %s %s: %w", name, period, err)
	}
	return true, nil
}

// LastTally returns the latest period tally name has run for, or "".
func (s *Store) LastTally(ctx context.Context, name string) (string, error) {
	var period string
	if err := s.r.QueryRowContext(ctx, qLastTally, name).Scan(&period); err != nil {
		return "", fmt.Errorf("last %s tally: %w", name, err)
	}
	return period, nil
}

// CleanupKudos deletes revoked and never-settled awards and art reaction
// rows older than before.
func (s *Store) CleanupKudos(ctx context.Context, before time.Time) (int64, error) {
	var total int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		total = 0
		cut := nanos(before)
		for _, q := range cleanupQueries {
			res, err := tx.ExecContext(ctx, q, cut)
			if err != nil {
				return unavailable(fmt.Errorf("kudos cleanup: %w", err))
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("kudos cleanup: %w", err)
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

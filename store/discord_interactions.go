package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/hordebot/hordebot/bot/deferredix"
	"github.com/hordebot/hordebot/horde"
)

// RecordDiscordInteraction records an interaction before its deferral, as
// claimed by r.Owner until r.ClaimUntil. It reports false, writing
// nothing, when the interaction is already recorded (a replay, or another
// process has it).
func (s *Store) RecordDiscordInteraction(ctx context.Context, r deferredix.Record) (bool, error) {
	if r.ID == "" {
		return false, horde.Invalidf("id", "record discord interaction: empty id")
	}
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO discord_interactions
			(interaction_id, guild_id, payload, created_at, state, claimed_by, claim_until)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (interaction_id) DO NOTHING`,
			r.ID, r.GuildID, r.Payload, nanos(r.CreatedAt), string(deferredix.Open), r.Owner, nanos(r.ClaimUntil))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, unavailable(fmt.Errorf("record discord interaction %s: %w", r.ID, err))
	}
	return n == 1, nil
}

// PendingDiscordInteractions returns at most limit interactions whose
// runner has more to do, oldest first, whoever claims them: open ones
// (deferred, no request queued, not answered) and queued ones (the
// delivery of their result not saved).
func (s *Store) PendingDiscordInteractions(ctx context.Context, limit int) ([]deferredix.Record, error) {
	return queryRows(ctx, s.r, "list pending discord interactions", func(row scanner) (deferredix.Record, error) {
		var r deferredix.Record
		var created, until int64
		var state string
		var req sql.NullString
		err := row.Scan(&r.ID, &r.GuildID, &r.Payload, &created, &r.Owner, &until, &state, &req)
		r.CreatedAt, r.ClaimUntil, r.State, r.RequestID = fromNanos(created), fromNanos(until), deferredix.State(state), req.String
		return r, err
	}, `SELECT interaction_id, guild_id, payload, created_at, claimed_by, claim_until, state, request_id FROM discord_interactions
		WHERE state IN (?, ?) ORDER BY created_at, interaction_id LIMIT ?`, string(deferredix.Open), string(deferredix.Queued), limit)
}

// ClaimDiscordInteraction makes owner the runner of a pending (open or
// queued) interaction until until, when another owner's claim has lapsed by now (or, with
// takeover, whatever it says: with one process on the store, any other
// owner is a run that ended). It reports whether owner got it.
func (s *Store) ClaimDiscordInteraction(ctx context.Context, id, owner string, now, until time.Time, takeover bool) (bool, error) {
	lapsed := nanos(now)
	if takeover {
		lapsed = math.MaxInt64
	}
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE discord_interactions SET claimed_by = ?, claim_until = ?
			WHERE interaction_id = ? AND state IN (?, ?) AND claimed_by <> ? AND claim_until <= ?`,
			owner, nanos(until), id, string(deferredix.Open), string(deferredix.Queued), owner, lapsed)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, unavailable(fmt.Errorf("claim discord interaction %s: %w", id, err))
	}
	return n == 1, nil
}

// RenewDiscordInteraction extends owner's claim on a pending interaction
// to until; false when owner no longer holds it (another process took it
// over, or it is no longer pending).
func (s *Store) RenewDiscordInteraction(ctx context.Context, id, owner string, until time.Time) (bool, error) {
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE discord_interactions SET claim_until = ?
			WHERE interaction_id = ? AND claimed_by = ? AND state IN (?, ?)`,
			nanos(until), id, owner, string(deferredix.Open), string(deferredix.Queued))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return false, unavailable(fmt.Errorf("renew the claim on discord interaction %s: %w", id, err))
	}
	return n == 1, nil
}

// AnswerDiscordInteraction closes an open interaction that ended without a
// request; a queued, answered or unknown one is left as it is.
func (s *Store) AnswerDiscordInteraction(ctx context.Context, id string) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE discord_interactions SET state = ?, claim_until = 0
			WHERE interaction_id = ? AND state = ?`, string(deferredix.Answered), id, string(deferredix.Open))
		return err
	})
	if err != nil {
		return unavailable(fmt.Errorf("close discord interaction %s: %w", id, err))
	}
	return nil
}

// ReleaseDiscordInteractions gives up owner's claims on the interactions
// still pending (a process stopping mid-command), so that the next run or
// another process takes them at once.
func (s *Store) ReleaseDiscordInteractions(ctx context.Context, owner string) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE discord_interactions SET claim_until = 0
			WHERE claimed_by = ? AND state IN (?, ?)`, owner, string(deferredix.Open), string(deferredix.Queued))
		return err
	})
	if err != nil {
		return unavailable(fmt.Errorf("release the discord interactions of %s: %w", owner, err))
	}
	return nil
}

// DiscordInteractionState returns how far an interaction got and the
// request it queued (if any); an error wrapping horde.ErrNotFound if it was never recorded (or has
// been pruned).
func (s *Store) DiscordInteractionState(ctx context.Context, id string) (deferredix.State, string, error) {
	var state string
	var req sql.NullString
	err := s.r.QueryRowContext(ctx, `SELECT state, request_id FROM discord_interactions WHERE interaction_id = ?`, id).Scan(&state, &req)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", fmt.Errorf("discord interaction %s: %w", id, horde.ErrNotFound)
	}
	if err != nil {
		return "", "", unavailable(fmt.Errorf("read discord interaction %s: %w", id, err))
	}
	return deferredix.State(state), req.String, nil
}

// PruneDiscordInteractions deletes the interactions Discord created before
// before (their tokens long expired, no replay of them still possible) and
// returns how many.
func (s *Store) PruneDiscordInteractions(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM discord_interactions WHERE created_at < ?`, nanos(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, unavailable(fmt.Errorf("prune discord interactions: %w", err))
	}
	return n, nil
}

// linkDiscordInteraction marks the recorded interaction id queued with
// requestID (a request's id, or an interrogation's), in the write that
// stores it: the interaction's first request or interrogation wins, and a second one (or one for an interaction already
// answered) is refused, rolling back its write. An interaction never
// recorded (the bot could not write it) links nothing and refuses nothing.
// The claim stays: its runner saves the delivery next.
func linkDiscordInteraction(ctx context.Context, tx *sql.Tx, id, requestID string) error {
	res, err := tx.ExecContext(ctx, `UPDATE discord_interactions SET state = ?, request_id = ?
		WHERE interaction_id = ? AND state = ?`, string(deferredix.Queued), requestID, id, string(deferredix.Open))
	if err != nil {
		return unavailable(fmt.Errorf("link discord interaction %s to request %s: %w", id, requestID, err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return unavailable(fmt.Errorf("link discord interaction %s: %w", id, err))
	} else if n == 1 {
		return nil
	}
	var state string
	err = tx.QueryRowContext(ctx, `SELECT state FROM discord_interactions WHERE interaction_id = ?`, id).Scan(&state)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return unavailable(fmt.Errorf("read discord interaction %s: %w", id, err))
	}
	return &horde.Error{Kind: horde.KindConflict, Code: horde.CodeInteractionQueued,
		Message: "this command has already been answered", Err: horde.ErrDuplicate}
}

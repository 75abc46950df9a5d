package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

const (
	// qAwardCheck reads, in one statement, the existing award of (message,
	// giver, category) and the three sums the caps compare against.
	// (No FROM: both engines take it, and each lookup is one index search.)
	qAwardCheck = `SELECT
 (SELECT id FROM awards WHERE message_id = ?1 AND giver_id = ?2 AND category = ?3),
 (SELECT state FROM awards WHERE message_id = ?1 AND giver_id = ?2 AND category = ?3),
 (SELECT coalesce(sum(amount), 0) FROM awards WHERE giver_id = ?2 AND counted_at >= ?5),
 (SELECT coalesce(sum(amount), 0) FROM awards WHERE receiver_id = ?4 AND counted_at >= ?5),
 (SELECT coalesce(sum(amount), 0) FROM awards WHERE giver_id = ?2 AND receiver_id = ?4 AND counted_at >= ?6)`
	qInsertAward = `INSERT INTO awards (giver_id, receiver_id, message_id, channel_id, guild_id, category, emoji,
amount, state, at, counted_at, settle_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?9, ?10)`
	qReviveAward = `UPDATE awards SET receiver_id = ?1, channel_id = ?2, guild_id = ?3, emoji = ?4, amount = ?5,
state = 'pending', at = ?6, counted_at = ?6, settle_at = ?7, done_at = 0 WHERE id = ?8 AND state = 'revoked'`
	awardColumns  = `id, giver_id, receiver_id, message_id, channel_id, guild_id, category, emoji, amount, state, at, settle_at`
	qRevokeAwards = `UPDATE awards SET state = 'revoked', done_at = ?, counted_at = 0
WHERE message_id = ? AND giver_id = ? AND emoji = ? AND state = 'pending'`
	qDueAwards = `SELECT ` + awardColumns + ` FROM awards
WHERE state = 'pending' AND settle_at <= ? ORDER BY settle_at, id LIMIT ?`
	qMessageAwards = `SELECT ` + awardColumns + ` FROM awards WHERE message_id = ? ORDER BY id`
)

// AddAwards records pending awards in one transaction after checking each
// against its caps (see kudos.AwardStore).
func (s *Store) AddAwards(ctx context.Context, awards []kudos.NewAward, caps []kudos.AwardCaps) ([]error, error) {
	if len(caps) != len(awards) {
		return nil, fmt.Errorf("add awards: %d awards but %d caps", len(awards), len(caps))
	}
	var refusals []error
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		refusals = make([]error, len(awards)) // the group commit may run fn again
		if err := s.lockAwardMembers(ctx, tx, awards); err != nil {
			return err
		}
		ts := newTxStmts(tx, len(awards))
		defer ts.close()
		for i, a := range awards {
			r, err := addAward(ctx, ts, a, caps[i])
			if err != nil {
				return err
			}
			refusals[i] = r
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return refusals, nil
}

// lockAwardMembers takes the member lock (lockMembers) of every giver and
// receiver of awards: the caps are sums read before the insert, and two
// processes recording awards of one member at once (a reaction on a
// gateway process, an Award kudos form on an interactions process) would
// both read the sum before the other's award and pass a cap together.
func (s *Store) lockAwardMembers(ctx context.Context, tx *sql.Tx, awards []kudos.NewAward) error {
	var ids []int64
	for _, a := range awards {
		ids = append(ids, a.GiverID, a.ReceiverID)
	}
	return s.lockMembers(ctx, tx, ids...)
}

// addAward checks and records one award in ts's transaction. It returns the
// refusal (nil if recorded), or an error that must fail the transaction.
func addAward(ctx context.Context, ts *txStmts, a kudos.NewAward, c kudos.AwardCaps) (refusal error, err error) {
	var id sql.NullInt64
	var state sql.NullString
	var giverSum, receiverSum, pairSum int64
	err = ts.queryRow(ctx, qAwardCheck, a.MessageID, a.GiverID, string(a.Category), a.ReceiverID,
		nanos(c.DayStart), nanos(c.WeekStart)).Scan(&id, &state, &giverSum, &receiverSum, &pairSum)
	if err != nil {
		return nil, unavailable(fmt.Errorf("check award of user %d on %s: %w", a.GiverID, a.MessageID, err))
	}
	if id.Valid && state.String != string(kudos.AwardRevoked) {
		return kudos.Refuse(kudos.RefuseDuplicate, "you already awarded this message"), nil
	}
	switch {
	case c.GiverDaily > 0 && giverSum+a.Amount > c.GiverDaily:
		return kudos.Refuse(kudos.RefuseGiverCap, "you have reached today's limit of %d kudos given", c.GiverDaily).With("Limit", c.GiverDaily), nil
	case c.ReceiverDaily > 0 && receiverSum+a.Amount > c.ReceiverDaily:
		return kudos.Refuse(kudos.RefuseReceiverCap, "that member has reached today's limit of %d kudos received", c.ReceiverDaily).With("Limit", c.ReceiverDaily), nil
	case c.PairWeekly > 0 && pairSum+a.Amount > c.PairWeekly:
		return kudos.Refuse(kudos.RefusePairCap, "you have given that member this week's limit of %d kudos", c.PairWeekly).With("Limit", c.PairWeekly), nil
	}
	at := nanos(a.At)
	if id.Valid {
		_, err = ts.exec(ctx, qReviveAward, a.ReceiverID, a.ChannelID, a.GuildID, a.Emoji, a.Amount, at, nanos(a.SettleAt), id.Int64)
	} else {
		_, err = ts.exec(ctx, qInsertAward, a.GiverID, a.ReceiverID, a.MessageID, a.ChannelID, a.GuildID,
			string(a.Category), a.Emoji, a.Amount, at, nanos(a.SettleAt))
	}
	if isForeignKeyViolation(err) {
		return kudos.Refuse(kudos.RefuseUnknownUser, "that member has no kudos account yet"), nil
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("record award of user %d on %s: %w", a.GiverID, a.MessageID, err))
	}
	return nil, nil
}

// RevokeAwards revokes the giver's pending awards on a message made with emoji.
func (s *Store) RevokeAwards(ctx context.Context, giverID int64, messageID, emoji string, at time.Time) (int, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, qRevokeAwards, nanos(at), messageID, giverID, emoji)
		if err != nil {
			return unavailable(fmt.Errorf("revoke awards of user %d on %s: %w", giverID, messageID, err))
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, err
	}
	return int(n), nil
}

// DueAwards returns up to limit pending awards due by now, earliest first.
func (s *Store) DueAwards(ctx context.Context, now time.Time, limit int) ([]kudos.Award, error) {
	return s.queryAwards(ctx, qDueAwards, nanos(now), limit)
}

// Awards returns the awards of a message, any state, oldest first.
func (s *Store) Awards(ctx context.Context, messageID string) ([]kudos.Award, error) {
	return s.queryAwards(ctx, qMessageAwards, messageID)
}

func (s *Store) queryAwards(ctx context.Context, q string, args ...any) ([]kudos.Award, error) {
	return queryRows(ctx, s.r, "read awards", scanAward, q, args...)
}

// scanAward reads an award row.
func scanAward(row scanner) (kudos.Award, error) {
	var a kudos.Award
	var cat, state string
	var at, settle int64
	if err := row.Scan(&a.ID, &a.GiverID, &a.ReceiverID, &a.MessageID, &a.ChannelID, &a.GuildID,
		&cat, &a.Emoji, &a.Amount, &state, &at, &settle); err != nil {
		return kudos.Award{}, err
	}
	a.Category, a.State = kudos.Category(cat), kudos.AwardState(state)
	a.At, a.SettleAt = fromNanos(at), fromNanos(settle)
	return a, nil
}

// settleChunk bounds the ids of one settling UPDATE.
const settleChunk = 500

// SettleAwards marks each award settled and applies its entry, in one
// transaction; awards no longer pending are skipped.
func (s *Store) SettleAwards(ctx context.Context, settlements []kudos.Settlement, at time.Time) (int, error) {
	var settled int
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		settled = 0
		entries := make([]kudos.Entry, 0, len(settlements))
		for start := 0; start < len(settlements); start += settleChunk {
			chunk := settlements[start:min(start+settleChunk, len(settlements))]
			won, err := settleChunkTx(ctx, tx, chunk, at)
			if err != nil {
				return err
			}
			for _, st := range chunk {
				if won[st.AwardID] {
					entries = append(entries, st.Entry)
				}
			}
		}
		if _, err := s.applyEntries(ctx, tx, entries); err != nil {
			return err
		}
		settled = len(entries)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return settled, nil
}

// settleChunkTx marks the chunk's pending awards settled with one UPDATE and
// returns the ids it changed (an award revoked meanwhile is not among them).
func settleChunkTx(ctx context.Context, tx *sql.Tx, chunk []kudos.Settlement, at time.Time) (map[int64]bool, error) {
	args := make([]any, 0, len(chunk)+1)
	args = append(args, nanos(at))
	for _, st := range chunk {
		args = append(args, st.AwardID)
	}
	rows, err := tx.QueryContext(ctx, settleQuery(len(chunk)), args...)
	if err != nil {
		return nil, unavailable(fmt.Errorf("settle %d awards: %w", len(chunk), err))
	}
	defer rows.Close()
	won := make(map[int64]bool, len(chunk))
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("settle awards: %w", err)
		}
		won[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("settle awards: %w", err))
	}
	return won, nil
}

// settleQuery marks n pending awards settled and returns their ids.
func settleQuery(n int) string {
	return `UPDATE awards SET state = 'settled', done_at = ?
WHERE state = 'pending' AND id IN (?` + strings.Repeat(",?", n-1) + `) RETURNING id`
}

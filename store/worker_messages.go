package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/hordebot/hordebot/horde"
)

var _ horde.WorkerMessageStore = (*Store)(nil)

const workerMessageColumns = `id, coalesce(worker_id, ''), user_id, author_id, message, origin, created_at, expires_at`

func scanWorkerMessage(r scanner) (horde.WorkerMessage, error) {
	var m horde.WorkerMessage
	var created, expires int64
	if err := r.Scan(&m.ID, &m.WorkerID, &m.UserID, &m.AuthorID, &m.Message, &m.Origin, &created, &expires); err != nil {
		return horde.WorkerMessage{}, err
	}
	m.CreatedAt, m.Expiry = fromNanos(created), fromNanos(expires)
	return m, nil
}

// SaveWorkerMessage stores a new message. A worker deleted meanwhile is
// ErrNotFound.
func (s *Store) SaveWorkerMessage(ctx context.Context, m horde.WorkerMessage) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO worker_messages (id, worker_id, user_id, author_id, message, origin, created_at, expires_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			m.ID, nullString(m.WorkerID), m.UserID, m.AuthorID, m.Message, m.Origin, nanos(m.CreatedAt), nanos(m.Expiry))
		if isForeignKeyViolation(err) {
			return fmt.Errorf("save message to worker %s: %w", m.WorkerID, horde.ErrNotFound)
		}
		if err != nil {
			return unavailable(fmt.Errorf("save worker message: %w", err))
		}
		return nil
	})
}

// WorkerMessages returns the messages q selects, oldest first. A user's
// messages include those to no worker in particular, as on the AI Horde.
func (s *Store) WorkerMessages(ctx context.Context, q horde.MessageQuery) ([]horde.WorkerMessage, error) {
	query, args := workerMessagesQuery(q)
	return queryRows(ctx, s.reads(), "worker messages", scanWorkerMessage, query, args...)
}

// qPopMessages is the query of the messages every pop shows its worker
// (horde.ActiveWorkerMessages): prepared on the read pool.
var qPopMessages, _ = workerMessagesQuery(horde.MessageQuery{WorkerID: "w", ToNoWorkerToo: true, Validity: horde.MessagesActive})

// workerMessagesQuery is WorkerMessages' query for q and its arguments.
func workerMessagesQuery(q horde.MessageQuery) (string, []any) {
	var where []string
	var args []any
	if q.UserID != nil {
		where = append(where, `(user_id = ? OR worker_id IS NULL)`)
		args = append(args, *q.UserID)
	}
	switch {
	case q.WorkerID != "" && q.ToNoWorkerToo:
		where = append(where, `(worker_id = ? OR worker_id IS NULL)`)
		args = append(args, q.WorkerID)
	case q.WorkerID != "":
		where = append(where, `worker_id = ?`)
		args = append(args, q.WorkerID)
	}
	switch q.Validity {
	case horde.MessagesActive:
		where = append(where, `expires_at > ?`)
		args = append(args, nanos(q.Now))
	case horde.MessagesExpired:
		where = append(where, `expires_at <= ?`)
		args = append(args, nanos(q.Now))
	}
	query := `SELECT ` + workerMessageColumns + ` FROM worker_messages`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY created_at, id LIMIT ? OFFSET ?`
	return query, append(args, q.Limit, q.Offset)
}

// WorkerMessage returns one message; ErrNotFound if none.
func (s *Store) WorkerMessage(ctx context.Context, id string) (horde.WorkerMessage, error) {
	m, err := scanWorkerMessage(s.r.QueryRowContext(ctx, `SELECT `+workerMessageColumns+` FROM worker_messages WHERE id = ?`, id))
	if err != nil {
		return horde.WorkerMessage{}, notFound(err, "worker message %s", id)
	}
	return m, nil
}

// DeleteWorkerMessage removes a message; ErrNotFound if none.
func (s *Store) DeleteWorkerMessage(ctx context.Context, id string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM worker_messages WHERE id = ?`, id)
		if err != nil {
			return unavailable(fmt.Errorf("delete worker message %s: %w", id, err))
		}
		return mustAffect(res, "delete worker message %s", id)
	})
}

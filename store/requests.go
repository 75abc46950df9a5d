package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hordebot/hordebot/horde"
)

const (
	requestColumns = `id, kind, user_id, state, n, prompt, models, params, nsfw, trusted_workers, workers,
	worker_blacklist, r2, shared, client_agent, source, kudos, priority, faults, reason, created_at`
	qSelectRequest = `SELECT ` + requestColumns + ` FROM requests WHERE id = ?`
	// qRequestState reads a request's state inside a write.
	qRequestState = `SELECT state FROM requests WHERE id = ?`
	// qDeleteRequestUploads forgets the uploads of a request's jobs.
	qDeleteRequestUploads = `DELETE FROM uploads WHERE job_id IN (SELECT id FROM jobs WHERE request_id = ?) RETURNING blob_ref`
	// openStates is the SQL list of unfinished request states (matches the requests_open index).
	openStates = `('waiting', 'processing')`
	// finishedState is the SQL condition of a finished request (done,
	// faulted, cancelled), as the requests_finished index says it (00031):
	// a query must say it so for the index to serve it.
	finishedState = `state NOT IN ` + openStates

	qInsertRequest = `INSERT INTO requests (` + requestColumns + `)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// qInsertItems creates all the items of a request in one statement: a
	// recursive CTE counts 0..n-1.
	qInsertItems = `WITH RECURSIVE i(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM i WHERE x + 1 < ?)
INSERT INTO items (request_id, idx, state) SELECT ?, x, ? FROM i`
	// qCountUserRequest counts a stored request's items in its user's totals.
	qCountUserRequest = `UPDATE users SET requested = requested + ? WHERE id = ?`
	qOpenRequests     = `SELECT ` + requestColumns + ` FROM requests
WHERE state IN ` + openStates + ` ORDER BY created_at, id`
	qOpenJobs = `SELECT ` + jobColumns + ` FROM jobs j
WHERE j.state = 'processing' AND j.request_id IN (SELECT id FROM requests WHERE state IN ` + openStates + `)
ORDER BY j.started_at, j.id`
	// Driven from the open requests so that it reads only their items.
	qOpenDone = `SELECT r.id, (SELECT count(*) FROM items i WHERE i.request_id = r.id AND i.state = 'done')
FROM requests r WHERE r.state IN ` + openStates
)

// scanRequest reads requestColumns from row.
func scanRequest(row interface{ Scan(...any) error }) (horde.Request, error) {
	var r horde.Request
	var kind, state, models, params, workers string
	var created int64
	if err := row.Scan(&r.ID, &kind, &r.UserID, &state, &r.N, &r.Prompt, &models, &params, &r.NSFW,
		&r.TrustedWorkers, &workers, &r.WorkerBlacklist, &r.R2, &r.Shared, &r.ClientAgent, &r.Source, &r.Kudos,
		&r.Priority, &r.Faults, &r.Reason, &created); err != nil {
		return horde.Request{}, err
	}
	r.Kind = horde.RequestKind(kind)
	r.State = horde.RequestState(state)
	r.CreatedAt = fromNanos(created)
	var err error
	if r.Models, err = parseStringList(models); err != nil {
		return horde.Request{}, fmt.Errorf("request %s models: %w", r.ID, err)
	}
	if r.Workers, err = parseStringList(workers); err != nil {
		return horde.Request{}, fmt.Errorf("request %s workers: %w", r.ID, err)
	}
	var p requestParams
	if err := json.Unmarshal([]byte(params), &p); err != nil {
		return horde.Request{}, fmt.Errorf("request %s params: %w", r.ID, err)
	}
	p.setRequest(&r)
	return r, nil
}

// CreateRequest stores a new request in state waiting with N waiting items.
// An id already used is KindConflict.
func (s *Store) CreateRequest(ctx context.Context, r horde.Request) error {
	create, err := s.requestCreator(r)
	if err != nil {
		return err
	}
	return s.write(ctx, create)
}

// requestCreator validates a new request and returns the write that stores
// it (CreateRequest's, or AdmitRequest's after its check).
func (s *Store) requestCreator(r horde.Request) (func(context.Context, *sql.Tx) error, error) {
	if r.ID == "" {
		return nil, horde.Invalidf("id", "a request needs an id")
	}
	if r.N < 1 {
		return nil, horde.Invalidf("n", "request %s: n must be at least 1, not %d", r.ID, r.N)
	}
	params, err := jsonText(requestParamsOf(r))
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", r.ID, err)
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = s.clock.Now()
	}
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.exec(ctx, tx, qInsertRequest,
			r.ID, string(r.Kind), r.UserID, string(horde.RequestWaiting), r.N, r.Prompt, stringList(r.Models), params,
			r.NSFW, r.TrustedWorkers, stringList(r.Workers), r.WorkerBlacklist, r.R2, r.Shared, r.ClientAgent,
			r.Source, r.Kudos, r.Priority, r.Faults, r.Reason, nanos(r.CreatedAt))
		if isUniqueViolation(err, "requests.id") {
			return conflict("RequestExists", "request %s already exists", r.ID)
		}
		if err != nil {
			return unavailable(fmt.Errorf("create request %s: %w", r.ID, err))
		}
		if _, err := s.exec(ctx, tx, qInsertItems, r.N, r.ID, string(horde.ItemWaiting)); err != nil {
			return unavailable(fmt.Errorf("create items of request %s: %w", r.ID, err))
		}
		if _, err := s.exec(ctx, tx, qCountUserRequest, r.N, r.UserID); err != nil {
			return unavailable(fmt.Errorf("count the request %s of user %d: %w", r.ID, r.UserID, err))
		}
		if err := insertRequestExtras(ctx, tx, r); err != nil {
			return err
		}
		if r.Extras != nil && r.Extras.Interaction != "" {
			if err := linkDiscordInteraction(ctx, tx, r.Extras.Interaction, r.ID); err != nil {
				return err
			}
		}
		return s.enqueue(ctx, tx, r)
	}, nil
}

// RequestedItems returns how many items a user ever requested (the sum of
// N over their requests, purged ones included).
func (s *Store) RequestedItems(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT requested FROM users WHERE id = ?`, userID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("requested items of user %d: %w", userID, err)
	}
	return n, nil
}

// Request returns one request with its extras (shared key, webhook,
// style); ErrNotFound if none.
func (s *Store) Request(ctx context.Context, id string) (horde.Request, error) {
	r, err := scanRequest(s.readRow(ctx, qSelectRequest, id))
	if err != nil {
		return horde.Request{}, notFound(err, "request %s", id)
	}
	var x horde.RequestExtras
	err = s.readRow(ctx, qRequestExtras, id).Scan(&x.SharedKey, &x.Webhook, &x.StyleID, &x.CollectionID, &x.StyleOwner)
	switch {
	case err == nil:
		r.Extras = &x
	case !errors.Is(err, sql.ErrNoRows):
		return horde.Request{}, unavailable(fmt.Errorf("extras of request %s: %w", id, err))
	}
	return r, nil
}

// qRequestExtras reads what a request carries beside its row.
const qRequestExtras = `SELECT shared_key_hash, webhook, style_id, collection_id, style_owner
FROM request_extras WHERE request_id = ?`

// Open returns every unfinished request (oldest first) with its processing
// jobs and its count of done items, read in one consistent snapshot.
func (s *Store) Open(ctx context.Context) (horde.Snapshot, error) {
	snap := horde.Snapshot{Done: map[string]int{}}
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return snap, fmt.Errorf("open snapshot: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only

	if snap.Requests, err = queryRows(ctx, tx, "open requests", scanRequest, qOpenRequests); err != nil {
		return snap, err
	}
	if err := openRequestExtras(ctx, tx, snap.Requests); err != nil {
		return snap, err
	}
	if snap.Jobs, err = queryRows(ctx, tx, "open jobs", scanJob, qOpenJobs); err != nil {
		return snap, err
	}

	if snap.Pending, err = openPendingSubmits(ctx, tx); err != nil {
		return snap, err
	}
	rows, err := tx.QueryContext(ctx, qOpenDone)
	if err != nil {
		return snap, fmt.Errorf("open items: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return snap, fmt.Errorf("open items: %w", err)
		}
		if n > 0 {
			snap.Done[id] = n
		}
	}
	if err := rows.Err(); err != nil {
		return snap, fmt.Errorf("open items: %w", err)
	}
	return snap, nil
}

// EndRequest sets a request's final state (done, faulted or cancelled) with
// a reason; its unfinished items become faulted (for a faulted request) or
// cancelled, and its processing jobs cancelled; the uploads of its jobs are
// forgotten and their blobs deleted unless another row names them.
// ErrNotFound for an unknown request; ErrDuplicate for one already finished
// (nothing changes).
func (s *Store) EndRequest(ctx context.Context, id string, state horde.RequestState, reason string, at time.Time) error {
	if !state.Finished() {
		return horde.Invalidf("state", "request %s cannot end in state %q", id, state)
	}
	if at.IsZero() {
		at = s.clock.Now()
	}
	var uploaded []string
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		uploaded, err = s.endRequestTx(ctx, tx, id, state, reason, at)
		return err
	})
	if err != nil {
		return err
	}
	s.dropBlobs(ctx, uploaded...)
	return nil
}

// endRequestTx is EndRequest inside tx; it returns the blobs of the
// request's uploads, to drop once tx commits.
func (s *Store) endRequestTx(ctx context.Context, tx *sql.Tx, id string, state horde.RequestState, reason string, at time.Time) ([]string, error) {
	itemState := horde.ItemCancelled
	if state == horde.RequestFaulted {
		itemState = horde.ItemFaulted
	}
	res, err := tx.ExecContext(ctx, `UPDATE requests SET state = ?, reason = ?, finished_at = ?
WHERE id = ? AND state IN `+openStates, string(state), reason, nanos(at), id)
	if err != nil {
		return nil, unavailable(fmt.Errorf("end request %s: %w", id, err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("end request %s: %w", id, err)
	} else if n == 0 {
		return nil, s.requestNotOpen(ctx, tx, id, "end request")
	}
	if _, err := tx.ExecContext(ctx, `UPDATE items SET state = ?
WHERE request_id = ? AND state IN ('waiting', 'processing')`, string(itemState), id); err != nil {
		return nil, unavailable(fmt.Errorf("end items of request %s: %w", id, err))
	}
	if _, err := tx.ExecContext(ctx, `UPDATE jobs SET state = ?, finished_at = ?
WHERE request_id = ? AND state = 'processing'`, string(horde.JobCancelled), nanos(at), id); err != nil {
		return nil, unavailable(fmt.Errorf("cancel jobs of request %s: %w", id, err))
	}
	if err := s.deletePreviews(ctx, tx, qDeleteRequestPreview, id); err != nil {
		return nil, err
	}
	if err := s.dequeue(ctx, tx, id); err != nil {
		return nil, err
	}
	if err := s.announce(ctx, tx, horde.EventFinished, id); err != nil {
		return nil, err
	}
	// Uploads of its cancelled jobs will never be results.
	return s.deleteUploads(ctx, tx, qDeleteRequestUploads, id)
}

// requestNotOpen explains why a request could not be changed: ErrNotFound
// when it does not exist, ErrDuplicate when it is already finished.
func (s *Store) requestNotOpen(ctx context.Context, tx *sql.Tx, id, what string) error {
	var state string
	if err := s.txQueryRow(ctx, tx, qRequestState, id).Scan(&state); err != nil {
		return notFound(err, "%s %s", what, id)
	}
	return fmt.Errorf("%s %s: request is %s: %w", what, id, state, horde.ErrDuplicate)
}

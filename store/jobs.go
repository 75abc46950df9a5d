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
	jobColumns = `j.id, j.request_id, j.item, j.worker_id, j.model, j.seed, j.state, j.started_at, j.deadline,
	j.finished_at, j.kudos`
	qSelectJob = `SELECT ` + jobColumns + ` FROM jobs j WHERE j.id = ?`

	qStartRequest = `UPDATE requests SET state = 'processing' WHERE id = ? AND state = 'waiting'`
	qStartItem    = `UPDATE items SET state = 'processing' WHERE request_id = ? AND idx = ? AND state = 'waiting'`
	qInsertJob    = `INSERT INTO jobs (id, request_id, item, worker_id, model, seed, state, started_at, deadline)
VALUES (?, ?, ?, ?, ?, ?, 'processing', ?, ?)`

	// qFinishJob names the job's request and item, which the caller knows:
	// a RETURNING clause would cost SQLite a temporary b-tree each time.
	qFinishJob = `UPDATE jobs SET state = ?, finished_at = ?, kudos = ?
WHERE id = ? AND request_id = ? AND item = ? AND state = 'processing'`
	// qJobPlace reads the request and item of a job; qJobPlaceState its state too.
	qJobPlace        = `SELECT request_id, item FROM jobs WHERE id = ?`
	qJobPlaceState   = `SELECT request_id, item, state FROM jobs WHERE id = ?`
	qFinishItem      = `UPDATE items SET state = 'done' WHERE request_id = ? AND idx = ?`
	qSetRequestState = `UPDATE requests
SET state = ?1, finished_at = CASE WHEN ?1 NOT IN ` + openStates + ` THEN ?2 ELSE finished_at END
WHERE id = ?3 AND state != ?1`
	qInsertGeneration = `INSERT INTO generations (job_id, request_id, item, worker_id, worker_name, model, seed, state,
	text, blob_ref, metadata, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

	qFailJob = `UPDATE jobs SET state = ?, finished_at = ?
WHERE id = ? AND state = 'processing' RETURNING request_id, item, worker_id`
	qRequeueItem = `UPDATE items SET state = 'waiting' WHERE request_id = ? AND idx = ? AND state = 'processing'`
	qAddFault    = `UPDATE requests SET faults = faults + 1 WHERE id = ?`

	qJobs = `SELECT ` + jobColumns + ` FROM jobs j WHERE j.request_id = ?
ORDER BY j.item, j.started_at, j.id`
	qGenerations = `SELECT job_id, request_id, item, worker_id, worker_name, model, seed, state,
	text, blob_ref, metadata, created_at FROM generations WHERE request_id = ? ORDER BY item, created_at`

	// qJobState reads a job's state inside a write.
	qJobState = `SELECT state FROM jobs WHERE id = ?`

	// qDeleteUpload forgets a job's upload when the job ends; the caller
	// drops the blob once nothing names it (blobs_gc.go).
	qDeleteUpload = `DELETE FROM uploads WHERE job_id = ? RETURNING blob_ref`
	// qJobUpload and qDeleteJobUpload are qDeleteUpload in two statements
	// (takeUpload).
	qJobUpload       = `SELECT blob_ref FROM uploads WHERE job_id = ?`
	qDeleteJobUpload = `DELETE FROM uploads WHERE job_id = ?`
)

// scanJob reads jobColumns from row.
func scanJob(row interface{ Scan(...any) error }) (horde.Job, error) {
	var j horde.Job
	var state string
	var started, deadline, finished int64
	if err := row.Scan(&j.ID, &j.RequestID, &j.Item, &j.WorkerID, &j.Model, &j.Seed, &state, &started, &deadline,
		&finished, &j.Kudos); err != nil {
		return horde.Job{}, err
	}
	j.State = horde.JobState(state)
	j.StartedAt = fromNanos(started)
	j.Deadline = fromNanos(deadline)
	j.FinishedAt = fromNanos(finished)
	return j, nil
}

// StartJob records a popped item: the job in state processing, its item
// processing, its request processing. ErrNotFound for an unknown request or
// item; ErrDuplicate when the request is finished or the item is not waiting
// (nothing is written then); KindConflict for a job id already used.
func (s *Store) StartJob(ctx context.Context, j horde.Job) error {
	if j.ID == "" {
		return horde.Invalidf("id", "a job needs an id")
	}
	if j.StartedAt.IsZero() {
		j.StartedAt = s.clock.Now()
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.startJobTx(ctx, tx, j); err != nil {
			return err
		}
		return s.dequeueIfTaken(ctx, tx, j.RequestID)
	})
}

// startJobTx is StartJob inside tx.
func (s *Store) startJobTx(ctx context.Context, tx *sql.Tx, j horde.Job) error {
	// The first pop of a request moves it to processing; only when that
	// changes nothing is its state read, to tell a later pop (processing)
	// from a finished or unknown request.
	res, err := s.exec(ctx, tx, qStartRequest, j.RequestID)
	if err != nil {
		return unavailable(fmt.Errorf("start job %s: %w", j.ID, err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("start job %s: %w", j.ID, err)
	} else if n == 0 {
		var state string
		if err := s.txQueryRow(ctx, tx, qRequestState, j.RequestID).Scan(&state); err != nil {
			return notFound(err, "start job %s on request %s", j.ID, j.RequestID)
		}
		if horde.RequestState(state) != horde.RequestProcessing {
			return fmt.Errorf("start job %s: request %s is %s: %w", j.ID, j.RequestID, state, horde.ErrDuplicate)
		}
	}
	res, err = s.exec(ctx, tx, qStartItem, j.RequestID, j.Item)
	if err != nil {
		return unavailable(fmt.Errorf("start job %s: %w", j.ID, err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("start job %s: %w", j.ID, err)
	} else if n == 0 {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM items WHERE request_id = ? AND idx = ?`, j.RequestID, j.Item).Scan(&state)
		if err != nil {
			return notFound(err, "start job %s: item %d of request %s", j.ID, j.Item, j.RequestID)
		}
		return fmt.Errorf("start job %s: item %d of request %s is %s: %w", j.ID, j.Item, j.RequestID, state, horde.ErrDuplicate)
	}
	_, err = s.exec(ctx, tx, qInsertJob, j.ID, j.RequestID, j.Item, j.WorkerID, j.Model, j.Seed,
		nanos(j.StartedAt), nanos(j.Deadline))
	if isUniqueViolation(err, "jobs.id") {
		return conflict("JobExists", "job %s already exists", j.ID)
	}
	if err != nil {
		return unavailable(fmt.Errorf("start job %s: %w", j.ID, err))
	}
	return nil
}

// FinishJob records a successful submit in one transaction: the job (state
// done unless f.Job.State says otherwise), its item done, its generation and
// its count in the stats (f.Kind and f.Units), the request's new state, and
// the ledger entries. The job's upload row is removed (the generation names
// the result); an uploaded blob the generation does not use is deleted
// unless another row names it. A job that is not processing is
// ErrDuplicate; an unknown job ErrNotFound; a job that is not item
// f.Job.Item of request f.Job.RequestID (when that is set) KindInvalid; an
// entry breaking its floor fails with kudos.ErrInsufficient. On any error
// nothing is written.
func (s *Store) FinishJob(ctx context.Context, f horde.JobFinish) error {
	j, g, meta, err := s.finishOf(f)
	if err != nil {
		return err
	}
	var uploaded []string
	err = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var err error
		uploaded, err = s.finishJobTx(ctx, tx, j, g, meta, f)
		return err
	})
	if err != nil {
		return err
	}
	// An upload the result does not use (the worker sent the image inline,
	// or reported censored/csam) is deleted unless another row names it.
	for _, ref := range uploaded {
		if ref != g.BlobRef {
			s.dropBlobs(ctx, ref)
		}
	}
	return nil
}

// finishOf is the job and generation f finishes, with their defaults set,
// and the generation's metadata as stored; an error for an invalid f.
func (s *Store) finishOf(f horde.JobFinish) (horde.Job, horde.Generation, string, error) {
	j := f.Job
	if j.ID == "" {
		return j, horde.Generation{}, "", horde.Invalidf("id", "a finished job needs an id")
	}
	if j.State == "" {
		j.State = horde.JobDone
	}
	if j.FinishedAt.IsZero() {
		j.FinishedAt = s.clock.Now()
	}
	g := f.Generation
	if g.CreatedAt.IsZero() {
		g.CreatedAt = j.FinishedAt
	}
	if g.State == "" {
		g.State = horde.ResultOK
	}
	meta, err := jsonText(metadataOf(g.Metadata))
	if err != nil {
		return j, g, "", fmt.Errorf("finish job %s: %w", j.ID, err)
	}
	for _, e := range f.Entries {
		if err := e.Validate(); err != nil {
			return j, g, "", invalidEntry(err)
		}
	}
	return j, g, meta, nil
}

// finishJobTx is FinishJob's write in tx, of job j (its state and time
// set) and generation g (its defaults set, its metadata meta): it returns
// the refs of the job's uploads it forgot.
func (s *Store) finishJobTx(ctx context.Context, tx *sql.Tx, j horde.Job, g horde.Generation, meta string,
	f horde.JobFinish) (uploaded []string, err error) {
	if err := s.lockJobRequest(ctx, tx, j.ID); err != nil {
		return nil, err
	}
	requestID, item := j.RequestID, j.Item
	if requestID == "" { // a caller that knows only the job's id
		if err := s.txQueryRow(ctx, tx, qJobPlace, j.ID).Scan(&requestID, &item); err != nil {
			return nil, notFound(err, "finish job %s", j.ID)
		}
	}
	res, err := s.exec(ctx, tx, qFinishJob, string(j.State), nanos(j.FinishedAt), j.Kudos, j.ID, requestID, item)
	if err != nil {
		return nil, unavailable(fmt.Errorf("finish job %s: %w", j.ID, err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return nil, fmt.Errorf("finish job %s: %w", j.ID, err)
	} else if n == 0 {
		return nil, s.jobNotFinished(ctx, tx, j.ID, requestID, item)
	}
	// The generation names the result from now on; the upload row is done.
	if uploaded, err = s.takeUpload(ctx, tx, j.ID); err != nil {
		return nil, err
	}
	if err := s.deletePreviews(ctx, tx, qDeleteJobPreview, j.ID); err != nil {
		return nil, err
	}
	if _, err := s.exec(ctx, tx, qFinishItem, requestID, item); err != nil {
		return nil, unavailable(fmt.Errorf("finish item %d of request %s: %w", item, requestID, err))
	}
	if g.Model == "" {
		g.Model = j.Model
	}
	if g.WorkerID == "" {
		g.WorkerID = j.WorkerID
	}
	if _, err := s.exec(ctx, tx, qInsertGeneration, j.ID, requestID, item, g.WorkerID, g.WorkerName, g.Model,
		g.Seed, g.State, g.Text, g.BlobRef, meta, nanos(g.CreatedAt)); err != nil {
		return nil, unavailable(fmt.Errorf("store generation of job %s: %w", j.ID, err))
	}
	if err := s.countGeneration(ctx, tx, requestID, f.Kind, f.Units, g.Model, g.CreatedAt); err != nil {
		return nil, err
	}
	if err := s.countWorkerJob(ctx, tx, j.WorkerID, 1, 0, j.Kudos); err != nil {
		return nil, err
	}
	// A request with a processing job is processing already.
	ended := false
	if f.RequestState != "" && f.RequestState != horde.RequestProcessing {
		if _, err := s.exec(ctx, tx, qSetRequestState, string(f.RequestState), nanos(j.FinishedAt), requestID); err != nil {
			return nil, unavailable(fmt.Errorf("set state of request %s: %w", requestID, err))
		}
		ended = f.RequestState.Finished()
	} else if ended, err = s.doneIfLast(ctx, tx, requestID, j.FinishedAt); err != nil {
		return nil, err
	}
	if ended {
		if err := s.announce(ctx, tx, horde.EventFinished, requestID); err != nil {
			return nil, err
		}
	}
	if len(f.Entries) > 0 {
		if _, err := s.applyEntries(ctx, tx, f.Entries); err != nil {
			return nil, fmt.Errorf("finish job %s: %w", j.ID, err)
		}
	}
	if err := s.spendSharedKey(ctx, tx, requestID, chargedOf(f.Entries)); err != nil {
		return nil, err
	}
	if len(f.Holds) > 0 {
		if _, err := s.holdEscrow(ctx, tx, f.Holds); err != nil {
			return nil, fmt.Errorf("finish job %s: %w", j.ID, err)
		}
	}
	return uploaded, nil
}

// deleteUploads runs query (a DELETE FROM uploads ... RETURNING blob_ref
// with args) in tx and returns the refs of the rows it deleted, so that their
// blobs can be dropped once tx commits.
func (s *Store) deleteUploads(ctx context.Context, tx *sql.Tx, query string, args ...any) ([]string, error) {
	st := s.writeStmt(ctx, tx, query)
	var rows *sql.Rows
	var err error
	if st != nil {
		rows, err = st.QueryContext(ctx, args...)
	} else {
		s.unprepared.Add(1)
		rows, err = tx.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("delete uploads: %w", err))
	}
	defer rows.Close()
	var refs []string
	for rows.Next() {
		var ref string
		if err := rows.Scan(&ref); err != nil {
			return nil, fmt.Errorf("delete uploads: %w", err)
		}
		refs = append(refs, ref)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("delete uploads: %w", err))
	}
	return refs, nil
}

// jobNotProcessing explains why a job could not be finished or failed:
// ErrNotFound when it does not exist, ErrDuplicate otherwise.
func (s *Store) jobNotProcessing(ctx context.Context, tx *sql.Tx, id, what string) error {
	var state string
	if err := s.txQueryRow(ctx, tx, qJobState, id).Scan(&state); err != nil {
		return notFound(err, "%s %s", what, id)
	}
	return fmt.Errorf("%s %s: job is %s: %w", what, id, state, horde.ErrDuplicate)
}

// takeUpload deletes the upload row of job id in tx and returns its blob
// ref, if it had one. On SQLite the row is read first: a DELETE ...
// RETURNING builds a temporary b-tree each time, and most results come
// inline, with no upload to delete. On PostgreSQL, where each statement
// is a round trip, one DELETE ... RETURNING does it.
func (s *Store) takeUpload(ctx context.Context, tx *sql.Tx, id string) ([]string, error) {
	if s.eng == postgresEngine {
		return s.deleteUploads(ctx, tx, qDeleteUpload, id)
	}
	var ref string
	err := s.txQueryRow(ctx, tx, qJobUpload, id).Scan(&ref)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("read upload of job %s: %w", id, err))
	}
	if _, err := s.exec(ctx, tx, qDeleteJobUpload, id); err != nil {
		return nil, unavailable(fmt.Errorf("delete upload of job %s: %w", id, err))
	}
	return []string{ref}, nil
}

// jobNotFinished explains why FinishJob changed no row of job id, said to
// be item of request requestID: ErrNotFound when it does not exist,
// KindInvalid when it is another request's or item's, ErrDuplicate when it
// is no longer processing.
func (s *Store) jobNotFinished(ctx context.Context, tx *sql.Tx, id, requestID string, item int) error {
	var state, request string
	var idx int
	if err := s.txQueryRow(ctx, tx, qJobPlaceState, id).Scan(&request, &idx, &state); err != nil {
		return notFound(err, "finish job %s", id)
	}
	if request != requestID || idx != item {
		return horde.Invalidf("id", "job %s is item %d of request %s, not item %d of request %s", id, idx, request, item, requestID)
	}
	return fmt.Errorf("finish job %s: job is %s: %w", id, state, horde.ErrDuplicate)
}

// FailJob ends a processing job with state JobFaulted or JobAborted and puts
// its item back to waiting; JobFaulted also counts a fault on the request.
// The job's upload, if any, is forgotten and its blob deleted unless another
// row names it.
// The request's own state is left to the caller (EndRequest). ErrDuplicate
// for a job that is not processing; ErrNotFound for an unknown job.
func (s *Store) FailJob(ctx context.Context, jobID string, state horde.JobState, at time.Time) error {
	if state != horde.JobFaulted && state != horde.JobAborted {
		return horde.Invalidf("state", "job %s cannot fail with state %q", jobID, state)
	}
	if at.IsZero() {
		at = s.clock.Now()
	}
	var uploaded []string
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.lockJobRequest(ctx, tx, jobID); err != nil {
			return err
		}
		var requestID, workerID string
		var item int
		err := s.txQueryRow(ctx, tx, qFailJob, string(state), nanos(at), jobID).Scan(&requestID, &item, &workerID)
		if errors.Is(err, sql.ErrNoRows) {
			return s.jobNotProcessing(ctx, tx, jobID, "fail job")
		}
		if err != nil {
			return unavailable(fmt.Errorf("fail job %s: %w", jobID, err))
		}
		// The failed job's upload will never be a result.
		if uploaded, err = s.deleteUploads(ctx, tx, qDeleteUpload, jobID); err != nil {
			return err
		}
		if err := s.deletePreviews(ctx, tx, qDeleteJobPreview, jobID); err != nil {
			return err
		}
		if _, err := s.exec(ctx, tx, qRequeueItem, requestID, item); err != nil {
			return unavailable(fmt.Errorf("requeue item %d of request %s: %w", item, requestID, err))
		}
		if err := s.countWorkerJob(ctx, tx, workerID, 0, 1, 0); err != nil {
			return err
		}
		if state == horde.JobFaulted {
			if _, err := s.exec(ctx, tx, qAddFault, requestID); err != nil {
				return unavailable(fmt.Errorf("count fault of request %s: %w", requestID, err))
			}
		}
		return s.enqueueStored(ctx, tx, requestID) // waiting again
	})
	if err != nil {
		return err
	}
	s.dropBlobs(ctx, uploaded...)
	return nil
}

// SetUpload records the blob uploaded for a processing job. A second upload
// replaces the first, whose blob is deleted unless another row names it.
// ErrNotFound for an unknown job; ErrDuplicate if the job is no longer
// processing (the blob is then deleted unless another row names it).
func (s *Store) SetUpload(ctx context.Context, jobID, blobRef string) error {
	if !validRef(blobRef) {
		return horde.Invalidf("blob", "invalid blob reference")
	}
	var replaced string
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		replaced = ""
		var state string
		if err := s.txQueryRow(ctx, tx, qJobState, jobID).Scan(&state); err != nil {
			return notFound(err, "upload for job %s", jobID)
		}
		if state != string(horde.JobProcessing) {
			return fmt.Errorf("upload for job %s: job is %s: %w", jobID, state, horde.ErrDuplicate)
		}
		err := s.txQueryRow(ctx, tx, qJobUpload, jobID).Scan(&replaced)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return unavailable(fmt.Errorf("read upload for job %s: %w", jobID, err))
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO uploads (job_id, blob_ref, at) VALUES (?, ?, ?)
ON CONFLICT (job_id) DO UPDATE SET blob_ref = excluded.blob_ref, at = excluded.at`,
			jobID, blobRef, nanos(s.clock.Now())); err != nil {
			return unavailable(fmt.Errorf("record upload for job %s: %w", jobID, err))
		}
		return nil
	})
	// The row naming blobRef has committed, or never will: the PutBlob pin
	// that protected it until now is no longer needed.
	s.unpinBlob(blobRef)
	if err != nil {
		s.dropBlobs(ctx, blobRef)
		return err
	}
	if replaced != blobRef {
		s.dropBlobs(ctx, replaced)
	}
	return nil
}

// Upload returns the blob ref uploaded for a job; ErrNotFound if none.
func (s *Store) Upload(ctx context.Context, jobID string) (string, error) {
	var ref string
	if err := s.r.QueryRowContext(ctx, qJobUpload, jobID).Scan(&ref); err != nil {
		return "", notFound(err, "upload for job %s", jobID)
	}
	return ref, nil
}

// Jobs returns all jobs of a request (any state), ordered by item then start.
func (s *Store) Jobs(ctx context.Context, requestID string) ([]horde.Job, error) {
	return queryRows(ctx, s.r, "jobs of request "+requestID, scanJob, qJobs, requestID)
}

// Job returns one job; ErrNotFound if none.
func (s *Store) Job(ctx context.Context, id string) (horde.Job, error) {
	j, err := scanJob(s.readRow(ctx, qSelectJob, id))
	if err != nil {
		return horde.Job{}, notFound(err, "job %s", id)
	}
	return j, nil
}

// Generations returns the results of a request, ordered by item.
func (s *Store) Generations(ctx context.Context, requestID string) ([]horde.Generation, error) {
	return queryRows(ctx, s.r, "generations of request "+requestID, scanGeneration, qGenerations, requestID)
}

// scanGeneration reads a row of qGenerations.
func scanGeneration(row scanner) (horde.Generation, error) {
	var g horde.Generation
	var meta string
	var created int64
	if err := row.Scan(&g.JobID, &g.RequestID, &g.Item, &g.WorkerID, &g.WorkerName, &g.Model, &g.Seed,
		&g.State, &g.Text, &g.BlobRef, &meta, &created); err != nil {
		return horde.Generation{}, err
	}
	if meta != "" && meta != "[]" {
		var stored []storedMetadata
		if err := json.Unmarshal([]byte(meta), &stored); err != nil {
			return horde.Generation{}, fmt.Errorf("generation of job %s metadata: %w", g.JobID, err)
		}
		g.Metadata = metadataFrom(stored)
	}
	g.CreatedAt = fromNanos(created)
	return g, nil
}

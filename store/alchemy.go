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

// Alchemy: interrogations and their forms (migration 00026). A form's
// result image and its pending r2 upload are blobs named by
// interrogation_forms.blob_ref and upload_ref, the source image by
// interrogations.source_ref (blobs_gc.go lists them).

var _ horde.AlchemyStore = (*Store)(nil)

const (
	interrogationColumns = `id, user_id, source_ref, width, height, tiles, trusted_workers, slow_workers,
	client_agent, source, priority, created_at, finished_at`
	formColumns = `id, interrogation_id, idx, name, payload, state, kudos, cost, worker_id, worker_name,
	aborts, started_at, deadline, finished_at, result, blob_ref`

	qInsertInterrogation = `INSERT INTO interrogations (` + interrogationColumns + `, active_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`
	// A form carries its interrogation's priority key, submit time and
	// requester (00033), for the shared queue's claims.
	qInsertForm = `INSERT INTO interrogation_forms (id, interrogation_id, idx, name, payload, state, kudos, cost,
	score, created_at, user_id)
VALUES (?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?, ?)`
	qSelectInterrogation = `SELECT ` + interrogationColumns + ` FROM interrogations WHERE id = ?`
	qInterrogationForms  = `SELECT ` + formColumns + ` FROM interrogation_forms WHERE interrogation_id = ? ORDER BY idx`
	qSelectForm          = `SELECT ` + formColumns + ` FROM interrogation_forms WHERE id = ?`
	qOpenInterrogations  = `SELECT ` + interrogationColumns + ` FROM interrogations WHERE finished_at = 0 ORDER BY created_at, id`
	qOpenForms           = `SELECT f.id, f.interrogation_id, f.idx, f.name, f.payload, f.state, f.kudos, f.cost, f.worker_id,
	f.worker_name, f.aborts, f.started_at, f.deadline, f.finished_at, f.result, f.blob_ref
FROM interrogation_forms f JOIN interrogations i ON i.id = f.interrogation_id
WHERE i.finished_at = 0 ORDER BY f.interrogation_id, f.idx`

	qStartForm = `UPDATE interrogation_forms SET state = 'processing', worker_id = ?, started_at = ?, deadline = ?
WHERE id = ? AND state = 'waiting'`
	// qFormActive restarts an interrogation's expiry clock (a pop, or a
	// form waiting again).
	qFormActive = `UPDATE interrogations SET active_at = ?
WHERE id = (SELECT interrogation_id FROM interrogation_forms WHERE id = ?) AND active_at < ?`
	// qFormInterrogation and qLockInterrogation: every write that changes
	// forms locks their interrogation first on PostgreSQL, so that writes of
	// one interrogation are serialised across processes (two last forms
	// finishing at once close it) and lock in one order.
	qFormInterrogation = `SELECT interrogation_id FROM interrogation_forms WHERE id = ?`
	qLockInterrogation = `SELECT id FROM interrogations WHERE id = ? FOR UPDATE`
	qFormState         = `SELECT state FROM interrogation_forms WHERE id = ?`
	// qFinishForm and the fails name the attempt by its start (0: any), so
	// that a late write of an attempt aborted meanwhile, the form popped
	// again since, leaves the new attempt alone.
	qFinishForm = `UPDATE interrogation_forms SET state = 'done', kudos = ?1, worker_name = ?2, finished_at = ?3,
	result = ?4, blob_ref = ?5, upload_ref = ''
WHERE id = ?6 AND state = 'processing' AND (CAST(?7 AS BIGINT) = 0 OR started_at = ?7)
RETURNING interrogation_id, upload_ref`
	// RETURNING reads the row after the update: the upload is read first.
	qFormUpload = `SELECT upload_ref FROM interrogation_forms WHERE id = ?`
	// qFormUploadWorker is qFormUpload with the worker processing the form.
	qFormUploadWorker = `SELECT upload_ref, worker_id FROM interrogation_forms WHERE id = ?`
	qRequeueForm      = `UPDATE interrogation_forms SET state = 'waiting', aborts = aborts + 1, worker_id = '', worker_name = '',
	started_at = 0, deadline = 0, upload_ref = ''
WHERE id = ?1 AND state = 'processing' AND (CAST(?2 AS BIGINT) = 0 OR started_at = ?2) RETURNING interrogation_id`
	qFaultForm = `UPDATE interrogation_forms SET state = 'faulted', finished_at = ?3, upload_ref = ''
WHERE id = ?1 AND state = 'processing' AND (CAST(?2 AS BIGINT) = 0 OR started_at = ?2) RETURNING interrogation_id`
	qEndForms = `UPDATE interrogation_forms SET state = ?, finished_at = ?, upload_ref = ''
WHERE interrogation_id = ? AND state IN ('waiting', 'processing')`
	qEndUploads = `SELECT upload_ref FROM interrogation_forms
WHERE interrogation_id = ? AND state IN ('waiting', 'processing') AND upload_ref != ''`
	// qCloseInterrogation marks an interrogation finished once it has no
	// open form.
	qCloseInterrogation = `UPDATE interrogations SET finished_at = ?1 WHERE id = ?2 AND finished_at = 0
AND NOT EXISTS (SELECT 1 FROM interrogation_forms WHERE interrogation_id = ?2 AND state IN ('waiting', 'processing'))`
	qSetFormUpload = `UPDATE interrogation_forms SET upload_ref = ? WHERE id = ? AND state = 'processing'`
)

func scanInterrogation(row scanner) (horde.Interrogation, error) {
	var in horde.Interrogation
	var trusted, slow int
	var created, finished int64
	if err := row.Scan(&in.ID, &in.UserID, &in.SourceRef, &in.Width, &in.Height, &in.Tiles, &trusted, &slow,
		&in.ClientAgent, &in.Source, &in.Priority, &created, &finished); err != nil {
		return horde.Interrogation{}, err
	}
	in.TrustedWorkers, in.SlowWorkers = trusted != 0, slow != 0
	in.CreatedAt, in.FinishedAt = fromNanos(created), fromNanos(finished)
	return in, nil
}

func scanForm(row scanner) (horde.AlchemyForm, error) {
	var f horde.AlchemyForm
	var payload, state string
	var started, deadline, finished int64
	if err := row.Scan(&f.ID, &f.InterrogationID, &f.Index, &f.Name, &payload, &state, &f.Kudos, &f.Cost,
		&f.WorkerID, &f.WorkerName, &f.Aborts, &started, &deadline, &finished, &f.Result, &f.BlobRef); err != nil {
		return horde.AlchemyForm{}, err
	}
	if payload != "" {
		if err := json.Unmarshal([]byte(payload), &f.Payload); err != nil {
			return horde.AlchemyForm{}, fmt.Errorf("payload of form %s: %w", f.ID, err)
		}
	}
	f.State = horde.FormState(state)
	f.StartedAt, f.Deadline, f.FinishedAt = fromNanos(started), fromNanos(deadline), fromNanos(finished)
	return f, nil
}

// CreateInterrogation stores a new interrogation and its forms, all waiting.
func (s *Store) CreateInterrogation(ctx context.Context, in horde.Interrogation) error {
	create, err := interrogationCreator(in)
	if err != nil {
		return err
	}
	err = s.write(ctx, create)
	s.unpinBlob(in.SourceRef)
	return err
}

// interrogationCreator validates a new interrogation and returns the write
// that stores it (CreateInterrogation's, or AdmitInterrogation's after its
// check).
func interrogationCreator(in horde.Interrogation) (func(context.Context, *sql.Tx) error, error) {
	if in.ID == "" || !validRef(in.SourceRef) {
		return nil, horde.Invalidf("id", "an interrogation needs an id and a source image")
	}
	payloads := make([]string, len(in.Forms))
	for i, f := range in.Forms {
		if f.Payload == nil {
			continue
		}
		b, err := json.Marshal(f.Payload)
		if err != nil {
			return nil, horde.Invalidf("forms", "a form's payload is not JSON: %v", err)
		}
		payloads[i] = string(b)
	}
	created := nanos(in.CreatedAt)
	score := horde.PriorityScore(in.Priority, in.CreatedAt)
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, qInsertInterrogation, in.ID, in.UserID, in.SourceRef, in.Width, in.Height, in.Tiles,
			boolInt(in.TrustedWorkers), boolInt(in.SlowWorkers), in.ClientAgent, in.Source, in.Priority, created, created)
		if isUniqueViolation(err, "interrogations.id") {
			return conflict("InterrogationExists", "interrogation %s already exists", in.ID)
		}
		if err != nil {
			return unavailable(fmt.Errorf("store interrogation %s: %w", in.ID, err))
		}
		for i, f := range in.Forms {
			if _, err := tx.ExecContext(ctx, qInsertForm, f.ID, in.ID, i, f.Name, payloads[i], f.Kudos, f.Cost,
				score, created, in.UserID); err != nil {
				return unavailable(fmt.Errorf("store form %s of interrogation %s: %w", f.Name, in.ID, err))
			}
		}
		if in.Interaction != "" {
			// The interaction's first request or interrogation wins; a
			// second is refused and rolls this write back.
			return linkDiscordInteraction(ctx, tx, in.Interaction, in.ID)
		}
		return nil
	}, nil
}

// Interrogation returns one interrogation with its forms.
func (s *Store) Interrogation(ctx context.Context, id string) (horde.Interrogation, error) {
	in, err := scanInterrogation(s.readRow(ctx, qSelectInterrogation, id))
	if err != nil {
		return horde.Interrogation{}, notFound(err, "interrogation %s", id)
	}
	if in.Forms, err = queryRows(ctx, s.r, "forms of interrogation "+id, scanForm, qInterrogationForms, id); err != nil {
		return horde.Interrogation{}, err
	}
	return in, nil
}

// AlchemyForm returns one form.
func (s *Store) AlchemyForm(ctx context.Context, formID string) (horde.AlchemyForm, error) {
	f, err := scanForm(s.readRow(ctx, qSelectForm, formID))
	if err != nil {
		return horde.AlchemyForm{}, notFound(err, "alchemy form %s", formID)
	}
	return f, nil
}

// OpenInterrogations returns the interrogations with an open form, with
// all their forms, read in one snapshot.
func (s *Store) OpenInterrogations(ctx context.Context) ([]horde.Interrogation, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("open interrogations: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only
	ins, err := queryRows(ctx, tx, "open interrogations", scanInterrogation, qOpenInterrogations)
	if err != nil {
		return nil, err
	}
	forms, err := queryRows(ctx, tx, "forms of open interrogations", scanForm, qOpenForms)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*horde.Interrogation, len(ins))
	for i := range ins {
		byID[ins[i].ID] = &ins[i]
	}
	for _, f := range forms {
		if in := byID[f.InterrogationID]; in != nil {
			in.Forms = append(in.Forms, f)
		}
	}
	return ins, nil
}

// formNotProcessing explains why a form could not be changed: ErrNotFound
// when it does not exist, ErrDuplicate otherwise.
func (s *Store) formNotProcessing(ctx context.Context, tx *sql.Tx, id, what string) error {
	var state string
	if err := tx.QueryRowContext(ctx, qFormState, id).Scan(&state); err != nil {
		return notFound(err, "%s %s", what, id)
	}
	return fmt.Errorf("%s %s: form is %s: %w", what, id, state, horde.ErrDuplicate)
}

// lockInterrogation locks an interrogation's row before its forms are
// changed, on PostgreSQL (see qLockInterrogation); on SQLite, one process
// and one writer, it does nothing.
func (s *Store) lockInterrogation(ctx context.Context, tx *sql.Tx, id string) error {
	if s.eng != postgresEngine {
		return nil
	}
	if err := tx.QueryRowContext(ctx, qLockInterrogation, id).Scan(&id); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return unavailable(fmt.Errorf("lock interrogation %s: %w", id, err))
	}
	return nil
}

// lockFormInterrogation is lockInterrogation of a form's interrogation. An
// unknown form locks nothing: the write that follows says so.
func (s *Store) lockFormInterrogation(ctx context.Context, tx *sql.Tx, formID string) error {
	if s.eng != postgresEngine {
		return nil
	}
	var id string
	err := tx.QueryRowContext(ctx, qFormInterrogation, formID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return unavailable(fmt.Errorf("read interrogation of form %s: %w", formID, err))
	}
	return s.lockInterrogation(ctx, tx, id)
}

// StartAlchemyForm records a popped form.
func (s *Store) StartAlchemyForm(ctx context.Context, formID, workerID string, started, deadline time.Time) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.lockFormInterrogation(ctx, tx, formID); err != nil {
			return err
		}
		return startFormTx(ctx, tx, s, formID, workerID, started, deadline)
	})
}

// startFormTx starts a waiting form in tx: processing by workerID, and its
// interrogation's expiry clock restarted.
func startFormTx(ctx context.Context, tx *sql.Tx, s *Store, formID, workerID string, started, deadline time.Time) error {
	res, err := tx.ExecContext(ctx, qStartForm, workerID, nanos(started), nanos(deadline), formID)
	if err != nil {
		return unavailable(fmt.Errorf("start form %s: %w", formID, err))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("start form %s: %w", formID, err)
	} else if n == 0 {
		return s.formNotProcessing(ctx, tx, formID, "start form")
	}
	if _, err := tx.ExecContext(ctx, qFormActive, nanos(started), formID, nanos(started)); err != nil {
		return unavailable(fmt.Errorf("start form %s: %w", formID, err))
	}
	return nil
}

// FinishAlchemyForm records a done form with its ledger entries and holds.
func (s *Store) FinishAlchemyForm(ctx context.Context, fin horde.AlchemyFinish) error {
	f := fin.Form
	if f.FinishedAt.IsZero() {
		f.FinishedAt = s.clock.Now()
	}
	for _, e := range fin.Entries {
		if err := e.Validate(); err != nil {
			return invalidEntry(err)
		}
	}
	var upload string
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		upload = ""
		if err := s.lockFormInterrogation(ctx, tx, f.ID); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, qFormUpload, f.ID).Scan(&upload); err != nil {
			return notFound(err, "finish form %s", f.ID)
		}
		var interrogationID, left string
		err := tx.QueryRowContext(ctx, qFinishForm, f.Kudos, f.WorkerName, nanos(f.FinishedAt), f.Result, f.BlobRef, f.ID,
			nanos(f.StartedAt)).Scan(&interrogationID, &left)
		if errors.Is(err, sql.ErrNoRows) {
			return s.formNotProcessing(ctx, tx, f.ID, "finish form")
		}
		if err != nil {
			return unavailable(fmt.Errorf("finish form %s: %w", f.ID, err))
		}
		if _, err := tx.ExecContext(ctx, qCloseInterrogation, nanos(f.FinishedAt), interrogationID); err != nil {
			return unavailable(fmt.Errorf("close interrogation %s: %w", interrogationID, err))
		}
		if err := s.countWorkerJob(ctx, tx, f.WorkerID, 1, 0, f.Kudos); err != nil {
			return err
		}
		if len(fin.Entries) > 0 {
			if _, err := s.applyEntries(ctx, tx, fin.Entries); err != nil {
				return fmt.Errorf("finish form %s: %w", f.ID, err)
			}
		}
		if len(fin.Holds) > 0 {
			if _, err := s.holdEscrow(ctx, tx, fin.Holds); err != nil {
				return fmt.Errorf("finish form %s: %w", f.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if upload != "" && upload != f.BlobRef {
		s.dropBlobs(ctx, upload)
	}
	return nil
}

// FailAlchemyForm puts a processing form back to waiting (one more abort)
// or faults it, dropping its upload.
func (s *Store) FailAlchemyForm(ctx context.Context, formID string, startedAt time.Time, faulted bool, at time.Time) error {
	if at.IsZero() {
		at = s.clock.Now()
	}
	var upload string
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		upload = ""
		if err := s.lockFormInterrogation(ctx, tx, formID); err != nil {
			return err
		}
		var workerID string
		if err := tx.QueryRowContext(ctx, qFormUploadWorker, formID).Scan(&upload, &workerID); err != nil {
			return notFound(err, "fail form %s", formID)
		}
		var interrogationID string
		var err error
		if faulted {
			err = tx.QueryRowContext(ctx, qFaultForm, formID, nanos(startedAt), nanos(at)).Scan(&interrogationID)
		} else {
			err = tx.QueryRowContext(ctx, qRequeueForm, formID, nanos(startedAt)).Scan(&interrogationID)
		}
		if errors.Is(err, sql.ErrNoRows) {
			return s.formNotProcessing(ctx, tx, formID, "fail form")
		}
		if err != nil {
			return unavailable(fmt.Errorf("fail form %s: %w", formID, err))
		}
		if !faulted { // waiting again: the expiry clock restarts
			if _, err := tx.ExecContext(ctx, qFormActive, nanos(at), formID, nanos(at)); err != nil {
				return unavailable(fmt.Errorf("fail form %s: %w", formID, err))
			}
		}
		if _, err := tx.ExecContext(ctx, qCloseInterrogation, nanos(at), interrogationID); err != nil {
			return unavailable(fmt.Errorf("close interrogation %s: %w", interrogationID, err))
		}
		return s.countWorkerJob(ctx, tx, workerID, 0, 1, 0)
	})
	if err != nil {
		return err
	}
	s.dropBlobs(ctx, upload)
	return nil
}

// EndInterrogation gives every open form of an interrogation the final state.
func (s *Store) EndInterrogation(ctx context.Context, id string, state horde.FormState, at time.Time) error {
	if state != horde.FormCancelled && state != horde.FormFaulted {
		return horde.Invalidf("state", "an interrogation cannot end with state %q", state)
	}
	if at.IsZero() {
		at = s.clock.Now()
	}
	var uploads []string
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.lockInterrogation(ctx, tx, id); err != nil {
			return err
		}
		var err error
		uploads, err = s.endInterrogationTx(ctx, tx, id, state, at)
		return err
	})
	if err != nil {
		return err
	}
	s.dropBlobs(ctx, uploads...)
	return nil
}

// endInterrogationTx ends an interrogation's open forms in tx (its row
// locked) and returns the uploads to drop once it commits.
func (s *Store) endInterrogationTx(ctx context.Context, tx *sql.Tx, id string, state horde.FormState, at time.Time) ([]string, error) {
	uploads, err := queryRows(ctx, tx, "uploads of interrogation "+id, scanString, qEndUploads, id)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, qEndForms, string(state), nanos(at), id); err != nil {
		return nil, unavailable(fmt.Errorf("end interrogation %s: %w", id, err))
	}
	if _, err := tx.ExecContext(ctx, qCloseInterrogation, nanos(at), id); err != nil {
		return nil, unavailable(fmt.Errorf("close interrogation %s: %w", id, err))
	}
	return uploads, nil
}

// SetAlchemyUpload records the image uploaded for a processing form; a
// replaced upload's blob is dropped unless another row names it.
func (s *Store) SetAlchemyUpload(ctx context.Context, formID, blobRef string) error {
	if !validRef(blobRef) {
		return horde.Invalidf("blob", "invalid blob reference")
	}
	var replaced string
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		replaced = ""
		if err := s.lockFormInterrogation(ctx, tx, formID); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, qFormUpload, formID).Scan(&replaced); err != nil {
			return notFound(err, "upload for form %s", formID)
		}
		res, err := tx.ExecContext(ctx, qSetFormUpload, blobRef, formID)
		if err != nil {
			return unavailable(fmt.Errorf("upload for form %s: %w", formID, err))
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("upload for form %s: %w", formID, err)
		} else if n == 0 {
			return s.formNotProcessing(ctx, tx, formID, "upload for form")
		}
		return nil
	})
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

// AlchemyUpload returns the image uploaded for a form.
func (s *Store) AlchemyUpload(ctx context.Context, formID string) (string, error) {
	var ref string
	if err := s.readRow(ctx, qFormUpload, formID).Scan(&ref); err != nil {
		return "", notFound(err, "upload for form %s", formID)
	}
	if ref == "" {
		return "", fmt.Errorf("upload for form %s: %w", formID, horde.ErrNotFound)
	}
	return ref, nil
}

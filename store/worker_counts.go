package store

import (
	"context"
	"database/sql"
	"fmt"
)

// A worker's counters (jobs fulfilled and dropped, kudos earned) are
// written as increments, in the transaction that finishes or fails the job
// (FinishJob, FailJob, FinishAlchemyForm, FailAlchemyForm): several
// processes serving one worker on PostgreSQL add up, and a counter is never
// "what one process saw". SaveWorker never lowers them (nor the uptime and
// the last pop): it keeps the larger of the stored and the saved value, so
// a process saving its copy of the worker cannot undo another's increments.
// (On SQLite the one scheduler's copy is the stored value plus its own
// increments, so the larger is its own, as before.)

// qCountWorkerJob adds one finished or failed job to its worker's counters.
const qCountWorkerJob = `UPDATE workers SET fulfilled = fulfilled + ?, dropped = dropped + ?, kudos_earned = kudos_earned + ?
WHERE id = ?`

// countWorkerJob adds fulfilled and dropped jobs and kudos earned to the
// counters of worker id in tx. A worker deleted meanwhile (or none: id "")
// counts nothing.
func (s *Store) countWorkerJob(ctx context.Context, tx *sql.Tx, id string, fulfilled, dropped int, kudos int64) error {
	if id == "" {
		return nil
	}
	if _, err := s.exec(ctx, tx, qCountWorkerJob, fulfilled, dropped, kudos, id); err != nil {
		return unavailable(fmt.Errorf("count a job of worker %s: %w", id, err))
	}
	return nil
}

// larger is the SQL function of the engine that returns the larger of its
// arguments.
func (s *Store) larger() string {
	if s.eng == postgresEngine {
		return "GREATEST"
	}
	return "MAX"
}

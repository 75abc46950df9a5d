package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/hordebot/hordebot/horde"
)

// The queue lives in the memory of one process (horde.Horde) until it moves
// into PostgreSQL: two schedulers on one database would each serve their
// own copy of it. On PostgreSQL a scheduler therefore holds a session
// advisory lock, on a connection of its own, for as long as its store is
// open; a second one is refused at start. (On SQLite the database file is
// one machine's, and nothing changes.)

// schedulerLockID is the advisory lock a scheduler holds ("hordebot
// scheduler" in ASCII, folded into 63 bits).
const schedulerLockID int64 = 0x686f7264_65626f74 >> 1

// LockScheduler takes the scheduler lock of the database for as long as the
// store is open (Close releases it). On PostgreSQL, when another process
// (`hordebot run` or `api`) holds it, the error is KindConflict (code
// "SchedulerRunning"), its message one sentence saying so. On SQLite it
// does nothing.
func (s *Store) LockScheduler(ctx context.Context) error {
	if s.eng != postgresEngine {
		return nil
	}
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	if s.lockConn != nil {
		return nil
	}
	conn, err := s.w.Conn(ctx)
	if err != nil {
		return unavailable(fmt.Errorf("scheduler lock: %w", err))
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(?)`, schedulerLockID).Scan(&got); err != nil {
		conn.Close()
		return unavailable(fmt.Errorf("scheduler lock: %w", err))
	}
	if !got {
		conn.Close()
		return &horde.Error{Kind: horde.KindConflict, Code: "SchedulerRunning",
			Message: "another hordebot scheduler (run or api) is already running on this PostgreSQL database, and the queue lives in one process's memory: stop it first, or run the admin commands, which need no lock"}
	}
	s.lockConn = conn
	return nil
}

// unlockScheduler releases the scheduler lock, if held.
func (s *Store) unlockScheduler() error {
	s.lockMu.Lock()
	defer s.lockMu.Unlock()
	if s.lockConn == nil {
		return nil
	}
	conn := s.lockConn
	s.lockConn = nil
	_, err := conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(?)`, schedulerLockID)
	// Closing the session releases it all the same.
	return errors.Join(err, conn.Close())
}

package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Checkpoints copy the WAL back into the database file. SQLite runs them by
// default inside the commit that pushes the WAL past wal_autocheckpoint
// pages, on the committing connection: with one writer that stalls every
// write behind two fsyncs and the copy. Here a checkpointer goroutine runs
// them instead, in PASSIVE mode on a connection of its own, off the writer's
// path: PASSIVE never blocks the writer nor waits for readers, and the WAL
// starts over from its beginning at the first write after a checkpoint that
// copied it all. The writer's own automatic checkpoint stays, at
// writerAutocheckpointPages, for the part copied since.
//
// Durability is SQLite's either way: a commit is in the WAL before it is
// acknowledged, and a checkpoint fsyncs the WAL before copying it and the
// database before the WAL may be reused.
const (
	// checkpointInterval is how often the checkpointer runs while writes
	// happen: a page written many times in between (the end of an index, a
	// balance) is copied once, and the WAL stays at a few MiB under load.
	checkpointInterval = 50 * time.Millisecond
	// writerAutocheckpointPages is the writer's own automatic checkpoint
	// (16 MiB of 4 KiB pages). Under a steady stream of writes the WAL is
	// never all copied when the writer starts its next transaction, so it
	// cannot start over from its beginning: the writer's checkpoint, which
	// finds most of the WAL copied already, is what lets it.
	writerAutocheckpointPages = 4000
	// walSizeLimit is the size the WAL file is cut back to after a
	// checkpoint that copied it all (journal_size_limit): above what it
	// grows to in steady use, so that it is not cut and regrown each time.
	walSizeLimit = 32 << 20
)

// openCheckpointer opens the checkpointer's connection to the database at
// path. It writes to the database file, so it is not read-only, but it never
// starts a transaction.
func openCheckpointer(path, pragmas string) (*sql.DB, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?"+pragmas)
	if err != nil {
		return nil, fmt.Errorf("open %s for checkpoints: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	return db, nil
}

// checkpointer runs a PASSIVE checkpoint every checkpointInterval in which
// the writer committed something, until Close. A failure is logged once
// until a checkpoint succeeds again (the writer's own checkpoints and
// errors go on regardless).
func (s *Store) checkpointer() {
	defer close(s.ckDone)
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	var seen uint64
	failing := false
	for {
		select {
		case <-t.C:
		case <-s.quit:
			return
		}
		n := s.commits.Load()
		if n == seen {
			continue
		}
		seen = n
		_, _, err := s.checkpoint(context.Background())
		if err != nil && !failing {
			s.log.Warn("background checkpoint failed", "err", err)
		}
		failing = err != nil
	}
}

// checkpoint copies what it can of the WAL into the database without
// waiting for readers or the writer, and returns how many pages the WAL
// holds and how many of them are copied.
func (s *Store) checkpoint(ctx context.Context) (walPages, copied int, err error) {
	var busy int
	if err := s.ck.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &walPages, &copied); err != nil {
		return 0, 0, fmt.Errorf("wal checkpoint: %w", err)
	}
	return walPages, copied, nil
}

package store

import (
	"context"
	"testing"
)

func TestCheckpointCopiesTheWholeWAL(t *testing.T) {
	ctx := context.Background()
	s := openInternal(t)
	before := s.commits.Load()
	for _, name := range []string{"a", "b", "c"} {
		if err := s.write(ctx, insertUserOp(name)); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.commits.Load() - before; got != 3 {
		t.Fatalf("commits counted = %d, want 3", got)
	}
	walPages, copied, err := s.checkpoint(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if walPages == 0 || copied != walPages {
		t.Fatalf("checkpoint: %d of %d WAL pages copied, want all of at least one", copied, walPages)
	}
	if got := countUsers(t, s, "b"); got != 1 {
		t.Fatalf("users named b after the checkpoint = %d, want 1", got)
	}
}

func TestWriterCheckpointsLate(t *testing.T) {
	s := openInternal(t)
	var pages, limit int
	if err := s.w.QueryRow("PRAGMA wal_autocheckpoint").Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if pages != writerAutocheckpointPages {
		t.Fatalf("writer wal_autocheckpoint = %d, want %d", pages, writerAutocheckpointPages)
	}
	if err := s.w.QueryRow("PRAGMA journal_size_limit").Scan(&limit); err != nil {
		t.Fatal(err)
	}
	if limit != walSizeLimit {
		t.Fatalf("journal_size_limit = %d, want %d", limit, walSizeLimit)
	}
}

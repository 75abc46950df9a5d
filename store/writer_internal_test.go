package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"testing"
)

// These tests drive runBatch directly so that the ops are certain to share
// one transaction.

func openInternal(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), t.TempDir(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func insertUserOp(name string) func(ctx context.Context, tx *sql.Tx) error {
	return func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (name) VALUES (?)`, name)
		return err
	}
}

func countUsers(t *testing.T, s *Store, name string) int {
	t.Helper()
	var n int
	if err := s.r.QueryRow(`SELECT count(*) FROM users WHERE name = ?`, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func runOps(s *Store, fns ...func(ctx context.Context, tx *sql.Tx) error) []error {
	ops := make([]*writeOp, len(fns))
	for i, fn := range fns {
		ops[i] = &writeOp{ctx: context.Background(), live: context.Background(), fn: fn, done: make(chan error, 1)}
	}
	s.runBatch(ops)
	errs := make([]error, len(ops))
	for i, op := range ops {
		errs[i] = <-op.done
	}
	return errs
}

func TestBatchFailedOpIsUndoneAlone(t *testing.T) {
	s := openInternal(t)
	boom := errors.New("boom")
	errs := runOps(s,
		insertUserOp("a"),
		func(ctx context.Context, tx *sql.Tx) error {
			if err := insertUserOp("b")(ctx, tx); err != nil {
				return err
			}
			return boom // after writing: the write must be undone
		},
		insertUserOp("c"),
	)
	if errs[0] != nil || !errors.Is(errs[1], boom) || errs[2] != nil {
		t.Fatalf("results = %v", errs)
	}
	for name, want := range map[string]int{"a": 1, "b": 0, "c": 1} {
		if got := countUsers(t, s, name); got != want {
			t.Errorf("users named %s = %d, want %d", name, got, want)
		}
	}
}

func TestBatchPoisonedTransactionIsRetriedWithoutTheCulprit(t *testing.T) {
	s := openInternal(t)
	poison := errors.New("poison")
	errs := runOps(s,
		insertUserOp("a"),
		func(ctx context.Context, tx *sql.Tx) error {
			// Ends the shared transaction, as SQLite does on some errors.
			if _, err := tx.ExecContext(ctx, "ROLLBACK"); err != nil {
				return fmt.Errorf("rollback: %w", err)
			}
			return poison
		},
		insertUserOp("c"),
	)
	if errs[0] != nil || !errors.Is(errs[1], poison) || errs[2] != nil {
		t.Fatalf("results = %v", errs)
	}
	for name, want := range map[string]int{"a": 1, "c": 1} {
		if got := countUsers(t, s, name); got != want {
			t.Errorf("users named %s = %d, want %d", name, got, want)
		}
	}
}

func TestBatchSkipsOpsWhoseCallerGaveUp(t *testing.T) {
	s := openInternal(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ops := []*writeOp{
		{ctx: context.Background(), live: context.Background(), fn: insertUserOp("a"), done: make(chan error, 1)},
		{ctx: context.WithoutCancel(ctx), live: ctx, fn: insertUserOp("b"), done: make(chan error, 1)},
	}
	s.runBatch(ops)
	if err := <-ops[0].done; err != nil {
		t.Fatal(err)
	}
	if err := <-ops[1].done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled op = %v", err)
	}
	if countUsers(t, s, "a") != 1 || countUsers(t, s, "b") != 0 {
		t.Fatal("wrong users written")
	}
}

func TestBatchPanickingOpFailsAlone(t *testing.T) {
	s := openInternal(t)
	errs := runOps(s,
		insertUserOp("a"),
		func(ctx context.Context, tx *sql.Tx) error {
			if err := insertUserOp("b")(ctx, tx); err != nil {
				return err
			}
			var m map[string]int
			m["boom"]++ // a bug: assignment to a nil map
			return nil
		},
		insertUserOp("c"),
	)
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("results = %v", errs)
	}
	for name, want := range map[string]int{"a": 1, "b": 0, "c": 1} {
		if got := countUsers(t, s, name); got != want {
			t.Errorf("users named %s = %d, want %d", name, got, want)
		}
	}
	// The writer goroutine is still serving.
	if _, err := s.Apply(context.Background()); err != nil {
		t.Fatalf("write after a panic: %v", err)
	}
}

func TestBatchOfSuccessesIsOneCommit(t *testing.T) {
	s := openInternal(t)
	before := s.commits.Load()
	runs := 0
	errs := runOps(s,
		insertUserOp("a"),
		func(ctx context.Context, tx *sql.Tx) error { runs++; return insertUserOp("b")(ctx, tx) },
		insertUserOp("c"),
	)
	if errs[0] != nil || errs[1] != nil || errs[2] != nil {
		t.Fatalf("results = %v", errs)
	}
	if got := s.commits.Load() - before; got != 1 {
		t.Errorf("commits = %d, want 1", got)
	}
	if runs != 1 {
		t.Errorf("the op ran %d times, want once (no retry when all succeed)", runs)
	}
	for _, name := range []string{"a", "b", "c"} {
		if got := countUsers(t, s, name); got != 1 {
			t.Errorf("users named %s = %d, want 1", name, got)
		}
	}
}

func TestBatchFailureInTheLastOpUndoesOnlyIt(t *testing.T) {
	s := openInternal(t)
	boom := errors.New("boom")
	errs := runOps(s,
		insertUserOp("a"),
		insertUserOp("b"),
		func(ctx context.Context, tx *sql.Tx) error {
			if err := insertUserOp("c")(ctx, tx); err != nil {
				return err
			}
			return boom
		},
	)
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], boom) {
		t.Fatalf("results = %v", errs)
	}
	for name, want := range map[string]int{"a": 1, "b": 1, "c": 0} {
		if got := countUsers(t, s, name); got != want {
			t.Errorf("users named %s = %d, want %d", name, got, want)
		}
	}
}

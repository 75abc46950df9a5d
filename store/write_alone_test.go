package store_test

import (
	"context"
	"database/sql"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// openPostgres opens a store on PostgreSQL whatever the engine the tests
// run on (skipped, saying so, without a server).
func openPostgres(t *testing.T) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), storetest.PostgresDatabase(t, t.TempDir()),
		store.Options{MaxConns: storetest.TestMaxConns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestWriteAloneRunsInItsOwnTransaction: on PostgreSQL, ops written with
// writeAlone among many ordinary writes at once never share a
// transaction, at most half the pool at once, while the ordinary ones
// still group (the writer's group commit).
func TestWriteAloneRunsInItsOwnTransaction(t *testing.T) {
	s := openPostgres(t)
	ctx := context.Background()
	var mu sync.Mutex
	txOf := map[int]*sql.Tx{} // op -> the transaction it last ran in
	alone := map[int]bool{}
	var open, mostOpen int // alone transactions under way at once
	var wg sync.WaitGroup
	for i := range 400 {
		isAlone := i%10 == 0
		alone[i] = isAlone
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn := func(_ context.Context, tx *sql.Tx) error {
				mu.Lock()
				txOf[i] = tx
				if isAlone {
					open++
					mostOpen = max(mostOpen, open)
				}
				mu.Unlock()
				if isAlone {
					runtime.Gosched() // let the flood of others pile in beside it
					mu.Lock()
					open--
					mu.Unlock()
				}
				return nil
			}
			write := store.Write
			if isAlone {
				write = store.WriteAlone
			}
			if err := write(ctx, s, fn); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	ops := map[*sql.Tx][]int{}
	for i, tx := range txOf {
		ops[tx] = append(ops[tx], i)
	}
	grouped := false
	for _, in := range ops {
		grouped = grouped || len(in) > 1
		for _, i := range in {
			if alone[i] && len(in) > 1 {
				t.Fatalf("op %d, written alone, shared its transaction with %v", i, in)
			}
		}
	}
	if limit := storetest.TestMaxConns / 2; mostOpen > limit {
		t.Errorf("%d writes alone ran at once on a pool of %d: a flood of pops would take the writer's and the reads' connections (at most %d)",
			mostOpen, storetest.TestMaxConns, limit)
	}
	if !grouped {
		t.Fatalf("no two of 360 ordinary writes shared a transaction: the test no longer sees the group commit")
	}
}

// TestWriteAloneRunsBesideTheWriter: on PostgreSQL a pop's transaction
// (writeAlone) does not wait for the writer's group commit: it commits
// while a write holds the writer, and it ends before Close closes the
// pool under it.
func TestWriteAloneRunsBesideTheWriter(t *testing.T) {
	s := openPostgres(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	insert := func(name string) func(ctx context.Context, tx *sql.Tx) error {
		return func(ctx context.Context, tx *sql.Tx) error {
			_, err := tx.ExecContext(ctx, `INSERT INTO users (name) VALUES (?)`, name)
			return err
		}
	}

	// hold writes name with write from inside a transaction that waits,
	// open, until release is called; it returns once the transaction is.
	hold := func(write func(context.Context, *store.Store, func(context.Context, *sql.Tx) error) error, name string) (release func(), done <-chan error) {
		inside, resume, result := make(chan struct{}), make(chan struct{}), make(chan error, 1)
		go func() {
			result <- write(ctx, s, func(ctx context.Context, tx *sql.Tx) error {
				close(inside)
				<-resume
				return insert(name)(ctx, tx)
			})
		}()
		<-inside
		var once sync.Once
		return func() { once.Do(func() { close(resume) }) }, result
	}

	release, writeDone := hold(store.Write, "grouped")
	defer release()
	aloneDone := make(chan error, 1)
	go func() { aloneDone <- store.WriteAlone(ctx, s, insert("alone")) }()
	select {
	case err := <-aloneDone:
		if err != nil {
			t.Fatalf("write alone beside a held writer: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("a write alone waited for the writer's transaction")
	}
	release()
	if err := <-writeDone; err != nil {
		t.Fatalf("the held write: %v", err)
	}

	// Close waits for a transaction of writeAlone under way.
	finish, aloneDone2 := hold(store.WriteAlone, "during close")
	defer finish()
	closed := make(chan error, 1)
	go func() { closed <- s.Close() }()
	time.Sleep(50 * time.Millisecond) // Close gets as far as it goes while the transaction is open
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a write alone was under way", err)
	default:
	}
	finish()
	if err := <-aloneDone2; err != nil {
		t.Fatalf("the write alone under way at Close: %v", err)
	}
	if err := <-closed; err != nil {
		t.Fatalf("close: %v", err)
	}
	if err := store.WriteAlone(ctx, s, insert("after close")); !errors.Is(err, store.ErrClosedForTest) {
		t.Fatalf("write alone after Close: %v, want the store's closed error", err)
	}
}

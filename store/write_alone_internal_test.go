package store

import (
	"context"
	"database/sql"
	"sync"
	"testing"
)

// TestWriteAloneRunsInItsOwnTransaction: ops written with writeAlone among
// many ordinary writes at once never share a transaction, while the
// ordinary ones still group (the writer's group commit).
func TestWriteAloneRunsInItsOwnTransaction(t *testing.T) {
	s := openInternal(t)
	ctx := context.Background()
	var mu sync.Mutex
	txOf := map[int]*sql.Tx{} // op -> the transaction it last ran in
	alone := map[int]bool{}
	var wg sync.WaitGroup
	for i := range 400 {
		isAlone := i%10 == 0
		alone[i] = isAlone
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn := func(_ context.Context, tx *sql.Tx) error {
				mu.Lock()
				defer mu.Unlock()
				txOf[i] = tx
				return nil
			}
			write := s.write
			if isAlone {
				write = s.writeAlone
			}
			if err := write(ctx, fn); err != nil {
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
	if !grouped {
		t.Fatalf("no two of 360 ordinary writes shared a transaction: the test no longer sees the group commit")
	}
}

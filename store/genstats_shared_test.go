package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// TestFinishesAcrossProcessesDoNotWaitOnTotals: on one PostgreSQL
// database, a process finishes a result of a model while other processes'
// transactions that counted results of the same model (its first ones,
// too) are still open (their group commits not yet committed). Its finish waits for none of
// them (with one total row per model it waited for each, so every
// process's group commit queued behind the others'); once every
// transaction has committed, and after a burst of finishes on every
// process at once, the totals count every result exactly once. The
// requesters, worker owners and workers differ by process: their rows are
// theirs to lock.
func TestFinishesAcrossProcessesDoNotWaitOnTotals(t *testing.T) {
	for _, c := range []struct {
		name  string
		kind  horde.RequestKind
		units int64
		held  int  // processes whose transaction stays open
		first bool // the open transactions count the model's first results
	}{
		{"image, one other transaction open", horde.KindImage, 512 * 512 * 30, 1, false},
		{"image, two others open: every shard of the model held", horde.KindImage, 512 * 512 * 30, 2, false},
		{"image, the model's first results, on two processes at once", horde.KindImage, 512 * 512 * 30, 1, true},
		{"text, one other transaction open", horde.KindText, 80, 1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			database := storetest.PostgresDatabase(t, t.TempDir()) // skips, saying why, without a server
			ctx := context.Background()
			clock := newFakeClock()
			procs := c.held + 1
			stores := make([]*store.Store, procs)
			for i := range stores {
				st, err := store.Open(ctx, database, store.Options{Clock: clock, Logger: quietLogger, MaxConns: storetest.TestMaxConns})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				stores[i] = st
			}
			const model = "shared-model"
			type party struct{ requester, owner int64 }
			parties := make([]party, procs)
			for i := range parties {
				parties[i] = party{mustUser(t, stores[0], fmt.Sprintf("requester%d", i)).ID, mustUser(t, stores[0], fmt.Sprintf("owner%d", i)).ID}
				mustWorker(t, stores[0], fmt.Sprintf("w%d", i), parties[i].owner)
			}
			n := 0
			// finishOn is a started job of a new request, to be finished on process p.
			finishOn := func(p int) horde.JobFinish {
				t.Helper()
				n++
				id := fmt.Sprintf("r%d", n)
				r := imageRequest(id, parties[p].requester, 1)
				if c.kind == horde.KindText {
					r.Kind, r.Image, r.Text = horde.KindText, nil, &horde.TextParams{MaxLength: int(c.units), MaxContextLength: 1024}
				}
				r.Models = []string{model}
				if err := stores[p].CreateRequest(ctx, r); err != nil {
					t.Fatal(err)
				}
				j := job(id+"-job", id, 0, fmt.Sprintf("w%d", p))
				j.Model = model
				if err := stores[p].StartJob(ctx, j); err != nil {
					t.Fatal(err)
				}
				f := finish(j, horde.RequestDone, parties[p].owner, parties[p].requester, 3)
				f.Kind, f.Units = c.kind, c.units
				return f
			}
			results := 0
			if !c.first {
				if err := stores[0].FinishJob(ctx, finishOn(0)); err != nil {
					t.Fatal(err)
				}
				results++
			}

			open := &openTransactions{}
			t.Cleanup(func() { open.release() })
			// beside runs fn, a write on process p, while the held
			// transactions are open: the test fails if it waits for one.
			beside := func(p int, fn func() error) {
				t.Helper()
				done := make(chan error, 1)
				go func() { done <- fn() }()
				for {
					select {
					case err := <-done:
						if err != nil {
							t.Fatalf("process %d: %v", p, err)
						}
						return
					default:
					}
					if q := waitingFor(t, stores[p], open.pids()); q != "" {
						open.release()
						<-done
						open.release() // fn's own, if it held one once let through
						t.Fatalf("a finish on process %d waited for another process's open transaction, in: %s", p, q)
					}
					time.Sleep(2 * time.Millisecond)
				}
			}
			for p := range c.held {
				f := finishOn(p)
				beside(p, func() error {
					pid, release, err := store.HoldFinish(ctx, stores[p], f)
					if err == nil {
						open.add(pid, release)
					}
					return err
				})
				results++
			}
			last := finishOn(c.held)
			beside(c.held, func() error { return stores[c.held].FinishJob(ctx, last) })
			results++
			if err := open.release(); err != nil {
				t.Fatalf("a held finish: %v", err)
			}

			// Every process finishing at once.
			const each = 8
			burst := make([][]horde.JobFinish, procs)
			for p := range burst {
				for range each {
					burst[p] = append(burst[p], finishOn(p))
				}
			}
			var wg sync.WaitGroup
			for p, fs := range burst {
				for _, f := range fs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if err := stores[p].FinishJob(ctx, f); err != nil {
							t.Errorf("process %d, job %s: %v", p, f.Job.ID, err)
						}
					}()
				}
			}
			wg.Wait()
			results += procs * each

			want := horde.PeriodTotal{Count: int64(results), Units: int64(results) * c.units}
			for p, st := range stores {
				_, total, err := st.GenerationTotals(ctx, c.kind, nil)
				if err != nil {
					t.Fatal(err)
				}
				_, byModel, err := st.GenerationsByModel(ctx, c.kind, nil)
				if err != nil {
					t.Fatal(err)
				}
				if total != want || byModel[model] != want.Count || len(byModel) != 1 {
					t.Errorf("process %d reads %s totals %+v and per model %v; want %+v, %s %d", p, c.kind, total, byModel, want, model, want.Count)
				}
			}
		})
	}
}

// openTransactions are the transactions store.HoldFinish keeps open.
type openTransactions struct {
	mu       sync.Mutex
	ids      []string
	releases []func() error
}

func (o *openTransactions) add(pid int, release func() error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ids, o.releases = append(o.ids, fmt.Sprint(pid)), append(o.releases, release)
}

// pids are their sessions' server process ids, as a PostgreSQL array.
func (o *openTransactions) pids() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return "{" + strings.Join(o.ids, ",") + "}"
}

// release lets them commit and returns the first error of one.
func (o *openTransactions) release() error {
	o.mu.Lock()
	releases := slices.Clone(o.releases)
	o.mu.Unlock()
	var first error
	for _, r := range releases {
		if err := r(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// waitingFor returns the statement of a session waiting for a lock one of
// the sessions pids ("{1,2}") holds, "" when none is.
func waitingFor(t *testing.T, s *store.Store, pids string) string {
	t.Helper()
	rows, err := store.RawQuery(context.Background(), s,
		`SELECT query FROM pg_stat_activity WHERE pg_blocking_pids(pid) && ?::int[]`, pids)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var q string
	if rows.Next() {
		if err := rows.Scan(&q); err != nil {
			t.Fatal(err)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return q
}

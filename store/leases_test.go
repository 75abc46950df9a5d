package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// leaseEvery is the tests' lease interval: short, so that takeovers are
// quick; the deadlines below are many times it.
const leaseEvery = 20 * time.Millisecond

// leaseDeadline bounds a wait for a lease to change hands: far longer than
// the few intervals it takes, so that only a lease that never moves fails.
const leaseDeadline = 20 * time.Second

// openLeases opens a store on database (two calls with one database are
// two processes sharing it) and its leases, closed when the test ends.
func openLeases(t *testing.T, database string) (*store.Store, *store.Leases) {
	t.Helper()
	s, err := store.Open(context.Background(), database, store.Options{Logger: quietLogger, MaxConns: storetest.TestMaxConns})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	l := s.Leases(store.LeaseOptions{Every: leaseEvery, Logger: quietLogger})
	t.Cleanup(func() {
		if err := l.Close(); err != nil {
			t.Errorf("close leases: %v", err)
		}
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s, l
}

// held is the outcome of a Hold run in the background.
type held struct {
	ctx     context.Context
	release func()
	err     error
}

// holdAsync starts l.Hold(ctx, name) and returns where its outcome arrives.
func holdAsync(ctx context.Context, l *store.Leases, name string) <-chan held {
	ch := make(chan held, 1)
	go func() {
		hctx, release, err := l.Hold(ctx, name)
		ch <- held{hctx, release, err}
	}()
	return ch
}

// waitHeld waits for a background Hold to get its lease.
func waitHeld(t *testing.T, ch <-chan held, who string) held {
	t.Helper()
	select {
	case h := <-ch:
		if h.err != nil {
			t.Fatalf("%s: hold: %v", who, h.err)
		}
		t.Cleanup(h.release)
		return h
	case <-time.After(leaseDeadline):
		t.Fatalf("%s did not get the lease within %v", who, leaseDeadline)
		return held{}
	}
}

// waitEnded waits for a held lease's context to end and returns its cause.
func waitEnded(t *testing.T, ctx context.Context, who string) error {
	t.Helper()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(leaseDeadline):
		t.Fatalf("%s's lease did not end within %v", who, leaseDeadline)
		return nil
	}
}

// mustHold holds name on l, which must get it at once or within the
// deadline.
func mustHold(t *testing.T, l *store.Leases, name, who string) held {
	t.Helper()
	return waitHeld(t, holdAsync(context.Background(), l, name), who)
}

// TestLeasesSQLiteAlwaysHeld: on SQLite (one process) every lease is held
// at once, and stays held until released; one name is held once in a
// process.
func TestLeasesSQLiteAlwaysHeld(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, t.TempDir(), store.Options{Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l := s.Leases(store.LeaseOptions{})
	defer l.Close()
	var all []context.Context
	for _, name := range []string{"sweeps", "kudos-schedules", "retention", "web-snapshots"} {
		hctx, release, err := l.Hold(ctx, name)
		if err != nil {
			t.Fatalf("hold %s: %v", name, err)
		}
		defer release()
		all = append(all, hctx)
	}
	if _, _, err := l.Hold(ctx, "sweeps"); !horde.IsKind(err, horde.KindConflict) {
		t.Fatalf("a second hold of one name in one process: want a conflict, got %v", err)
	}
	for _, hctx := range all {
		if hctx.Err() != nil {
			t.Fatalf("a lease on SQLite ended: %v", context.Cause(hctx))
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, hctx := range all {
		if hctx.Err() == nil {
			t.Fatal("a lease outlived Close")
		}
	}
	if _, _, err := l.Hold(ctx, "sweeps"); !horde.IsKind(err, horde.KindUnavailable) {
		t.Fatalf("hold after close: want unavailable, got %v", err)
	}
}

// TestLeasesOneHolder: of two processes on one database, one holds a
// lease and the other waits; different leases may be held by different
// processes; a process holds one name once.
func TestLeasesOneHolder(t *testing.T) {
	database := storetest.PostgresDatabase(t, t.TempDir())
	_, a := openLeases(t, database)
	_, b := openLeases(t, database)

	mustHold(t, a, "sweeps", "a")
	// b waits for "sweeps" for many intervals and does not get it.
	wctx, cancel := context.WithTimeout(context.Background(), 15*leaseEvery)
	defer cancel()
	if _, _, err := b.Hold(wctx, "sweeps"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("b holds the lease a holds: %v", err)
	}
	mustHold(t, b, "retention", "b")
	if _, _, err := a.Hold(context.Background(), "sweeps"); !horde.IsKind(err, horde.KindConflict) {
		t.Fatalf("a second hold of one name in one process: want a conflict, got %v", err)
	}
}

// TestLeasesSeparateSchemas: stores in two schemas of one database do not
// share leases.
func TestLeasesSeparateSchemas(t *testing.T) {
	_, a := openLeases(t, storetest.PostgresDatabase(t, t.TempDir()))
	_, b := openLeases(t, storetest.PostgresDatabase(t, t.TempDir()))
	mustHold(t, a, "sweeps", "a")
	mustHold(t, b, "sweeps", "b")
}

// TestLeasesTakeover: a lease goes to the waiting process when its holder
// releases it, closes its leases, or its session dies
// (pg_terminate_backend, as when its process is killed); the old holder's
// work context ends, saying why.
func TestLeasesTakeover(t *testing.T) {
	tests := []struct {
		name      string
		end       func(t *testing.T, s *store.Store, l *store.Leases, h held)
		wantCause error // of the old holder's context; nil: any
	}{
		{"released", func(t *testing.T, _ *store.Store, _ *store.Leases, h held) { h.release() }, nil},
		{"leases closed", func(t *testing.T, _ *store.Store, l *store.Leases, _ held) {
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"session terminated", func(t *testing.T, s *store.Store, _ *store.Leases, _ held) {
			ctx := context.Background()
			pid, _, err := store.LeaseHolder(ctx, s, "kudos-schedules")
			if err != nil || pid == 0 {
				t.Fatalf("the holder's session: pid %d, %v", pid, err)
			}
			if err := store.RawExec(ctx, s, "SELECT pg_terminate_backend(?)", pid); err != nil {
				t.Fatal(err)
			}
		}, store.ErrLeaseLost},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			database := storetest.PostgresDatabase(t, t.TempDir())
			sa, a := openLeases(t, database)
			_, b := openLeases(t, database)
			ha := mustHold(t, a, "kudos-schedules", "a")
			bch := holdAsync(context.Background(), b, "kudos-schedules")
			start := time.Now()
			tt.end(t, sa, a, ha)
			cause := waitEnded(t, ha.ctx, "a")
			if tt.wantCause != nil && !errors.Is(cause, tt.wantCause) {
				t.Fatalf("a's lease ended with %v, want %v", cause, tt.wantCause)
			}
			hb := waitHeld(t, bch, "b")
			t.Logf("takeover after %v (interval %v)", time.Since(start), leaseEvery)
			if hb.ctx.Err() != nil {
				t.Fatalf("b's lease ended: %v", context.Cause(hb.ctx))
			}
			if tt.name != "session terminated" {
				return
			}
			// a, its session gone, tries again and waits: b holds it.
			wctx, cancel := context.WithTimeout(context.Background(), 15*leaseEvery)
			defer cancel()
			if _, _, err := a.Hold(wctx, "kudos-schedules"); !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("a holds again what b holds: %v", err)
			}
		})
	}
}

// TestLeasesRegainedAfterLoss: a process whose session died holds its
// leases again, on a new session, once nobody else does.
func TestLeasesRegainedAfterLoss(t *testing.T) {
	ctx := context.Background()
	database := storetest.PostgresDatabase(t, t.TempDir())
	s, l := openLeases(t, database)
	h := mustHold(t, l, "retention", "the process")
	pid, app, err := store.LeaseHolder(ctx, s, "retention")
	if err != nil || pid == 0 || app != store.LeaseApplicationName {
		t.Fatalf("the holder's session: pid %d application_name %q, %v; want %q", pid, app, err, store.LeaseApplicationName)
	}
	if err := store.RawExec(ctx, s, "SELECT pg_terminate_backend(?)", pid); err != nil {
		t.Fatal(err)
	}
	if cause := waitEnded(t, h.ctx, "the process"); !errors.Is(cause, store.ErrLeaseLost) {
		t.Fatalf("the lease ended with %v, want ErrLeaseLost", cause)
	}
	h.release()
	mustHold(t, l, "retention", "the process again")
	again, _, err := store.LeaseHolder(ctx, s, "retention")
	if err != nil || again == 0 || again == pid {
		t.Fatalf("the new holder's session: pid %d (the old one was %d), %v", again, pid, err)
	}
}

// TestLeasesFrozenHolderLosesTheLock: a holder that stops talking to the
// server (a frozen process, a partition) loses its lock when the server
// ends its idle session (idle_session_timeout), and the waiting process
// takes it; the holder's own context ends at its next round.
func TestLeasesFrozenHolderLosesTheLock(t *testing.T) {
	database := storetest.PostgresDatabase(t, t.TempDir())
	s, err := store.Open(context.Background(), database, store.Options{Logger: quietLogger, MaxConns: storetest.TestMaxConns})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	frozen := s.Leases(store.LeaseOptions{Every: time.Hour, Logger: quietLogger}) // one round, at its Hold
	store.SetLeaseIdle(frozen, time.Second)
	defer frozen.Close()
	mustHold(t, frozen, "sweeps", "the frozen process")
	_, other := openLeases(t, database)
	start := time.Now()
	waitHeld(t, holdAsync(context.Background(), other, "sweeps"), "the other process")
	t.Logf("taken from a silent holder after %v (its session's idle timeout 1s)", time.Since(start))
}

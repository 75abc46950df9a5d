package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/hordebot/hordebot/horde"
)

// maxBatch bounds how many writes one group commit carries, so that one
// transaction stays short and the first caller's latency bounded.
const maxBatch = 256

// errClosed is the error of a write submitted after Close.
var errClosed = &horde.Error{Kind: horde.KindUnavailable, Code: "StoreClosed", Message: "storage is shutting down; try again later"}

// writeOp is one caller's write waiting for the writer goroutine.
type writeOp struct {
	ctx  context.Context // the caller's, without its cancellation (see write)
	live context.Context // the caller's, to skip the op if it gave up before it ran
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error
	// deadlocks counts the times PostgreSQL chose this op to break a
	// deadlock; it is run again up to maxDeadlockRetries times.
	deadlocks int
}

// maxDeadlockRetries bounds how often a write that lost a deadlock is run
// again, in a transaction after its batch's (whose locks are then gone).
const maxDeadlockRetries = 3

// write runs fn inside a write transaction and returns once that
// transaction has committed (or fn failed, in which case fn's changes are
// undone and nothing else is). Concurrent writes are grouped into one
// transaction (group commit). A batch runs first without savepoints (the
// usual case: every op succeeds); if one op fails, the batch is rolled back
// and run again with each op in its own SAVEPOINT, so one op's failure
// never fails the others.
//
// fn gets a context that carries the caller's values but not its
// cancellation: interrupting a statement inside a shared transaction would
// roll back the other callers' writes. A caller whose context is done before
// its op starts gets ctx.Err() and nothing is written.
//
// fn runs on the writer goroutine and may run more than once (when another
// op in its batch breaks the transaction, the batch is run again without
// it): it must only touch tx and its own result variables, and must never
// call write, writeTx or any writing Store method (that would deadlock).
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	return s.submitWrite(ctx, fn)
}

// writeAlone is write in a transaction that carries no other op. On
// PostgreSQL it runs at once, on a pool connection of its own, beside the
// writer's group commits (PostgreSQL runs transactions side by side, as it
// does other processes'); on SQLite, whose one writer connection runs one
// transaction at a time, it is write.
//
// For a shared pop: it locks candidate requests (FOR UPDATE SKIP LOCKED,
// never waiting) and keeps the locks to its commit. In a group commit
// beside a finish, that finish could wait for a hot row (the generation
// totals, a balance) another process's transaction holds while that
// transaction waits to lock one of the requests the pop holds: a deadlock
// PostgreSQL breaks only after deadlock_timeout (1 s; measured: a few
// every 20 s with two processes under load). Alone, the pop's transaction
// waits for nothing and ends soon; beside the writer, pops neither wait
// for the group commits nor split them (measured: a pop alone on the
// writer between two batches left about one submit a commit).
//
// As with write, fn gets the caller's values without its cancellation (a
// pop whose commit was cut off could not tell whether its jobs started),
// and a caller whose context is done before fn starts gets ctx.Err().
func (s *Store) writeAlone(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if s.eng != postgresEngine {
		return s.write(ctx, fn)
	}
	s.aloneMu.RLock() // Close waits for the transactions under way
	defer s.aloneMu.RUnlock()
	if s.closed {
		return errClosed
	}
	select { // a slot: pops never take the connections the writer and the reads need
	case s.aloneSlots <- struct{}{}:
		defer func() { <-s.aloneSlots }()
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := ctx.Err(); err != nil { // a slot free and the caller gone: select picks either
		return err
	}
	op := &writeOp{ctx: context.WithoutCancel(ctx), live: ctx, fn: fn}
	for {
		err := s.runAlone(op)
		if isDeadlock(err) && op.deadlocks < maxDeadlockRetries {
			op.deadlocks++
			continue
		}
		return unavailable(err)
	}
}

// runAlone runs op in a transaction of its own on the pool and commits it
// when op succeeds.
func (s *Store) runAlone(op *writeOp) error {
	tx, err := s.w.BeginTx(op.ctx, nil)
	if err != nil {
		return unavailable(fmt.Errorf("begin: %w", err))
	}
	if _, err := s.runOp(op, tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return unavailable(fmt.Errorf("commit: %w", err))
	}
	s.commits.Add(1)
	return nil
}

// submitWrite hands fn to the writer and waits for its transaction.
func (s *Store) submitWrite(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	op := &writeOp{ctx: context.WithoutCancel(ctx), live: ctx, fn: fn, done: make(chan error, 1)}
	select {
	case s.ops <- op:
	case <-s.quit:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once taken, the op runs to its end: waiting for it tells the caller the truth.
	return <-op.done
}

// Commits is how many write transactions (group commits) the writer has
// committed since Open: with the writes made, how well they were grouped.
func (s *Store) Commits() uint64 { return s.commits.Load() }

// writer is the goroutine that owns write transactions until Close.
func (s *Store) writer() {
	defer close(s.done)
	batch := make([]*writeOp, 0, maxBatch)
	for {
		select {
		case op := <-s.ops:
			batch = append(batch[:0], op)
		case <-s.quit:
			return
		}
		// Yield once before collecting: goroutines that are runnable now
		// (often handlers about to write) queue their ops and join this
		// batch, instead of each paying for a commit of its own (measured:
		// 2.4 -> 7 ops per commit in BenchmarkHTTPLifecycles). With nothing
		// else runnable the yield returns at once.
		runtime.Gosched()
	collect:
		for len(batch) < maxBatch {
			select {
			case op := <-s.ops:
				batch = append(batch, op)
			default:
				break collect
			}
		}
		s.applyDBLimit() // the images' size changed the database's share of the quota
		s.runBatch(batch)
		clear(batch) // drop references to finished ops
	}
}

// runBatch runs ops in one transaction and acknowledges each after commit.
// It tries them first without savepoints; when one fails, that transaction
// is rolled back and the ops run again each in a savepoint (a failing op
// costs its batch a second run, which is rare: the horde refuses most bad
// writes before they reach the store). If an op leaves
// the transaction unusable (SQLite rolls back the whole transaction on some
// errors), the others are run again in a new one.
func (s *Store) runBatch(ops []*writeOp) {
	if len(ops) > 1 {
		var results []error
		var ok bool
		var err error
		if ops, results, ok, err = s.tryBatchWhole(ops); err != nil {
			for _, op := range ops {
				op.done <- err
			}
			return
		} else if ok {
			for i, op := range ops {
				op.done <- results[i]
			}
			return
		}
	}
	for len(ops) > 0 {
		results, poisoned, err := s.tryBatch(ops)
		if err != nil { // begin or commit failed: nothing was written
			for _, op := range ops {
				op.done <- err
			}
			return
		}
		// A full or read-only database fails each op on its own (the others
		// may fit): every caller learns it as KindUnavailable.
		if poisoned < 0 {
			var again []*writeOp
			for i, op := range ops {
				if isDeadlock(results[i]) && op.deadlocks < maxDeadlockRetries {
					op.deadlocks++
					again = append(again, op)
					continue
				}
				op.done <- unavailable(results[i])
			}
			if len(again) == 0 {
				return
			}
			ops = again
			continue
		}
		ops[poisoned].done <- unavailable(results[poisoned])
		ops = append(ops[:poisoned:poisoned], ops[poisoned+1:]...)
	}
}

// tryBatchWhole runs ops in one transaction without savepoints and commits
// it when every op that ran succeeded (ok; an op whose caller gave up is
// skipped, its result its context's error). Ops that reach the writer
// while the batch runs join it before the commit (up to maxBatch): they
// share its commit instead of waiting for it and paying for one of their
// own (a commit writes every page the batch changed, so the more ops share
// it, the fewer pages each costs). It returns the ops it ran, the joined
// ones included. When one fails or panics, the transaction is rolled back
// at once and ok is false: nothing was written and the ops must be run
// again with savepoints (tryBatch). err when the transaction could not
// begin or commit.
func (s *Store) tryBatchWhole(ops []*writeOp) (ran []*writeOp, results []error, ok bool, err error) {
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		return ops, nil, false, unavailable(fmt.Errorf("begin: %w", err))
	}
	s.bound.begin(tx)
	defer s.bound.end()
	results = make([]error, len(ops), cap(ops))
	for i := 0; i < len(ops); i++ {
		op := ops[i]
		if err := op.live.Err(); err != nil {
			results[i] = err
		} else if _, err := s.runOp(op, tx); err != nil {
			_ = tx.Rollback()
			return ops, nil, false, nil
		}
		if i == len(ops)-1 && len(ops) < maxBatch {
			select {
			case more := <-s.ops:
				ops = append(ops, more)
				results = append(results, nil)
			default:
			}
		}
	}
	if err := tx.Commit(); err != nil {
		if errors.Is(err, sql.ErrTxDone) {
			return ops, nil, false, fmt.Errorf("commit: transaction ended early: %w", err)
		}
		return ops, nil, false, unavailable(fmt.Errorf("commit: %w", err))
	}
	s.commits.Add(1)
	return ops, results, true, nil
}

// tryBatch runs ops in one transaction, each in its own savepoint. It
// returns each op's result, and poisoned >= 0 when ops[poisoned] broke the
// transaction (which is then rolled back, and the others must be run
// again); err when the transaction could not begin or commit.
func (s *Store) tryBatch(ops []*writeOp) (results []error, poisoned int, err error) {
	tx, err := s.w.BeginTx(context.Background(), nil)
	if err != nil {
		return nil, -1, unavailable(fmt.Errorf("begin: %w", err))
	}
	s.bound.begin(tx)
	defer s.bound.end()
	results = make([]error, len(ops))
	for i, op := range ops {
		if err := op.live.Err(); err != nil {
			results[i] = err
			continue
		}
		if len(ops) == 1 {
			// Alone in its transaction: no savepoint needed.
			_, results[i] = s.runOp(op, tx)
			if results[i] != nil {
				_ = tx.Rollback()
				return results, -1, nil
			}
			break
		}
		if _, err := s.exec(op.ctx, tx, "SAVEPOINT op"); err != nil {
			_ = tx.Rollback()
			return nil, -1, unavailable(fmt.Errorf("savepoint: %w", err))
		}
		var panicked bool
		if panicked, results[i] = s.runOp(op, tx); panicked {
			_ = tx.Rollback() // the transaction's state is unknown
			return results, i, nil
		}
		if results[i] != nil {
			if _, err := s.exec(op.ctx, tx, "ROLLBACK TO op"); err != nil {
				// The op's error ended the whole transaction.
				_ = tx.Rollback()
				return results, i, nil
			}
		}
		if _, err := s.exec(op.ctx, tx, "RELEASE op"); err != nil {
			_ = tx.Rollback()
			if results[i] != nil {
				return results, i, nil
			}
			return nil, -1, unavailable(fmt.Errorf("release savepoint: %w", err))
		}
	}
	if err := tx.Commit(); err != nil {
		if errors.Is(err, sql.ErrTxDone) {
			return nil, -1, fmt.Errorf("commit: transaction ended early: %w", err)
		}
		return nil, -1, unavailable(fmt.Errorf("commit: %w", err))
	}
	s.commits.Add(1)
	return results, -1, nil
}

// runOp runs op.fn, turning a panic into an error (and panicked true) so
// that one bad write cannot take the writer goroutine, and the store, down.
func (s *Store) runOp(op *writeOp, tx *sql.Tx) (panicked bool, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("panic in a store write", "panic", p, "stack", string(debug.Stack()))
			panicked, err = true, fmt.Errorf("store write panicked: %v", p)
		}
	}()
	return false, op.fn(op.ctx, tx)
}

package horde_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// newFakeClock is a clock the test moves by hand.
func newFakeClock() *storetest.Clock {
	return storetest.NewClock(time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC))
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// env is a horde on a real store: SQLite in a temp dir with its queue in
// memory, or (HORDEBOT_TEST_ENGINE=postgres) a PostgreSQL schema of its own
// with the shared queue, so that one suite holds both queues to the same
// behaviour.
type env struct {
	tb    testing.TB
	ctx   context.Context
	clock *storetest.Clock
	dir   string
	cfg   horde.Config
	st    *store.Store
	h     *horde.Horde
	keys  *atomic.Int64
	// shared: the horde runs on the store's shared queue (PostgreSQL only,
	// see newSharedEnv).
	shared bool
}

func newEnv(tb testing.TB, cfg horde.Config) *env {
	tb.Helper()
	return newEnvOn(tb, cfg, context.Background(), storetest.Postgres())
}

// newEnvOn is newEnv with the context its calls use and whether the horde
// queues in the database (the shared queue, PostgreSQL only).
func newEnvOn(tb testing.TB, cfg horde.Config, ctx context.Context, shared bool) *env {
	tb.Helper()
	e := &env{tb: tb, ctx: ctx, clock: newFakeClock(), dir: tb.TempDir(), keys: new(atomic.Int64), shared: shared}
	cfg.Clock = e.clock
	cfg.Logger = discard
	e.cfg = cfg
	e.open()
	tb.Cleanup(func() {
		if err := e.st.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return e
}

func (e *env) open() {
	e.tb.Helper()
	db := storetest.Database(e.tb, e.dir)
	if e.shared {
		db = storetest.PostgresDatabase(e.tb, e.dir)
	}
	st, err := store.Open(e.ctx, db, store.Options{Clock: e.clock, Logger: discard, MaxConns: storetest.TestMaxConns})
	if err != nil {
		e.tb.Fatalf("open store: %v", err)
	}
	e.st = st
	cfg := e.cfg
	if e.shared {
		cfg.Queue = st.SharedQueue()
	}
	h, err := horde.New(e.ctx, st, cfg)
	if err != nil {
		e.tb.Fatalf("new horde: %v", err)
	}
	e.h = h
}

// restart closes the store and builds a new horde from the same files, as a
// process restart would.
func (e *env) restart() {
	e.tb.Helper()
	if err := e.st.Close(); err != nil {
		e.tb.Fatalf("close store: %v", err)
	}
	e.open()
}

// user creates an API user with the given balance and returns its credential.
func (e *env) user(name string, balance int64) horde.Credential {
	e.tb.Helper()
	_, key, err := e.h.CreateUser(e.ctx, name)
	if err != nil {
		e.tb.Fatalf("create user %s: %v", name, err)
	}
	c, err := e.h.Authenticate(e.ctx, key)
	if err != nil {
		e.tb.Fatalf("authenticate %s: %v", name, err)
	}
	e.give(c.User.ID, balance)
	return c
}

func (e *env) give(userID, amount int64) {
	e.tb.Helper()
	if amount == 0 {
		return
	}
	_, err := e.st.Apply(e.ctx, kudos.Entry{
		UserID: userID, Delta: amount, Kind: kudos.KindAdmin, Reason: "test",
		Key: fmt.Sprintf("test:%d", e.keys.Add(1)), Floor: kudos.NoFloor, At: e.clock.Now(),
	})
	if err != nil {
		e.tb.Fatalf("give %d kudos to %d: %v", amount, userID, err)
	}
}

func (e *env) balance(userID int64) int64 {
	e.tb.Helper()
	b, err := e.st.Balance(e.ctx, userID)
	if err != nil {
		e.tb.Fatalf("balance of %d: %v", userID, err)
	}
	return b
}

func (e *env) submit(c horde.Credential, nr horde.NewRequest) horde.Request {
	e.tb.Helper()
	r, _, err := e.h.Submit(e.ctx, c.User, nr)
	if err != nil {
		e.tb.Fatalf("submit: %v", err)
	}
	return r
}

func (e *env) pop(c horde.Credential, p horde.PopRequest) ([]horde.Assignment, horde.Skipped) {
	e.tb.Helper()
	as, sk, err := e.h.Pop(e.ctx, c, p)
	if err != nil {
		e.tb.Fatalf("pop as %s: %v", p.Name, err)
	}
	return as, sk
}

// popOne pops and returns the one job expected, failing otherwise.
func (e *env) popOne(c horde.Credential, p horde.PopRequest) horde.Assignment {
	e.tb.Helper()
	as, sk := e.pop(c, p)
	if len(as) != 1 {
		e.tb.Fatalf("pop as %s: got %d jobs (skipped %v), want 1", p.Name, len(as), sk)
	}
	return as[0]
}

func (e *env) check(id string) horde.Progress {
	e.tb.Helper()
	p, err := e.h.Check(e.ctx, id)
	if err != nil {
		e.tb.Fatalf("check %s: %v", id, err)
	}
	return p
}

func (e *env) submitOK(c horde.Credential, jobID string) int64 {
	e.tb.Helper()
	reward, err := e.h.SubmitResult(e.ctx, c, horde.Submission{JobID: jobID, State: horde.ResultOK, Image: []byte("RIFF....WEBPfake")})
	if err != nil {
		e.tb.Fatalf("submit result of %s: %v", jobID, err)
	}
	return reward
}

func imageRequest(prompt string, models ...string) horde.NewRequest {
	return horde.NewRequest{
		Kind:   horde.KindImage,
		Prompt: prompt,
		Models: models,
		N:      1,
		Image:  &horde.ImageParams{Width: 512, Height: 512, Steps: 20},
	}
}

func textRequest(prompt string, maxLength, maxContext int) horde.NewRequest {
	return horde.NewRequest{
		Kind:   horde.KindText,
		Prompt: prompt,
		N:      1,
		Text:   &horde.TextParams{MaxLength: maxLength, MaxContextLength: maxContext},
	}
}

func imagePop(name string, models ...string) horde.PopRequest {
	return horde.PopRequest{Kind: horde.KindImage, Name: name, Models: models, MaxPixels: 1024 * 1024, Amount: 1}
}

// Package storetest helps tests that run against the real store: a clock
// the test moves by hand and a store opened for a test directory and closed
// when the test ends, on SQLite or, with HORDEBOT_TEST_ENGINE=postgres, on
// PostgreSQL (engine.go). Only test code imports it.
package storetest

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
)

// Clock is a horde.Clock that stands still until the test sets or advances
// it. It is safe for concurrent use.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

var _ horde.Clock = (*Clock)(nil)

// NewClock returns a clock standing at now.
func NewClock(now time.Time) *Clock {
	return &Clock{now: now}
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set puts the clock at t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// MustOpen opens the store for dir (Database) with clock and no logging,
// and closes it when the test ends; an error opening or closing it fails
// the test.
func MustOpen(tb testing.TB, dir string, clock horde.Clock) *store.Store {
	tb.Helper()
	return MustOpenWith(tb, dir, store.Options{Clock: clock})
}

// MustOpenWith is MustOpen with options (no logging unless opt.Logger is
// set; TestMaxConns on PostgreSQL unless opt.MaxConns is).
func MustOpenWith(tb testing.TB, dir string, opt store.Options) *store.Store {
	tb.Helper()
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.MaxConns == 0 {
		opt.MaxConns = TestMaxConns
	}
	s, err := store.Open(context.Background(), Database(tb, dir), opt)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close store: %v", err)
		}
	})
	return s
}

package web

import (
	"context"
	"sync"
	"time"
)

// memo keeps the slow aggregates (the leaderboards, the month's charts) so
// that no page waits for them once computed: a value older than ttl is still
// served while one refresh computes its successor in the background. Only
// the first read of a key computes while the page waits. ttl < 0 computes on
// every read (tests that change the store between loads).
type memo[T any] struct {
	mu      sync.Mutex
	ttl     time.Duration
	max     int // keys kept at most; past it the memo starts afresh (0: no bound)
	entries map[string]*memoEntry[T]
	log     func(key string, err error)
}

type memoEntry[T any] struct {
	ready      chan struct{} // closed once the first computation ended
	val        T
	err        error
	at         time.Time
	refreshing bool
}

// refreshTimeout bounds a background refresh.
const refreshTimeout = 30 * time.Second

func newMemo[T any](ttl time.Duration, log func(string, error)) *memo[T] {
	return &memo[T]{ttl: ttl, entries: map[string]*memoEntry[T]{}, log: log}
}

// get returns key's value, computing it with fn when there is none yet.
// A failed first computation is returned and retried by the next read.
func (m *memo[T]) get(ctx context.Context, key string, now time.Time, fn func(context.Context) (T, error)) (T, error) {
	if m.ttl < 0 {
		return fn(ctx)
	}
	m.mu.Lock()
	e := m.entries[key]
	if e == nil {
		if m.max > 0 && len(m.entries) >= m.max {
			m.entries = map[string]*memoEntry[T]{} // a flood of keys cannot grow it
		}
		e = &memoEntry[T]{ready: make(chan struct{})}
		m.entries[key] = e
		m.mu.Unlock()
		e.val, e.err = fn(ctx)
		m.mu.Lock()
		e.at = now
		if e.err != nil && m.entries[key] == e {
			delete(m.entries, key) // the next read tries again
		}
		close(e.ready)
		m.mu.Unlock()
		return e.val, e.err
	}
	m.mu.Unlock()
	select {
	case <-e.ready:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if e.err != nil {
		return e.val, e.err
	}
	if now.Sub(e.at) >= m.ttl && !e.refreshing {
		e.refreshing = true
		go m.refresh(e, key, now, fn)
	}
	return e.val, nil
}

// refresh computes a successor for a stale entry; a failure keeps the old
// value (and is logged) until the next refresh.
func (m *memo[T]) refresh(e *memoEntry[T], key string, now time.Time, fn func(context.Context) (T, error)) {
	ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
	defer cancel()
	v, err := fn(ctx)
	m.mu.Lock()
	defer m.mu.Unlock()
	e.refreshing = false
	if err != nil {
		if m.log != nil {
			m.log(key, err)
		}
		return
	}
	e.val, e.at = v, now
}

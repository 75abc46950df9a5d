package web

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"
)

// TestMemo: the first read computes; a fresh value is reused; a stale one
// is served while one background refresh replaces it; a failure is not
// kept; a flood of keys does not grow the memo past its bound.
func TestMemo(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)
	m := newMemo[int](time.Minute, nil)
	calls := 0
	refreshed := make(chan struct{}, 1)
	fn := func(context.Context) (int, error) {
		calls++
		if calls > 1 {
			defer func() { refreshed <- struct{}{} }()
		}
		return calls * 10, nil
	}
	if v, err := m.get(ctx, "k", at, fn); v != 10 || err != nil {
		t.Fatalf("first read: %d, %v", v, err)
	}
	if v, _ := m.get(ctx, "k", at.Add(30*time.Second), fn); v != 10 || calls != 1 {
		t.Fatalf("fresh read: %d after %d computations, want 10 after 1", v, calls)
	}
	if v, _ := m.get(ctx, "k", at.Add(2*time.Minute), fn); v != 10 {
		t.Fatalf("stale read: %d, want the old 10 while it refreshes", v)
	}
	<-refreshed // the refresh computed; it stores its value right after
	for {
		v, _ := m.get(ctx, "k", at.Add(2*time.Minute), fn)
		if v == 20 {
			break
		}
		if v != 10 {
			t.Fatalf("after the refresh: %d, want 20", v)
		}
		runtime.Gosched()
	}
	if calls != 2 {
		t.Errorf("%d computations, want 2 (one refresh)", calls)
	}

	fails := 0
	bad := func(context.Context) (int, error) { fails++; return 0, errors.New("down") }
	for i := 0; i < 2; i++ {
		if _, err := m.get(ctx, "bad", at, bad); err == nil {
			t.Fatal("a failed computation returned no error")
		}
	}
	if fails != 2 {
		t.Errorf("a failure was kept: %d computations for two reads, want 2", fails)
	}

	m.max = 10
	for i := 0; i < 100; i++ {
		_, _ = m.get(ctx, fmt.Sprint("flood", i), at, func(context.Context) (int, error) { return i, nil })
	}
	if n := len(m.entries); n > 10 {
		t.Errorf("%d keys kept, want at most 10", n)
	}
}

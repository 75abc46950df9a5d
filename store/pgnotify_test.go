package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// TestEventsAnnouncedOnCommit: on PostgreSQL a request's end is NOTIFYed
// by the transaction that ends it, so a listener hears the ends that were
// committed, in commit order, and nothing of a write that was refused (its
// SAVEPOINT rolled back) or changed nothing (a second end).
func TestEventsAnnouncedOnCommit(t *testing.T) {
	ctx := context.Background()
	s, err := store.Open(ctx, storetest.PostgresDatabase(t, t.TempDir()), store.Options{Clock: newFakeClock(), Logger: quietLogger, MaxConns: storetest.TestMaxConns})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	hub := horde.NewEventHub()
	events, stop := hub.Subscribe("")
	defer stop()
	lctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.ListenEvents(lctx, hub) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("ListenEvents = %v, want context.Canceled once stopped", err)
		}
	}()
	next := func() horde.Event {
		t.Helper()
		select {
		case e := <-events:
			return e
		case <-time.After(30 * time.Second):
			t.Fatal("no event within 30 s")
			return horde.Event{}
		}
	}
	if e := next(); e.Kind != horde.EventResync {
		t.Fatalf("first event %+v, want a resync once listening", e)
	}

	owner, poor := mustUser(t, s, "owner"), mustUser(t, s, "poor")
	mustRequest(t, s, "refused", poor.ID, 1)
	mustRequest(t, s, "served", poor.ID, 1)
	mustRequest(t, s, "cancelled", poor.ID, 2)
	f := finish(mustStart(t, s, "j-refused", "refused", 0, "w"), horde.RequestDone, owner.ID, poor.ID, 30)
	f.Entries[1].Floor = -10
	if err := s.FinishJob(ctx, f); !errors.Is(err, kudos.ErrInsufficient) {
		t.Fatalf("finish past the floor = %v, want ErrInsufficient", err)
	}
	if err := s.FinishJob(ctx, finish(mustStart(t, s, "j-served", "served", 0, "w"), horde.RequestDone, owner.ID, poor.ID, 5)); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second end changes nothing and says nothing
		err := s.EndRequest(ctx, "cancelled", horde.RequestCancelled, "by the requester", time.Time{})
		if err != nil && !errors.Is(err, horde.ErrDuplicate) {
			t.Fatal(err)
		}
	}
	if err := s.EndRequest(ctx, "refused", horde.RequestFaulted, "test", time.Time{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"served", "cancelled", "refused"} {
		if e := next(); e != (horde.Event{Kind: horde.EventFinished, RequestID: want}) {
			t.Fatalf("event %+v, want the end of %s", e, want)
		}
	}
}

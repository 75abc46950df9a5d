package horde_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store/storetest"
)

func TestEventHub(t *testing.T) {
	t.Parallel()
	finished := func(id string) horde.Event { return horde.Event{Kind: horde.EventFinished, RequestID: id} }
	resync := horde.Event{Kind: horde.EventResync}
	for _, tc := range []struct {
		name      string
		subscribe string        // the subscription's request id
		publish   []horde.Event // in order
		want      []horde.Event // what the subscription then holds (one at most)
	}{
		{"a request's subscriber hears it finish", "r1", []horde.Event{finished("r1")}, []horde.Event{finished("r1")}},
		{"a request's subscriber does not hear another's", "r1", []horde.Event{finished("r2")}, nil},
		{"a subscriber of every request hears each", "", []horde.Event{finished("r2")}, []horde.Event{finished("r2")}},
		{"every subscriber hears a resync", "r1", []horde.Event{resync}, []horde.Event{resync}},
		{"an event not taken yet is not doubled, and publishing never blocks", "r1",
			[]horde.Event{finished("r1"), finished("r1"), resync}, []horde.Event{finished("r1")}},
		{"a subscriber of every request holds several", "",
			[]horde.Event{finished("r1"), finished("r2"), resync}, []horde.Event{finished("r1"), finished("r2"), resync}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hub := horde.NewEventHub()
			c, stop := hub.Subscribe(tc.subscribe)
			for _, e := range tc.publish {
				hub.Publish(e)
			}
			var got []horde.Event
		drain:
			for {
				select {
				case e := <-c:
					got = append(got, e)
				default:
					break drain
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("the subscription holds %v, want %v", got, tc.want)
			}
			stop()
			stop() // twice is harmless
			if n := hub.Subscribers(); n != 0 {
				t.Fatalf("%d subscriptions after stop, want 0", n)
			}
			hub.Publish(finished("r1"))
			select {
			case e := <-c:
				t.Fatalf("a stopped subscription received %v", e)
			default:
			}
		})
	}
}

// listenEvents runs e's store listener (PostgreSQL: LISTEN; SQLite: the
// Horde publishes and the listener returns at once) into hub until the
// test ends, and returns once it listens.
func listenEvents(tb testing.TB, e *env, hub *horde.EventHub) {
	tb.Helper()
	ready, stopReady := hub.Subscribe("")
	defer stopReady()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.st.ListenEvents(ctx, hub) }()
	tb.Cleanup(func() { // before the store closes (cleanups run last first)
		cancel()
		<-done
	})
	if e.st.EventsChannel() == "" {
		return
	}
	waitEvent(tb, ready, func(ev horde.Event) bool { return ev.Kind == horde.EventResync })
}

// waitEvent waits for an event on c that want accepts, failing the test if
// none comes within a generous bound (a hang, not a timing assertion).
func waitEvent(tb testing.TB, c <-chan horde.Event, want func(horde.Event) bool) horde.Event {
	tb.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	for {
		select {
		case ev := <-c:
			if want(ev) {
				return ev
			}
		case <-deadline.C:
			tb.Fatal("no such event within 30 s")
			return horde.Event{}
		}
	}
}

// TestFinishedEvents: a request that finishes (its last result, cancelled,
// faulted) is announced once stored, on both engines: by the Horde on
// SQLite, by the store's NOTIFY and its listener on PostgreSQL.
func TestFinishedEvents(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(e *env, req horde.Request, worker horde.Credential)
	}{
		{"its last result", func(e *env, req horde.Request, worker horde.Credential) {
			as := e.popOne(worker, imagePop("gpu"))
			e.submitOK(worker, as.Job.ID)
		}},
		{"cancelled by its requester", func(e *env, req horde.Request, _ horde.Credential) {
			if _, _, err := e.h.Cancel(e.ctx, req.ID); err != nil {
				t.Fatal(err)
			}
		}},
		{"faulted by its workers", func(e *env, req horde.Request, worker horde.Credential) {
			for i := 0; i <= horde.MaxFaults; i++ {
				as := e.popOne(worker, imagePop("gpu"))
				if _, err := e.h.SubmitResult(e.ctx, worker, horde.Submission{JobID: as.Job.ID, State: horde.ResultFaulted}); err != nil {
					t.Fatal(err)
				}
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hub := horde.NewEventHub()
			e := newEnv(t, horde.Config{Events: hub, DropsForMaintenance: 100})
			listenEvents(t, e, hub)
			alice, bob := e.user("alice", 1000), e.user("bob", 0)
			req := e.submit(alice, imageRequest("a lighthouse"))
			c, stop := hub.Subscribe(req.ID)
			defer stop()
			tc.end(e, req, bob)
			ev := waitEvent(t, c, func(ev horde.Event) bool { return ev.Kind == horde.EventFinished })
			if ev.RequestID != req.ID {
				t.Fatalf("event %+v, want the end of %s", ev, req.ID)
			}
			if p := e.check(req.ID); !p.Done {
				t.Fatalf("after the event the request is not finished: %+v", p)
			}
		})
	}
}

// TestEventsAcrossProcesses: a result submitted on B finishes a request
// accepted on A, and A hears it through the notification; A's listener
// survives an administrator ending its connection.
func TestEventsAcrossProcesses(t *testing.T) {
	hub := horde.NewEventHub()
	a := newSharedEnv(t, horde.Config{Events: hub})
	b := a.peer() // its own store and pool; its events go to the database only
	listenEvents(t, a, hub)
	alice, bob := a.user("alice", 1000), a.user("bob", 0)

	finishOnB := func(prompt string) horde.Request {
		t.Helper()
		req := a.submit(alice, imageRequest(prompt))
		c, stop := hub.Subscribe(req.ID)
		defer stop()
		as := b.popOne(bob, imagePop("bob-gpu"))
		b.submitOK(bob, as.Job.ID)
		ev := waitEvent(t, c, func(ev horde.Event) bool { return ev.Kind == horde.EventFinished })
		if ev.RequestID != req.ID {
			t.Fatalf("A heard %+v, want the end of %s", ev, req.ID)
		}
		if p := a.check(req.ID); !p.Done {
			t.Fatalf("A heard the end of %s but reads %+v", req.ID, p)
		}
		return req
	}
	finishOnB("a lighthouse")

	// An administrator (or a failover) ends the listener's connection: it
	// connects again and says events may have been missed.
	db, err := sql.Open("pgx", storetest.PostgresDatabase(t, a.dir))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	all, stop := hub.Subscribe("")
	defer stop()
	var ended int
	if err := db.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`,
		"hordebot events "+a.st.EventsChannel()).Scan(&ended); err != nil {
		t.Fatal(err)
	}
	if ended != 1 {
		t.Fatalf("ended %d listener connections, want 1", ended)
	}
	waitEvent(t, all, func(ev horde.Event) bool { return ev.Kind == horde.EventResync })
	finishOnB("a lighthouse, again")
}

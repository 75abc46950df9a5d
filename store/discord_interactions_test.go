package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hordebot/hordebot/bot/deferredix"
	"github.com/hordebot/hordebot/horde"
)

// TestDiscordInteractionsQueueOnce: a recorded interaction is recorded
// once, claimed by one process at a time, and linked to the first request
// stored for it; a second request for it is refused and not stored.
func TestDiscordInteractionsQueueOnce(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	s := mustOpenDir(t, t.TempDir(), clock)
	u := mustUser(t, s, "alice")
	now := clock.Now()
	rec := deferredix.Record{ID: "ix1", GuildID: "g1", CreatedAt: now, Payload: []byte(`{"id":"ix1"}`), Owner: "A", ClaimUntil: now.Add(time.Minute)}
	if ok, err := s.RecordDiscordInteraction(ctx, rec); err != nil || !ok {
		t.Fatalf("first record: %v %v, want true", ok, err)
	}
	replay := rec
	replay.Owner = "B"
	if ok, err := s.RecordDiscordInteraction(ctx, replay); err != nil || ok {
		t.Fatalf("replayed record: %v %v, want false", ok, err)
	}

	for _, c := range []struct {
		name     string
		owner    string
		now      time.Time
		takeover bool
		want     bool
	}{
		{"the owner does not claim its own", "A", now.Add(2 * time.Minute), false, false},
		{"another waits while the claim lasts", "B", now.Add(30 * time.Second), false, false},
		{"a sole process takes over at once", "B", now.Add(time.Second), true, true},
		{"a third waits for the new claim", "C", now.Add(2 * time.Second), false, false},
		{"a third takes it once it lapsed", "C", now.Add(2 * time.Minute), false, true},
	} {
		got, err := s.ClaimDiscordInteraction(ctx, "ix1", c.owner, c.now, c.now.Add(time.Minute), c.takeover)
		if err != nil || got != c.want {
			t.Errorf("%s: claimed %v (%v), want %v", c.name, got, err, c.want)
		}
	}
	if ok, err := s.RenewDiscordInteraction(ctx, "ix1", "B", now.Add(time.Hour)); err != nil || ok {
		t.Fatalf("B renewed a claim C took over: %v %v", ok, err)
	}
	if ok, err := s.RenewDiscordInteraction(ctx, "ix1", "C", now.Add(3*time.Minute)); err != nil || !ok {
		t.Fatalf("C could not renew its claim: %v %v", ok, err)
	}
	if ok, _ := s.ClaimDiscordInteraction(ctx, "ix1", "D", now.Add(2*time.Minute+30*time.Second), now.Add(4*time.Minute), false); ok {
		t.Fatal("a renewed claim was taken before it lapsed")
	}
	open, err := s.PendingDiscordInteractions(ctx, 10)
	if err != nil || len(open) != 1 || open[0].Owner != "C" || string(open[0].Payload) != `{"id":"ix1"}` || open[0].GuildID != "g1" ||
		open[0].State != deferredix.Open {
		t.Fatalf("pending interactions %+v (%v), want ix1 open, claimed by C", open, err)
	}

	first := imageRequest("req-1", u.ID, 1)
	first.Extras = &horde.RequestExtras{Interaction: "ix1"}
	if err := s.CreateRequest(ctx, first); err != nil {
		t.Fatal(err)
	}
	state, reqID, err := s.DiscordInteractionState(ctx, "ix1")
	if err != nil || state != deferredix.Queued || reqID != "req-1" {
		t.Fatalf("after the request: %s %q (%v), want queued req-1", state, reqID, err)
	}
	second := imageRequest("req-2", u.ID, 1)
	second.Extras = &horde.RequestExtras{Interaction: "ix1"}
	err = s.CreateRequest(ctx, second)
	wantKind(t, err, horde.KindConflict, horde.ErrDuplicate)
	if _, err := s.Request(ctx, "req-2"); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("the second request of one interaction was stored (%v)", err)
	}
	// Queued, its delivery not saved yet: pending, claimed by its runner
	// still, until the delivery is saved.
	if pending, _ := s.PendingDiscordInteractions(ctx, 10); len(pending) != 1 || pending[0].State != deferredix.Queued || pending[0].RequestID != "req-1" {
		t.Fatalf("pending after the request: %+v, want ix1 queued with req-1", pending)
	}
	if ok, _ := s.ClaimDiscordInteraction(ctx, "ix1", "D", now.Add(2*time.Minute), now.Add(3*time.Minute), false); ok {
		t.Fatal("a queued interaction was claimed while its runner's claim lasted")
	}
	if err := s.SaveDiscordDelivery(ctx, "req-1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if state, _, _ := s.DiscordInteractionState(ctx, "ix1"); state != deferredix.Watched {
		t.Fatalf("after its delivery was saved the interaction is %s, want watched", state)
	}
	if ok, _ := s.ClaimDiscordInteraction(ctx, "ix1", "D", now.Add(time.Hour), now.Add(2*time.Hour), true); ok {
		t.Fatal("a watched interaction was claimed")
	}
	if pending, _ := s.PendingDiscordInteractions(ctx, 10); len(pending) != 0 {
		t.Fatalf("a watched interaction is listed pending: %+v", pending)
	}

	t.Run("an unrecorded interaction links nothing", func(t *testing.T) {
		r := imageRequest("req-3", u.ID, 1)
		r.Extras = &horde.RequestExtras{Interaction: "never-recorded"}
		if err := s.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.DiscordInteractionState(ctx, "never-recorded"); !horde.IsKind(err, horde.KindNotFound) {
			t.Fatalf("state of an unrecorded interaction: %v, want not found", err)
		}
	})
	t.Run("an answered interaction queues nothing", func(t *testing.T) {
		rec := deferredix.Record{ID: "ix2", CreatedAt: now, Payload: []byte(`{}`), Owner: "A", ClaimUntil: now.Add(time.Minute)}
		if _, err := s.RecordDiscordInteraction(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if err := s.AnswerDiscordInteraction(ctx, "ix2"); err != nil {
			t.Fatal(err)
		}
		r := imageRequest("req-4", u.ID, 1)
		r.Extras = &horde.RequestExtras{Interaction: "ix2"}
		wantKind(t, s.CreateRequest(ctx, r), horde.KindConflict, horde.ErrDuplicate)
	})
	t.Run("a stopping process releases its claims", func(t *testing.T) {
		rec := deferredix.Record{ID: "ix3", CreatedAt: now, Payload: []byte(`{}`), Owner: "A", ClaimUntil: now.Add(time.Hour)}
		if _, err := s.RecordDiscordInteraction(ctx, rec); err != nil {
			t.Fatal(err)
		}
		if err := s.ReleaseDiscordInteractions(ctx, "A"); err != nil {
			t.Fatal(err)
		}
		if ok, err := s.ClaimDiscordInteraction(ctx, "ix3", "B", now, now.Add(time.Minute), false); err != nil || !ok {
			t.Fatalf("claim of a released interaction: %v %v", ok, err)
		}
	})
	t.Run("old interactions are pruned", func(t *testing.T) {
		old := deferredix.Record{ID: "ix-old", CreatedAt: now.Add(-2 * time.Hour), Payload: []byte(`{}`), Owner: "A"}
		if _, err := s.RecordDiscordInteraction(ctx, old); err != nil {
			t.Fatal(err)
		}
		n, err := s.PruneDiscordInteractions(ctx, now.Add(-time.Hour))
		if err != nil || n != 1 {
			t.Fatalf("pruned %d (%v), want 1", n, err)
		}
		if _, _, err := s.DiscordInteractionState(ctx, "ix1"); err != nil {
			t.Fatalf("a recent interaction was pruned: %v", err)
		}
	})
}

// TestDiscordInteractionsInterrogateOnce: an interrogation (describe,
// upscale) links its recorded interaction in the write that stores it, as
// a request does, on the one-process path (CreateInterrogation) and the
// shared queue's (AdmitInterrogation, PostgreSQL); a second interrogation
// for the interaction is refused and not stored; saving the delivery
// marks it watched.
func TestDiscordInteractionsInterrogateOnce(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	s := mustOpenDir(t, t.TempDir(), clock)
	u := mustUser(t, s, "alice")
	now := clock.Now()
	paths := []struct {
		name  string
		store func(horde.Interrogation) error
	}{{"one process", func(in horde.Interrogation) error { return s.CreateInterrogation(ctx, in) }}}
	if q := s.SharedQueue(); q != nil {
		paths = append(paths, struct {
			name  string
			store func(horde.Interrogation) error
		}{"shared queue", func(in horde.Interrogation) error {
			return q.AdmitInterrogation(ctx, in, func(horde.Holding) error { return nil })
		}})
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			ix := "ix-" + p.name
			rec := deferredix.Record{ID: ix, CreatedAt: now, Payload: []byte(`{}`), Owner: "A", ClaimUntil: now.Add(time.Minute)}
			if ok, err := s.RecordDiscordInteraction(ctx, rec); err != nil || !ok {
				t.Fatalf("record: %v %v", ok, err)
			}
			interrogation := func(id string) horde.Interrogation {
				ref, err := s.PutBlob(ctx, []byte("source "+id))
				if err != nil {
					t.Fatal(err)
				}
				return horde.Interrogation{ID: id, UserID: u.ID, SourceRef: ref, Width: 64, Height: 64, Tiles: 1, SlowWorkers: true,
					CreatedAt: now, Interaction: ix, Forms: []horde.AlchemyForm{{ID: id + "-caption", Name: "caption", Kudos: 3, Cost: 5}}}
			}
			first, second := interrogation(p.name+"-1"), interrogation(p.name+"-2")
			if err := p.store(first); err != nil {
				t.Fatal(err)
			}
			if state, id, err := s.DiscordInteractionState(ctx, ix); err != nil || state != deferredix.Queued || id != first.ID {
				t.Fatalf("after the interrogation: %s %q (%v), want queued %s", state, id, err, first.ID)
			}
			err := p.store(second)
			wantKind(t, err, horde.KindConflict, horde.ErrDuplicate)
			if he := (*horde.Error)(nil); !errors.As(err, &he) || he.Code != horde.CodeInteractionQueued {
				t.Fatalf("the second interrogation was refused with %v, want %s", err, horde.CodeInteractionQueued)
			}
			if _, err := s.Interrogation(ctx, second.ID); !horde.IsKind(err, horde.KindNotFound) {
				t.Fatalf("the second interrogation of one interaction was stored (%v)", err)
			}
			if err := s.SaveDiscordDelivery(ctx, first.ID, []byte(`{}`)); err != nil {
				t.Fatal(err)
			}
			if state, _, _ := s.DiscordInteractionState(ctx, ix); state != deferredix.Watched {
				t.Fatalf("after its delivery was saved the interaction is %s, want watched", state)
			}
		})
	}
}

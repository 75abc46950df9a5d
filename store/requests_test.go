package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
)

func TestCreateRequestRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	tests := []struct {
		name string
		r    horde.Request
	}{
		{"image", imageRequest("img", 0, 4)},
		{"text", horde.Request{ID: "txt", Kind: horde.KindText, UserID: 0, Prompt: "once upon", N: 1,
			Text:    &horde.TextParams{MaxLength: 80, MaxContextLength: 1024, StopSequence: []string{"\n"}},
			Workers: []string{"w1", "w2"}, WorkerBlacklist: true, NSFW: true, TrustedWorkers: true, Shared: true,
			Kudos: 3, Priority: 100, CreatedAt: time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)}},
		{"worker choices", func() horde.Request {
			r := imageRequest("fast", 0, 2)
			r.FastWorkersOnly, r.ExtraSlowWorkers, r.DisableBatching = true, true, true
			return r
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.CreateRequest(ctx, tc.r); err != nil {
				t.Fatal(err)
			}
			got, err := s.Request(ctx, tc.r.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.r
			want.State = horde.RequestWaiting
			if want.CreatedAt.IsZero() {
				want.CreatedAt = got.CreatedAt
				if got.CreatedAt.IsZero() {
					t.Fatal("no creation time")
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestCreateRequestRefusals(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	mustRequest(t, s, "r1", 0, 1)
	tests := []struct {
		name string
		r    horde.Request
		kind horde.Kind
	}{
		{"id taken", imageRequest("r1", 0, 1), horde.KindConflict},
		{"no id", imageRequest("", 0, 1), horde.KindInvalid},
		{"no items", imageRequest("r2", 0, 0), horde.KindInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantKind(t, s.CreateRequest(ctx, tc.r), tc.kind, nil)
		})
	}
	if _, err := s.Request(ctx, "r2"); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("refused request exists: %v", err)
	}
}

func TestRequestNotFound(t *testing.T) {
	s := mustOpen(t)
	_, err := s.Request(context.Background(), "nope")
	wantKind(t, err, horde.KindNotFound, horde.ErrNotFound)
}

func TestOpenReturnsUnfinishedWork(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	worker := mustUser(t, s, "worker")
	base := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for i, r := range []horde.Request{
		imageRequest("waiting", 0, 2), imageRequest("busy", 0, 3), imageRequest("done", 0, 1), imageRequest("cancelled", 0, 2),
	} {
		r.CreatedAt = base.Add(time.Duration(i) * time.Second) // Open lists oldest first
		if err := s.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
	}

	mustStart(t, s, "j-busy-0", "busy", 0, "w")
	j1 := mustStart(t, s, "j-busy-1", "busy", 1, "w")
	if err := s.FinishJob(ctx, finish(j1, horde.RequestProcessing, worker.ID, 0, 5)); err != nil {
		t.Fatal(err)
	}
	jd := mustStart(t, s, "j-done", "done", 0, "w")
	if err := s.FinishJob(ctx, finish(jd, horde.RequestDone, worker.ID, 0, 5)); err != nil {
		t.Fatal(err)
	}
	mustStart(t, s, "j-cancelled", "cancelled", 0, "w")
	if err := s.EndRequest(ctx, "cancelled", horde.RequestCancelled, "user", time.Time{}); err != nil {
		t.Fatal(err)
	}

	snap, err := s.Open(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range snap.Requests {
		ids = append(ids, r.ID)
	}
	if !reflect.DeepEqual(ids, []string{"waiting", "busy"}) {
		t.Fatalf("open requests = %v", ids)
	}
	if snap.Requests[1].State != horde.RequestProcessing {
		t.Fatalf("busy request state = %s", snap.Requests[1].State)
	}
	if len(snap.Jobs) != 1 || snap.Jobs[0].ID != "j-busy-0" || snap.Jobs[0].State != horde.JobProcessing {
		t.Fatalf("open jobs = %+v", snap.Jobs)
	}
	if !reflect.DeepEqual(snap.Done, map[string]int{"busy": 1}) {
		t.Fatalf("done counts = %v", snap.Done)
	}
}

func TestEndRequest(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	tests := []struct {
		state    horde.RequestState
		wantItem horde.ItemState
	}{
		{horde.RequestCancelled, horde.ItemCancelled},
		{horde.RequestFaulted, horde.ItemFaulted},
	}
	for _, tc := range tests {
		t.Run(string(tc.state), func(t *testing.T) {
			id := "r-" + string(tc.state)
			mustRequest(t, s, id, 0, 2)
			mustStart(t, s, id+"-j0", id, 0, "w")
			if err := s.EndRequest(ctx, id, tc.state, "because", time.Time{}); err != nil {
				t.Fatal(err)
			}
			r, err := s.Request(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if r.State != tc.state || r.Reason != "because" {
				t.Fatalf("request = %s %q", r.State, r.Reason)
			}
			j, err := s.Job(ctx, id+"-j0")
			if err != nil {
				t.Fatal(err)
			}
			if j.State != horde.JobCancelled || j.FinishedAt.IsZero() {
				t.Fatalf("job = %+v, want cancelled", j)
			}
			// The item can no longer be popped, and the request no longer ended twice.
			err = s.StartJob(ctx, job(id+"-j1", id, 1, "w"))
			wantKind(t, err, horde.KindConflict, horde.ErrDuplicate)
			wantKind(t, s.EndRequest(ctx, id, horde.RequestDone, "", time.Time{}), horde.KindConflict, horde.ErrDuplicate)
			// The cancelled job cannot be submitted.
			wantKind(t, s.FinishJob(ctx, finish(j, horde.RequestDone, 0, 0, 1)), horde.KindConflict, horde.ErrDuplicate)
		})
	}
	wantKind(t, s.EndRequest(ctx, "nope", horde.RequestCancelled, "", time.Time{}), horde.KindNotFound, horde.ErrNotFound)
	mustRequest(t, s, "r-open", 0, 1)
	wantKind(t, s.EndRequest(ctx, "r-open", horde.RequestProcessing, "", time.Time{}), horde.KindInvalid, nil)
}

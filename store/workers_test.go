package store_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
)

func TestSaveWorkerRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	owner := mustUser(t, s, "owner")
	owner.Trusted = true
	if err := s.UpdateUser(ctx, owner); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	w := horde.Worker{
		ID: "w-1", Name: "Gpu Box", OwnerID: owner.ID, Kind: horde.KindText, Info: "a 4090",
		Models: []string{"llama", "mistral"}, MaxPixels: 0, NSFW: true, Blacklist: []string{"spiders"},
		AllowImg2Img: true, AllowPainting: true, AllowPostProcessing: true, AllowLora: true,
		MaxLength: 512, MaxContextLength: 4096, Threads: 2, BridgeAgent: "kobold:1",
		Maintenance: true, Paused: true, LastPop: at.Add(time.Hour), CreatedAt: at,
		Fulfilled: 5, Dropped: 1, KudosEarned: 70, UptimeSeconds: 3600, Performance: 12.5,
	}
	if err := s.SaveWorker(ctx, w); err != nil {
		t.Fatal(err)
	}
	ws, err := s.Workers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := w
	want.Trusted = true // copied from the owner
	if len(ws) != 1 || !reflect.DeepEqual(ws[0], want) {
		t.Fatalf("workers = %+v, want [%+v]", ws, want)
	}

	// An update by id keeps CreatedAt and changes the rest.
	w.Name, w.Models, w.Fulfilled, w.CreatedAt = "renamed", nil, 6, time.Time{}
	if err := s.SaveWorker(ctx, w); err != nil {
		t.Fatal(err)
	}
	ws, err = s.Workers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].Name != "renamed" || ws[0].Models != nil || ws[0].Fulfilled != 6 || !ws[0].CreatedAt.Equal(at) {
		t.Fatalf("after update: %+v", ws)
	}
}

func TestSaveWorkerRefusals(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	owner := mustUser(t, s, "owner")
	mustWorker(t, s, "a", owner.ID)
	tests := []struct {
		name string
		w    horde.Worker
		kind horde.Kind
	}{
		{"name taken", horde.Worker{ID: "b", Name: "worker-a", OwnerID: owner.ID}, horde.KindConflict},
		{"name taken in other case", horde.Worker{ID: "b", Name: "WORKER-A", OwnerID: owner.ID}, horde.KindConflict},
		{"unknown owner", horde.Worker{ID: "b", Name: "b", OwnerID: 12345}, horde.KindInvalid},
		{"no id", horde.Worker{Name: "b", OwnerID: owner.ID}, horde.KindInvalid},
		{"no name", horde.Worker{ID: "b", OwnerID: owner.ID}, horde.KindInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantKind(t, s.SaveWorker(ctx, tc.w), tc.kind, nil)
		})
	}
	ws, err := s.Workers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 {
		t.Fatalf("refused saves wrote workers: %+v", ws)
	}
}

func TestDeleteWorkerRemovesItsKey(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	owner := mustUser(t, s, "owner")
	mustWorker(t, s, "a", owner.ID)
	if err := s.SetWorkerKey(ctx, "a", horde.HashKey("wk")); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWorker(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Credential(ctx, horde.HashKey("wk")); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("deleted worker's key resolves: %v", err)
	}
	wantKind(t, s.DeleteWorker(ctx, "a"), horde.KindNotFound, horde.ErrNotFound)
	// The name is free again.
	mustWorker(t, s, "a", owner.ID)
}

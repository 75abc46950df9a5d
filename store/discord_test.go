package store_test

import (
	"context"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
)

func TestDiscordDeliveries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := newFakeClock()
	s, err := store.Open(ctx, dir, store.Options{Clock: clock, Logger: quietLogger})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"r1", "r2", "r3"} {
		if err := s.SaveDiscordDelivery(ctx, id, []byte(`{"request_id":"`+id+`"}`)); err != nil {
			t.Fatal(err)
		}
		clock.Advance(1)
	}
	if err := s.SaveDiscordDelivery(ctx, "r1", []byte(`{"request_id":"r1","v":2}`)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDiscordDelivery(ctx, "r2"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDiscordDelivery(ctx, "missing"); err != nil {
		t.Fatalf("deleting a missing delivery: %v", err)
	}
	if err := s.SaveDiscordDelivery(ctx, "", []byte(`{}`)); err == nil {
		t.Fatal("a delivery without a request id was saved")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpenDir(t, dir, clock) // a restart keeps them
	got, err := s.DiscordDeliveries(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{`{"request_id":"r1","v":2}`, `{"request_id":"r3"}`}
	if len(got) != len(want) {
		t.Fatalf("got %d deliveries, want %d", len(got), len(want))
	}
	for i := range want {
		if string(got[i]) != want[i] {
			t.Errorf("delivery %d = %s, want %s (oldest first, replaced in place)", i, got[i], want[i])
		}
	}
}

func TestDiscordSettings(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	if _, err := s.DiscordSetting(ctx, "commands_hash:global"); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("unset setting: err %v, want not found", err)
	}
	for _, v := range []string{"abc", "def"} {
		if err := s.SetDiscordSetting(ctx, "commands_hash:global", v); err != nil {
			t.Fatal(err)
		}
		got, err := s.DiscordSetting(ctx, "commands_hash:global")
		if err != nil || got != v {
			t.Fatalf("setting = %q, %v; want %q", got, err, v)
		}
	}
}

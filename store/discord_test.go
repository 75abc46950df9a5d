package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hordebot/hordebot/bot/sharedpost"
	"github.com/hordebot/hordebot/horde"
)

func TestDiscordDeliveries(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := newFakeClock()
	s := mustOpenDir(t, dir, clock)
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

func TestSharedPosts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := newFakeClock()
	s := mustOpenDir(t, dir, clock)
	if _, err := s.SharedPost(ctx, "m1"); !errors.Is(err, horde.ErrNotFound) || !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("unknown shared post: err %v, want horde.ErrNotFound", err)
	}
	first := sharedpost.Post{MessageID: "m1", ChannelID: "art", GuildID: "g", DiscordUserID: "alice", RequestID: "r1"}
	if err := s.RecordSharedPost(ctx, first); err != nil {
		t.Fatal(err)
	}
	created := clock.Now()
	clock.Advance(time.Minute)
	// A replay, even with other values, keeps the first record.
	again := sharedpost.Post{MessageID: "m1", ChannelID: "other", GuildID: "g2", DiscordUserID: "bob", RequestID: "r2"}
	if err := s.RecordSharedPost(ctx, again); err != nil {
		t.Fatalf("recording a shared post twice: %v", err)
	}
	for _, bad := range []struct {
		name string
		p    sharedpost.Post
	}{
		{"no message id", sharedpost.Post{ChannelID: "art", DiscordUserID: "alice"}},
		{"no channel", sharedpost.Post{MessageID: "m2", DiscordUserID: "alice"}},
		{"no requester", sharedpost.Post{MessageID: "m3", ChannelID: "art"}},
	} {
		if err := s.RecordSharedPost(ctx, bad.p); err == nil {
			t.Errorf("a shared post with %s was recorded", bad.name)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpenDir(t, dir, clock) // a restart keeps it
	got, err := s.SharedPost(ctx, "m1")
	if err != nil {
		t.Fatal(err)
	}
	want := first
	want.CreatedAt = created
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("created at %v, want %v (the store's clock at the first record)", got.CreatedAt, want.CreatedAt)
	}
	got.CreatedAt = want.CreatedAt
	if got != want {
		t.Errorf("shared post = %+v, want %+v", got, want)
	}
	for _, id := range []string{"m2", "m3", ""} {
		if _, err := s.SharedPost(ctx, id); !horde.IsKind(err, horde.KindNotFound) {
			t.Errorf("shared post %q: err %v, want not found", id, err)
		}
	}
}

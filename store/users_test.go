package store_test

import (
	"context"
	"testing"

	"github.com/hordebot/hordebot/horde"
)

func TestAnonymousUserExists(t *testing.T) {
	s := mustOpen(t)
	c, err := s.Credential(context.Background(), horde.HashKey(horde.AnonymousKey))
	if err != nil {
		t.Fatalf("credential of the anonymous key: %v", err)
	}
	if !c.User.Anonymous() || c.User.Name != "Anonymous" || c.WorkerID != "" {
		t.Fatalf("anonymous credential = %+v", c)
	}
}

func TestCreateUserAndLookups(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	u, err := s.CreateUser(ctx, horde.User{Name: "alice", DiscordID: "111", Moderator: true}, horde.HashKey("alice-key"))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if u.ID <= 0 || u.CreatedAt.IsZero() {
		t.Fatalf("created user %+v: want a positive id and a creation time", u)
	}
	tests := []struct {
		name string
		get  func() (horde.User, error)
	}{
		{"by id", func() (horde.User, error) { return s.User(ctx, u.ID) }},
		{"by discord id", func() (horde.User, error) { return s.UserByDiscordID(ctx, "111") }},
		{"by key", func() (horde.User, error) {
			c, err := s.Credential(ctx, horde.HashKey("alice-key"))
			return c.User, err
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.get()
			if err != nil {
				t.Fatal(err)
			}
			if got != u {
				t.Fatalf("got %+v, want %+v", got, u)
			}
		})
	}
}

func TestUserNotFound(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	tests := []struct {
		name string
		call func() error
	}{
		{"user", func() error { _, err := s.User(ctx, 999); return err }},
		{"discord id", func() error { _, err := s.UserByDiscordID(ctx, "nobody"); return err }},
		{"empty discord id", func() error { _, err := s.UserByDiscordID(ctx, ""); return err }},
		{"credential", func() error { _, err := s.Credential(ctx, horde.HashKey("nope")); return err }},
		{"update", func() error { return s.UpdateUser(ctx, horde.User{ID: 999, Name: "x"}) }},
		{"set user key", func() error { return s.SetUserKey(ctx, 999, horde.HashKey("x")) }},
		{"set worker key", func() error { return s.SetWorkerKey(ctx, "no-worker", horde.HashKey("x")) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantKind(t, tc.call(), horde.KindNotFound, horde.ErrNotFound)
		})
	}
}

func TestCreateUserDiscordIDTakenIsConflict(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	if _, err := s.CreateUser(ctx, horde.User{Name: "a", DiscordID: "42"}, ""); err != nil {
		t.Fatal(err)
	}
	_, err := s.CreateUser(ctx, horde.User{Name: "b", DiscordID: "42"}, "")
	wantKind(t, err, horde.KindConflict, nil)
	// Users without a Discord id do not collide with each other.
	for _, n := range []string{"c", "d"} {
		if _, err := s.CreateUser(ctx, horde.User{Name: n}, ""); err != nil {
			t.Fatalf("API-only user %s: %v", n, err)
		}
	}
}

func TestCreateUserKeyTakenIsConflictAndCreatesNothing(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	_, err := s.CreateUser(ctx, horde.User{Name: "copycat", DiscordID: "7"}, horde.HashKey(horde.AnonymousKey))
	wantKind(t, err, horde.KindConflict, nil)
	if _, err := s.UserByDiscordID(ctx, "7"); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("user of a refused create exists: %v", err)
	}
}

func TestUpdateUser(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	u := mustUser(t, s, "bob")
	u.Name, u.Trusted, u.Flagged, u.Moderator = "robert", true, true, true
	if err := s.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	got, err := s.User(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got != u {
		t.Fatalf("got %+v, want %+v", got, u)
	}
	wantKind(t, s.UpdateUser(ctx, horde.User{ID: u.ID}), horde.KindInvalid, nil)
}

func TestSetUserKeyReplacesOldKey(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	u, err := s.CreateUser(ctx, horde.User{Name: "carol"}, horde.HashKey("old"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserKey(ctx, u.ID, horde.HashKey("new")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Credential(ctx, horde.HashKey("old")); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("old key still resolves: %v", err)
	}
	c, err := s.Credential(ctx, horde.HashKey("new"))
	if err != nil || c.User.ID != u.ID {
		t.Fatalf("new key resolves to %+v, %v", c, err)
	}
	if err := s.SetUserKey(ctx, u.ID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Credential(ctx, horde.HashKey("new")); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("revoked key still resolves: %v", err)
	}
}

func TestSetWorkerKeyBindsWorker(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	u, err := s.CreateUser(ctx, horde.User{Name: "dave"}, horde.HashKey("user-key"))
	if err != nil {
		t.Fatal(err)
	}
	mustWorker(t, s, "w1", u.ID)
	for _, k := range []string{"first", "second"} {
		if err := s.SetWorkerKey(ctx, "w1", horde.HashKey(k)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Credential(ctx, horde.HashKey("first")); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("replaced worker key still resolves: %v", err)
	}
	c, err := s.Credential(ctx, horde.HashKey("second"))
	if err != nil {
		t.Fatal(err)
	}
	if c.User.ID != u.ID || c.WorkerID != "w1" {
		t.Fatalf("worker key resolves to %+v", c)
	}
	// The user's own key is untouched.
	if c, err := s.Credential(ctx, horde.HashKey("user-key")); err != nil || c.WorkerID != "" {
		t.Fatalf("user key resolves to %+v, %v", c, err)
	}
}

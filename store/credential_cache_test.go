package store_test

import (
	"context"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
)

// TestCredentialCacheSeesChanges checks that a credential read (and so
// cached) before a change of its key, user or worker is never served after
// the change: every such Store method invalidates the cache.
func TestCredentialCacheSeesChanges(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		// change alters the user u (who has user key "user-key" and worker
		// key "worker-key" bound to worker "w1").
		change func(t *testing.T, s *store.Store, u horde.User) error
		// check inspects the two keys after the change.
		check func(t *testing.T, userCred, workerCred horde.Credential, userErr, workerErr error)
	}{
		{
			name: "rotated user key stops working",
			change: func(t *testing.T, s *store.Store, u horde.User) error {
				return s.SetUserKey(ctx, u.ID, horde.HashKey("new-key"))
			},
			check: func(t *testing.T, _, _ horde.Credential, userErr, workerErr error) {
				wantKind(t, userErr, horde.KindNotFound, horde.ErrNotFound)
				if workerErr != nil {
					t.Errorf("worker key: %v", workerErr)
				}
			},
		},
		{
			name: "rotated worker key stops working",
			change: func(t *testing.T, s *store.Store, _ horde.User) error {
				return s.SetWorkerKey(ctx, "w1", horde.HashKey("new-key"))
			},
			check: func(t *testing.T, _, _ horde.Credential, userErr, workerErr error) {
				wantKind(t, workerErr, horde.KindNotFound, horde.ErrNotFound)
				if userErr != nil {
					t.Errorf("user key: %v", userErr)
				}
			},
		},
		{
			name:   "deleted worker's key stops working",
			change: func(t *testing.T, s *store.Store, _ horde.User) error { return s.DeleteWorker(ctx, "w1") },
			check: func(t *testing.T, _, _ horde.Credential, _, workerErr error) {
				wantKind(t, workerErr, horde.KindNotFound, horde.ErrNotFound)
			},
		},
		{
			name: "flagged user is seen flagged",
			change: func(t *testing.T, s *store.Store, u horde.User) error {
				_, err := s.SetFlagged(ctx, u.ID, true)
				return err
			},
			check: func(t *testing.T, uc, wc horde.Credential, userErr, workerErr error) {
				if userErr != nil || workerErr != nil || !uc.User.Flagged || !wc.User.Flagged {
					t.Errorf("flagged: user %+v (%v), worker %+v (%v)", uc.User, userErr, wc.User, workerErr)
				}
			},
		},
		{
			name: "trusted user is seen trusted",
			change: func(t *testing.T, s *store.Store, u horde.User) error {
				_, err := s.SetTrusted(ctx, u.ID, true)
				return err
			},
			check: func(t *testing.T, uc, _ horde.Credential, userErr, _ error) {
				if userErr != nil || !uc.User.Trusted {
					t.Errorf("trusted: user %+v (%v)", uc.User, userErr)
				}
			},
		},
		{
			name: "updated user is seen updated",
			change: func(t *testing.T, s *store.Store, u horde.User) error {
				u.Moderator, u.Name = true, "renamed"
				return s.UpdateUser(ctx, u)
			},
			check: func(t *testing.T, uc, _ horde.Credential, userErr, _ error) {
				if userErr != nil || !uc.User.Moderator || uc.User.Name != "renamed" {
					t.Errorf("updated: user %+v (%v)", uc.User, userErr)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mustOpen(t)
			u, err := s.CreateUser(ctx, horde.User{Name: "alice"}, horde.HashKey("user-key"))
			if err != nil {
				t.Fatal(err)
			}
			mustWorker(t, s, "w1", u.ID)
			if err := s.SetWorkerKey(ctx, "w1", horde.HashKey("worker-key")); err != nil {
				t.Fatal(err)
			}
			// Read both keys twice: the second read is served from the cache.
			for range 2 {
				for _, k := range []string{"user-key", "worker-key"} {
					if c, err := s.Credential(ctx, horde.HashKey(k)); err != nil || c.User.ID != u.ID {
						t.Fatalf("credential of %s before the change: %+v, %v", k, c, err)
					}
				}
			}
			if err := tt.change(t, s, u); err != nil {
				t.Fatalf("change: %v", err)
			}
			uc, uerr := s.Credential(ctx, horde.HashKey("user-key"))
			wc, werr := s.Credential(ctx, horde.HashKey("worker-key"))
			tt.check(t, uc, wc, uerr, werr)
		})
	}
}

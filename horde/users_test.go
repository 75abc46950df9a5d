package horde_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/kudos"
)

// TestAuthenticate checks the anonymous key, user keys, worker keys and
// unknown keys.
func TestAuthenticate(t *testing.T) {
	e := newEnv(t, horde.Config{})
	u, key, err := e.h.CreateUser(e.ctx, "carol")
	if err != nil {
		t.Fatal(err)
	}
	w, wkey, err := e.h.RegisterWorker(e.ctx, u, "carols-rig", horde.KindImage)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		key        string
		wantUser   int64
		wantWorker string
		kind       horde.Kind // KindInternal for success
	}{
		{"anonymous", horde.AnonymousKey, horde.AnonymousUserID, "", horde.KindInternal},
		{"user key", key, u.ID, "", horde.KindInternal},
		{"worker key", wkey, u.ID, w.ID, horde.KindInternal},
		{"unknown key", "not-a-key-at-all", 0, "", horde.KindUnauthorized},
		{"empty key", "", 0, "", horde.KindUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := e.h.Authenticate(e.ctx, tt.key)
			if tt.kind != horde.KindInternal {
				var he *horde.Error
				if !horde.IsKind(err, tt.kind) {
					t.Fatalf("err %v, want %v", err, tt.kind)
				}
				if tt.kind == horde.KindUnauthorized {
					if ok := asError(err, &he); !ok || he.Code != "InvalidAPIKey" {
						t.Fatalf("code: %v", err)
					}
				}
				return
			}
			if err != nil || c.User.ID != tt.wantUser || c.WorkerID != tt.wantWorker {
				t.Fatalf("got user %d worker %q err %v; want %d %q", c.User.ID, c.WorkerID, err, tt.wantUser, tt.wantWorker)
			}
		})
	}

	// A rotated key replaces the old one.
	newKey, err := e.h.RotateWorkerKey(e.ctx, u, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.Authenticate(e.ctx, wkey); !horde.IsKind(err, horde.KindUnauthorized) {
		t.Fatalf("old worker key still works: %v", err)
	}
	if c, err := e.h.Authenticate(e.ctx, newKey); err != nil || c.WorkerID != w.ID {
		t.Fatalf("new worker key: %+v %v", c, err)
	}
	stranger, _, err := e.h.CreateUser(e.ctx, "mallory")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.h.RotateWorkerKey(e.ctx, stranger, w.ID); !horde.IsKind(err, horde.KindForbidden) {
		t.Fatalf("stranger rotated the key: %v", err)
	}
}

// TestPopPermissions checks who may pop as which worker.
func TestPopPermissions(t *testing.T) {
	e := newEnv(t, horde.Config{})
	anon, err := e.h.Authenticate(e.ctx, horde.AnonymousKey)
	if err != nil {
		t.Fatal(err)
	}
	dave := e.user("dave", 0)
	erin := e.user("erin", 0)
	w, wkey, err := e.h.RegisterWorker(e.ctx, dave.User, "daves-rig", horde.KindImage)
	if err != nil {
		t.Fatal(err)
	}
	wc, err := e.h.Authenticate(e.ctx, wkey)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		c    horde.Credential
		p    horde.PopRequest
		kind horde.Kind // KindInternal for success
	}{
		{"anonymous may not pop", anon, imagePop("anon-rig", "sd15"), horde.KindForbidden},
		{"worker key as its worker", wc, imagePop("daves-rig", "sd15"), horde.KindInternal},
		{"worker key as another name", wc, imagePop("another", "sd15"), horde.KindForbidden},
		{"owner's user key as the worker", dave, imagePop("daves-rig", "sd15"), horde.KindInternal},
		{"another user's key as the worker", erin, imagePop("daves-rig", "sd15"), horde.KindForbidden},
		{"a text pop as an image worker", dave, horde.PopRequest{Kind: horde.KindText, Name: "daves-rig"}, horde.KindInvalid},
		{"no name", dave, imagePop("", "sd15"), horde.KindInvalid},
		{"amount too large", dave, func() horde.PopRequest { p := imagePop("x", "sd15"); p.Amount = 21; return p }(), horde.KindInvalid},
		{"a new name creates a worker", erin, imagePop("erins-new-rig", "sd15"), horde.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := e.h.Pop(e.ctx, tt.c, tt.p)
			if tt.kind == horde.KindInternal {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				return
			}
			if !horde.IsKind(err, tt.kind) {
				t.Fatalf("err %v, want %v", err, tt.kind)
			}
		})
	}
	created, err := e.h.WorkerByName(e.ctx, "erins-new-rig")
	if err != nil || created.OwnerID != erin.User.ID || !created.HasModel("sd15") {
		t.Fatalf("worker created on first pop: %+v %v", created, err)
	}
	if got, _ := e.h.Worker(e.ctx, w.ID); got.Name != "daves-rig" || got.LastPop.IsZero() {
		t.Fatalf("registered worker after pops: %+v", got)
	}
	// Created on first pop means stored: it is there after a restart.
	e.restart()
	if _, err := e.h.WorkerByName(e.ctx, "erins-new-rig"); err != nil {
		t.Fatalf("after restart: %v", err)
	}
}

// TestSubmitValidation checks request validation, pricing, flagged users and
// the kudos floor.
func TestSubmitValidation(t *testing.T) {
	e := newEnv(t, horde.Config{Payments: kudos.PaymentRules{MemberFloor: -20}, AnonymousConcurrency: 20})
	frank := e.user("frank", 0)
	flagged := e.user("flagged", 1000)
	flagged.User.Flagged = true

	img := func(mod func(*horde.NewRequest)) horde.NewRequest {
		nr := imageRequest("a quiet lake")
		mod(&nr)
		return nr
	}
	tests := []struct {
		name  string
		c     horde.Credential
		nr    horde.NewRequest
		kind  horde.Kind
		field string
	}{
		{"empty prompt", frank, img(func(r *horde.NewRequest) { r.Prompt = "  " }), horde.KindInvalid, "prompt"},
		{"prompt over the limit in characters", frank, img(func(r *horde.NewRequest) { r.Prompt = strings.Repeat("é", aihorde.MaxPromptLength+1) }), horde.KindInvalid, "prompt"},
		{"width not a multiple of 64", frank, img(func(r *horde.NewRequest) { r.Image.Width = 500 }), horde.KindInvalid, "width"},
		{"too many steps", frank, img(func(r *horde.NewRequest) { r.Image.Steps = aihorde.MaxSteps + 1 }), horde.KindInvalid, "steps"},
		{"too many images", frank, img(func(r *horde.NewRequest) { r.N = aihorde.MaxN + 1 }), horde.KindInvalid, "n"},
		{"inpainting without a source", frank, img(func(r *horde.NewRequest) { r.Image.SourceProcessing = "inpainting" }), horde.KindInvalid, "source_image"},
		{"text too long", frank, textRequest("x", aihorde.MaxMaxLength+1, 1024), horde.KindInvalid, "max_length"},
		{"unknown kind", frank, horde.NewRequest{Kind: "video", Prompt: "x"}, horde.KindInvalid, "kind"},
		{"flagged user", flagged, img(func(*horde.NewRequest) {}), horde.KindForbidden, ""},
		{"beyond the kudos floor", frank, img(func(r *horde.NewRequest) { r.N = 20; r.Image.Steps = 100 }), horde.KindKudosUpfront, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := e.h.Submit(e.ctx, tt.c.User, tt.nr)
			if !horde.IsKind(err, tt.kind) {
				t.Fatalf("err %v, want %v", err, tt.kind)
			}
			var he *horde.Error
			if tt.field != "" && (!asError(err, &he) || he.Field != tt.field) {
				t.Fatalf("err %v, want field %q", err, tt.field)
			}
		})
	}

	// A dry run prices without queueing, even beyond the floor.
	nr := img(func(r *horde.NewRequest) { r.N = 20; r.Image.Steps = 100; r.DryRun = true })
	priced, _, err := e.h.Submit(e.ctx, frank.User, nr)
	if err != nil || priced.Kudos <= 20 || priced.ID != "" {
		t.Fatalf("dry run: kudos %d id %q err %v", priced.Kudos, priced.ID, err)
	}
	if perf, _ := e.h.Performance(e.ctx); perf.QueuedRequests != 0 {
		t.Fatalf("dry run queued %d", perf.QueuedRequests)
	}
	// The limit counts characters, not bytes: 10,000 accented letters are fine.
	if _, _, err := e.h.Submit(e.ctx, frank.User, img(func(r *horde.NewRequest) { r.Prompt = strings.Repeat("é", aihorde.MaxPromptLength) })); err != nil {
		t.Fatalf("a prompt of %d two-byte characters: %v", aihorde.MaxPromptLength, err)
	}

	// Anonymous requests go far below zero.
	anon, _ := e.h.Authenticate(e.ctx, horde.AnonymousKey)
	if _, _, err := e.h.Submit(e.ctx, anon.User, img(func(r *horde.NewRequest) { r.N = 20 })); err != nil {
		t.Fatalf("anonymous request: %v", err)
	}
}

// TestDiscordUserAndInfo checks find-or-create by Discord id and the user view.
func TestDiscordUserAndInfo(t *testing.T) {
	e := newEnv(t, horde.Config{})
	u1, err := e.h.DiscordUser(e.ctx, "1234", "gina")
	if err != nil {
		t.Fatal(err)
	}
	u2, err := e.h.DiscordUser(e.ctx, "1234", "gina2")
	if err != nil || u2.ID != u1.ID || u2.Name != "gina2" {
		t.Fatalf("second lookup: %+v %v (first %+v)", u2, err, u1)
	}
	if again, err := e.st.UserByDiscordID(e.ctx, "1234"); err != nil || again.Name != "gina2" {
		t.Fatalf("rename not stored: %+v %v", again, err)
	}
	e.give(u1.ID, 42)
	w, _, err := e.h.RegisterWorker(e.ctx, u1, "ginas-rig", horde.KindText)
	if err != nil {
		t.Fatal(err)
	}
	info, err := e.h.UserInfo(e.ctx, u1.ID)
	if err != nil || info.Kudos != 42 || len(info.WorkerIDs) != 1 || info.WorkerIDs[0] != w.ID {
		t.Fatalf("user info %+v err %v", info, err)
	}
	if _, err := e.h.UserInfo(e.ctx, 999999); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("unknown user: %v", err)
	}
	if _, err := e.h.DiscordUser(e.ctx, "", "x"); !horde.IsKind(err, horde.KindInvalid) {
		t.Fatalf("empty discord id: %v", err)
	}
}

// TestKnownDiscordUser: the lookup that vouches for nothing finds a linked
// user and creates none for an unknown Discord id.
func TestKnownDiscordUser(t *testing.T) {
	e := newEnv(t, horde.Config{})
	u, err := e.h.DiscordUser(e.ctx, "1234", "gina")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, id string
		want     horde.Kind
	}{
		{"a linked account is found", "1234", -1},
		{"an unknown account is not found", "5678", horde.KindNotFound},
		{"an empty id is invalid", " ", horde.KindInvalid},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := e.h.KnownDiscordUser(e.ctx, tt.id)
			if tt.want == -1 {
				if err != nil || got.ID != u.ID {
					t.Fatalf("KnownDiscordUser(%q) = %+v, %v; want user %d", tt.id, got, err, u.ID)
				}
				return
			}
			if !horde.IsKind(err, tt.want) {
				t.Fatalf("KnownDiscordUser(%q) = %+v, %v; want kind %v", tt.id, got, err, tt.want)
			}
		})
	}
	if _, err := e.st.UserByDiscordID(e.ctx, "5678"); !errors.Is(err, horde.ErrNotFound) {
		t.Fatalf("the unknown account got a user: %v", err)
	}
}

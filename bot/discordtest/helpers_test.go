package discordtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/bot/discordtest/discordtesting"
)

// fixture is a guild with a text channel, an NSFW channel and two members.
type fixture struct {
	srv   *discordtest.Server
	guild *discordgo.Guild
	text  *discordgo.Channel
	nsfw  *discordgo.Channel
	alice *discordgo.User
	bob   *discordgo.User
	mod   *discordgo.Role
}

func newFixture(t *testing.T, opts ...discordtest.Option) *fixture {
	t.Helper()
	srv := discordtest.New(opts...)
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv}
	f.alice = srv.AddUser(discordgo.User{Username: "alice"})
	f.bob = srv.AddUser(discordgo.User{Username: "bob"})
	f.guild = srv.AddGuild(discordgo.Guild{Name: "gpu-club", OwnerID: f.alice.ID})
	var err error
	if f.mod, err = srv.AddRole(f.guild.ID, discordgo.Role{Name: "moderator", Permissions: discordgo.PermissionManageMessages}); err != nil {
		t.Fatalf("AddRole: %v", err)
	}
	if f.text, err = srv.AddChannel(discordgo.Channel{GuildID: f.guild.ID, Name: "general"}); err != nil {
		t.Fatalf("AddChannel: %v", err)
	}
	if f.nsfw, err = srv.AddChannel(discordgo.Channel{GuildID: f.guild.ID, Name: "after-dark", NSFW: true}); err != nil {
		t.Fatalf("AddChannel: %v", err)
	}
	joined := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := srv.AddMember(f.guild.ID, discordgo.Member{User: f.alice, JoinedAt: joined}); err != nil {
		t.Fatalf("AddMember: %v", err)
	}
	if _, err := srv.AddMember(f.guild.ID, discordgo.Member{User: f.bob, Roles: []string{f.mod.ID}}); err != nil {
		t.Fatalf("AddMember: %v", err)
	}
	return f
}

// open opens a session on the fake after adding the handlers, and waits until
// the session has identified.
func (f *fixture) open(t *testing.T, handlers ...any) *discordgo.Session {
	t.Helper()
	s := discordtesting.Session(t, f.srv)
	s.Identify.Intents |= discordgo.IntentMessageContent | discordgo.IntentGuildMembers
	// Handlers run on discordgo's read loop, so what they copy cannot race
	// with the state cache updating the same objects on the next event.
	s.SyncEvents = true
	for _, h := range handlers {
		s.AddHandler(h)
	}
	if err := s.Open(); err != nil {
		t.Fatalf("Open: %v", err)
	}
	// Anything that closes the connection before discordgo's first heartbeat
	// makes discordgo reconnect on its own (see Server.WaitHeartbeat).
	if err := f.srv.WaitHeartbeat(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	return s
}

// clone deep-copies an event inside a handler so the test can read it later
// while discordgo's state cache keeps mutating the original.
func clone[T any](t *testing.T, v T) T {
	b, err := json.Marshal(v)
	if err != nil {
		t.Errorf("clone %T: %v", v, err)
		return v
	}
	var out T
	if err := json.Unmarshal(b, &out); err != nil {
		t.Errorf("clone %T: %v", v, err)
		return v
	}
	return out
}

// testCtx bounds a wait so a broken test fails instead of hanging.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recv waits for a value on ch.
func recv[T any](t *testing.T, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("waiting for %s: %v", what, ctx.Err())
		var zero T
		return zero
	}
}

// pngBytes encodes a small image whose top-left pixel is c.
func pngBytes(t testing.TB, w, h int, c color.RGBA) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.SetRGBA(0, 0, c)
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatalf("png: %v", err)
	}
	return buf.Bytes()
}

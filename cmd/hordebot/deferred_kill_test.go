package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/worker"
)

// TestKill9AroundTheDeferral kills `hordebot run` (SQLite, the fake
// Discord) with SIGKILL right after it recorded an /imagine and before it
// queued the request. When Discord has its "thinking…" deferral (the
// process died waiting for the answer to it), the process started again
// runs the command on that deferral and the member gets the image there;
// when the deferral never reached Discord, the image goes to the channel.
func TestKill9AroundTheDeferral(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, tc := range []struct {
		name     string
		deferred bool // the deferral reached Discord before the kill
	}{
		{"after the deferral", true},
		{"before the deferral", false},
	} {
		t.Run(tc.name, func(t *testing.T) { kill9AroundTheDeferral(t, tc.deferred) })
	}
}

func kill9AroundTheDeferral(t *testing.T, forwardDeferral bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	srv := discordtest.New(discordtest.WithLogger(testLogger(t)))
	t.Cleanup(srv.Close)
	guild := srv.AddGuild(discordgo.Guild{Name: "gpus"})
	general, err := srv.AddChannel(discordgo.Channel{GuildID: guild.ID, Name: "general", Type: discordgo.ChannelTypeGuildText})
	if err != nil {
		t.Fatal(err)
	}
	ada := srv.AddUser(discordgo.User{Username: "ada"})
	if _, err := srv.AddMember(guild.ID, discordgo.Member{User: ada, JoinedAt: time.Now().Add(-30 * 24 * time.Hour)}); err != nil {
		t.Fatal(err)
	}

	// Discord's REST API as the process sees it: the deferral's callback
	// reaches the fake, and then its answer never comes back while stall
	// is set (the process is killed waiting for it).
	fake, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(fake)
	var stall atomic.Bool
	stall.Store(true)
	deferred := make(chan struct{}, 1)
	rest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/callback") && stall.Load() {
			if forwardDeferral {
				forward.ServeHTTP(httptest.NewRecorder(), r)
			} else {
				_, _ = io.Copy(io.Discard, r.Body) // read: the server then sees the connection close
			}
			select {
			case deferred <- struct{}{}:
			default:
			}
			<-r.Context().Done()
			return
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(rest.Close)

	if err := run(ctx, []string{"migrate", "--data", dir}, io.Discard, io.Discard, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run(ctx, []string{"user", "add", "vol", "--data", dir}, &out, io.Discard, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	ownerKey := strings.TrimSpace(out.String())
	conf := filepath.Join(dir, "hordebot.yaml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("discord:\n  guild_ids: [%q]\n  commands_per_minute: -1\n  guild_commands_per_minute: -1\n", guild.ID)), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	proc := &child{name: "run", addr: addr, log: filepath.Join(dir, "run.log"),
		args: []string{"run", "--config", conf, "--data", dir},
		env: []string{"DISCORD_TOKEN=" + srv.Token(), "HORDEBOT_DISCORD_REST_URL=" + rest.URL,
			"HORDEBOT_LISTEN=" + addr, "HORDEBOT_PUBLIC_URL=http://" + addr}}
	t.Cleanup(proc.kill)
	if err := proc.start(ctx); err != nil {
		t.Fatal(err)
	}
	identified := func(after int) {
		t.Helper()
		for i := 0; ; i++ {
			evs := srv.GatewayEvents()
			n := 0
			for _, ev := range evs {
				if ev.Kind == discordtest.GatewayIdentified {
					n++
				}
			}
			if n > after && len(srv.Commands(guild.ID)) > 0 {
				return
			}
			select {
			case <-ctx.Done():
				t.Fatalf("the bot did not connect: %v\n%s", ctx.Err(), tail(proc.log))
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	identified(0)

	tok, err := srv.SendInteraction(discordtest.Interaction{GuildID: guild.ID, ChannelID: general.ID, UserID: ada.ID,
		Command: "imagine", Options: discordtest.Opts(discordtest.Opt("prompt", "a lighthouse at dusk"), discordtest.Opt("steps", 5))})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-deferred:
	case <-ctx.Done():
		t.Fatalf("the /imagine was never deferred\n%s", tail(proc.log))
	}
	proc.kill() // SIGKILL, waiting for the deferral's answer
	cb, ok := srv.Callback(tok)
	if forwardDeferral != ok || ok && cb.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		t.Fatalf("Discord holds %+v (%v) for the /imagine, want its deferral: %v", cb, ok, forwardDeferral)
	}

	stall.Store(false)
	if err := proc.start(ctx); err != nil {
		t.Fatal(err)
	}
	wctx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	served := make(chan error, 1)
	go func() {
		served <- worker.Run(wctx, worker.Config{BaseURL: "http://" + addr, APIKey: ownerKey, Name: "gpu-1", Kind: aihorde.KindImage,
			Backend: worker.NewProcedural(), MaxPixels: 512 * 512, PopInterval: 50 * time.Millisecond, Logger: testLogger(t)})
	}()
	withImage := func(m discordtest.Message) bool { return len(m.Files) > 0 }
	var m discordtest.Message
	if forwardDeferral {
		m, err = srv.WaitForOriginal(ctx, tok, withImage)
	} else {
		m, err = srv.WaitForMessage(ctx, general.ID, withImage)
	}
	if err != nil {
		cur, _ := srv.Original(tok)
		t.Fatalf("no image after the restart: %v (message %q)\n%s", err, cur.Content, tail(proc.log))
	}
	if !strings.Contains(m.Content, "lighthouse") {
		t.Errorf("the result says %q", m.Content)
	}
	stopWorker()
	if err := <-served; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("worker: %v", err)
	}
}

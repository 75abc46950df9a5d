package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"image"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/store/storetest"
)

// TestResultFinishedOnAnotherProcessWakesTheBot: the bot runs on process A
// with a poll so slow (an hour) that only the event can deliver in time;
// a worker pops and submits the /imagine's job on process B, and A's bot
// delivers the images, woken by B's NOTIFY.
func TestResultFinishedOnAnotherProcessWakesTheBot(t *testing.T) {
	url := storetest.PostgresDatabase(t, t.TempDir()) // skips, saying why, without HORDEBOT_TEST_POSTGRES_URL
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	open := func() *runningApp {
		cfg := testConfig(t, t.TempDir())
		cfg.Database.URL = url
		cfg.Database.MaxConns = 4
		return startApp(t, cfg, nil)
	}
	a, b := open(), open()
	defer a.shutdown(t)
	defer b.shutdown(t)

	srv := discordtest.New(discordtest.WithLogger(testLogger(t)), discordtest.WithInteractionTimeout(20*time.Second))
	t.Cleanup(srv.Close)
	ada := srv.AddUser(discordgo.User{Username: "ada"})
	guild := srv.AddGuild(discordgo.Guild{Name: "gpus", OwnerID: ada.ID})
	general, err := srv.AddChannel(discordgo.Channel{GuildID: guild.ID, Name: "general", Type: discordgo.ChannelTypeGuildText})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddMember(guild.ID, discordgo.Member{User: ada, JoinedAt: time.Now().Add(-48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	a.Config.Discord.GuildIDs = []string{guild.ID}
	d, err := a.StartDiscord(ctx, func() (*discordgo.Session, error) {
		s, err := srv.NewSession(srv.Token())
		if err == nil {
			s.LogLevel = discordgo.LogError
		}
		return s, err
	}, func(c *bot.Config) { c.PollInterval = time.Hour })
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Stop(context.Background()) }()
	if err := srv.WaitHeartbeat(ctx); err != nil {
		t.Fatal(err)
	}

	// Both processes listen before anything finishes.
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for listening := 0; listening != 2; time.Sleep(20 * time.Millisecond) {
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = $1`,
			"hordebot events "+a.Store.EventsChannel()).Scan(&listening); err != nil {
			t.Fatal(err)
		}
		if ctx.Err() != nil {
			t.Fatalf("%d processes listen for events, want 2", listening)
		}
	}

	tok, err := srv.SendInteraction(discordtest.Interaction{GuildID: guild.ID, ChannelID: general.ID, UserID: ada.ID,
		Command: "imagine", Options: discordtest.Opts(discordtest.Opt("prompt", "a lighthouse at dusk"), discordtest.Opt("steps", 5))})
	if err != nil {
		t.Fatal(err)
	}
	// No worker is online yet on either process: the member reads that the
	// request stays queued until one can serve it (is_possible from the
	// shared workers), not a position and an ETA.
	if _, err := srv.WaitForOriginal(ctx, tok, func(m discordtest.Message) bool {
		return strings.Contains(m.Content, "no online worker can serve this request right now; it stays queued")
	}); err != nil {
		t.Fatalf("the /imagine was not shown queued: %v", err)
	}

	// A worker on B serves it.
	_, key, err := b.Horde.CreateUser(ctx, "vol")
	if err != nil {
		t.Fatal(err)
	}
	onB := apiClient{base: "http://" + b.Addr() + "/api/v2", key: key, hc: http.DefaultClient}
	var pop struct {
		ID      string `json:"id"`
		Payload struct {
			Width  int `json:"width"`
			Height int `json:"height"`
		} `json:"payload"`
	}
	if code := onB.do(t, "POST", "/generate/pop", map[string]any{"name": "gpu", "models": []string{"stable_diffusion"}, "max_pixels": 1 << 20}, &pop); code != http.StatusOK || pop.ID == "" {
		t.Fatalf("pop on B: %d %+v", code, pop)
	}
	img := image.NewNRGBA(image.Rect(0, 0, pop.Payload.Width, pop.Payload.Height))
	for i := range img.Pix {
		img.Pix[i] = uint8(i / 7)
	}
	var encoded bytes.Buffer // PNG, not WebP: its encoder takes seconds under -race
	if err := png.Encode(&encoded, img); err != nil {
		t.Fatal(err)
	}
	if code := onB.do(t, "POST", "/generate/submit", map[string]any{"id": pop.ID, "generation": base64.StdEncoding.EncodeToString(encoded.Bytes()), "state": "ok", "seed": 1}, nil); code != http.StatusOK {
		t.Fatalf("submit on B: %d", code)
	}

	// A delivers it long before its next poll.
	m, err := srv.WaitForOriginal(ctx, tok, func(m discordtest.Message) bool { return len(m.Files) > 0 })
	if err != nil {
		t.Fatalf("the result finished on B never reached Discord through A: %v", err)
	}
	if !strings.Contains(m.Content, "lighthouse") {
		t.Fatalf("the result message says %q", m.Content)
	}
}

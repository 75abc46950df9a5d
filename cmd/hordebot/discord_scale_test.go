package main

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
)

const testPublicKey = "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29"

func TestDiscordScaleConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		yaml    string
		env     map[string]string
		wantErr string
	}{
		{"the defaults: one process, every shard, no endpoint", "", nil, ""},
		{"shards and an endpoint", "discord:\n  shards: {count: 4, ids: [0, 2]}\n  interactions_listen: 127.0.0.1:7002\n  public_key: " + testPublicKey + "\n", nil, ""},
		{"the public key from the environment", "discord:\n  gateway: false\n  interactions_listen: 127.0.0.1:7002\n", map[string]string{"HORDEBOT_DISCORD_PUBLIC_KEY": testPublicKey}, ""},
		{"an endpoint without a public key", "discord:\n  interactions_listen: 127.0.0.1:7002\n", nil, "discord.public_key"},
		{"a public key that is not hex", "discord:\n  interactions_listen: 127.0.0.1:7002\n  public_key: zz\n", nil, "discord.public_key"},
		{"no gateway and no endpoint", "discord:\n  gateway: false\n", nil, "would receive nothing"},
		{"a shard id past the count", "discord:\n  shards: {count: 2, ids: [2]}\n", nil, "not a shard of 2"},
		{"a negative count", "discord:\n  shards: {count: -1}\n", nil, "must not be negative"},
		{"the endpoint on the API's port", "api:\n  listen: 127.0.0.1:7001\ndiscord:\n  interactions_listen: 127.0.0.1:7001\n  public_key: " + testPublicKey + "\n", nil, "is api.listen"},
		{"a typo is an error", "discord:\n  shard: {count: 2}\n", nil, "unknown field"},
		{"a REST proxy", "discord:\n  rest_url: http://127.0.0.1:8080\n", nil, ""},
		{"a REST proxy from the environment, not a URL", "", map[string]string{"HORDEBOT_DISCORD_REST_URL": "discord-proxy:8080"}, "discord.rest_url"},
		{"a REST proxy with a path", "discord:\n  rest_url: https://proxy.example/api/v9\n", nil, "no path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "hordebot.yaml")
			if err := os.WriteFile(path, []byte(tc.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := LoadConfig(path, func(k string) string { return tc.env[k] })
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("LoadConfig: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("LoadConfig: %v, want an error saying %q", err, tc.wantErr)
			}
		})
	}
}

// TestStartDiscordAtScale boots the app's Discord side from its config
// against the fake Discord: auto-sharded gateway plus the interactions
// endpoint, and an interactions-only process.
func TestStartDiscordAtScale(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		gateway    bool
		wantShards int
	}{
		{"gateway shards from /gateway/bot and the endpoint", true, 2},
		{"only the endpoint", false, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			srv := discordtest.New(discordtest.WithLogger(testLogger(t)), discordtest.WithRecommendedShards(2),
				discordtest.WithInteractionTimeout(20*time.Second))
			t.Cleanup(srv.Close)
			alice := srv.AddUser(discordgo.User{Username: "alice"})
			guild := srv.AddGuild(discordgo.Guild{Name: "gpus", OwnerID: alice.ID})
			general, err := srv.AddChannel(discordgo.Channel{GuildID: guild.ID, Name: "general", Type: discordgo.ChannelTypeGuildText})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := srv.AddMember(guild.ID, discordgo.Member{User: alice, JoinedAt: time.Now().Add(-48 * time.Hour)}); err != nil {
				t.Fatal(err)
			}

			cfg := testConfig(t, t.TempDir())
			cfg.Discord.GuildIDs = []string{guild.ID}
			cfg.Discord.Gateway = &tc.gateway
			cfg.Discord.InteractionsListen = "127.0.0.1:0"
			cfg.Discord.PublicKey = srv.PublicKeyHex()
			if err := cfg.validate(); err != nil {
				t.Fatal(err)
			}
			app, err := OpenApp(ctx, cfg, testLogger(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { app.Close() })
			d, err := app.StartDiscord(ctx, func() (*discordgo.Session, error) {
				s, err := srv.NewSession(srv.Token())
				if err == nil {
					s.LogLevel = discordgo.LogError
				}
				return s, err
			})
			if err != nil {
				t.Fatal(err)
			}
			stopped := false
			t.Cleanup(func() {
				if !stopped {
					_ = d.Stop(context.Background())
				}
			})
			if got := len(srv.Identifies()); got != tc.wantShards {
				t.Fatalf("%d gateway sessions identified, want %d", got, tc.wantShards)
			}
			for _, id := range srv.Identifies() {
				if id.Shard == nil || id.Shard[1] != 2 {
					t.Fatalf("identified with shard %v, want one of 2", id.Shard)
				}
			}
			// Each connection's first heartbeat before Stop closes it (see discordtest's doc).
			for _, ev := range srv.GatewayEvents() {
				if ev.Kind == discordtest.GatewayIdentified {
					id := ev.SessionID
					if _, err := srv.WaitGateway(ctx, func(ev discordtest.GatewayEvent) bool {
						return ev.SessionID == id && ev.Kind == discordtest.GatewayHeartbeat
					}); err != nil {
						t.Fatal(err)
					}
				}
			}
			srv.SetInteractionsEndpoint("http://" + d.InteractionsAddr() + "/")

			ping, err := srv.PostPing(ctx, discordtest.PostOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if ping.Status != http.StatusOK || ping.Err != nil {
				t.Fatalf("PING answered %d %s (%v)", ping.Status, ping.Body, ping.Err)
			}
			bad, err := srv.PostPing(ctx, discordtest.PostOptions{Signing: discordtest.SignInvalid})
			if err != nil {
				t.Fatal(err)
			}
			if bad.Status != http.StatusUnauthorized {
				t.Fatalf("a badly signed PING answered %d, want 401 (Discord checks this before saving the URL)", bad.Status)
			}
			tok, err := srv.SendInteraction(discordtest.Interaction{GuildID: guild.ID, ChannelID: general.ID, UserID: alice.ID,
				Command: "kudos", Options: discordtest.Opts(discordtest.SubCommand("balance"))})
			if err != nil {
				t.Fatal(err)
			}
			text, _, err := srv.WaitForReply(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, "kudos") {
				t.Fatalf("/kudos balance over HTTP read %q", text)
			}
			stopped = true
			if err := d.Stop(ctx); err != nil {
				t.Fatalf("stop: %v", err)
			}
			if _, err := http.Post("http://"+d.InteractionsAddr()+"/", "application/json", strings.NewReader("{}")); err == nil {
				t.Fatalf("the endpoint still answers after Stop")
			}
		})
	}
}

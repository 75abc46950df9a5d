package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

func TestLoadConfig(t *testing.T) {
	noEnv := func(string) string { return "" }
	write := func(t *testing.T, body string) string {
		t.Helper()
		p := filepath.Join(t.TempDir(), "hordebot.yaml")
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		file    string
		env     map[string]string
		wantErr string
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults", check: func(t *testing.T, c Config) {
			if c.Data != "./data" || c.DataMaxMiB != 0 || c.API.Listen != "127.0.0.1:7001" || c.Moderation.EscrowPercent != 50 {
				t.Fatalf("defaults: %+v", c)
			}
			if time.Duration(c.Moderation.TrustMinAge) != 168*time.Hour {
				t.Fatalf("trust_min_age %v", time.Duration(c.Moderation.TrustMinAge))
			}
			if m := c.Moderation; m.ReportersToFlag != 2 || m.MaxWorkersUntrusted != 3 || m.MaxWorkersTrusted != 20 {
				t.Fatalf("reporters_to_flag %d, max_workers_untrusted %d, max_workers_trusted %d; want 2, 3, 20",
					m.ReportersToFlag, m.MaxWorkersUntrusted, m.MaxWorkersTrusted)
			}
		}},
		{name: "a file overrides only the keys it names", file: "api:\n  listen: 0.0.0.0:9000\nkudos:\n  giver_daily_cap: 7\n", check: func(t *testing.T, c Config) {
			if c.API.Listen != "0.0.0.0:9000" || c.API.MaxBodyMiB != 10 {
				t.Fatalf("api: %+v", c.API)
			}
			kc, err := kudosConfig(c)
			if err != nil {
				t.Fatal(err)
			}
			if kc.GiverDailyCap != 7 || kc.ReceiverDailyCap == 0 {
				t.Fatalf("kudos: giver cap %d receiver cap %d", kc.GiverDailyCap, kc.ReceiverDailyCap)
			}
		}},
		{name: "environment beats the file", file: "data: /srv/a\n", env: map[string]string{"HORDEBOT_DATA": "/srv/b", "HORDEBOT_PUBLIC_URL": "https://h.example"}, check: func(t *testing.T, c Config) {
			if c.Data != "/srv/b" || c.API.PublicURL != "https://h.example" {
				t.Fatalf("got data %q public %q", c.Data, c.API.PublicURL)
			}
		}},
		{name: "a database quota in MiB", file: "data_max_mib: 512\n", check: func(t *testing.T, c Config) {
			if got := c.StoreOptions().MaxDBBytes; got != 512<<20 {
				t.Fatalf("MaxDBBytes %d, want 512 MiB", got)
			}
		}},
		{name: "a negative quota is an error", file: "data_max_mib: -1\n", wantErr: "data_max_mib"},
		{name: "retention defaults: results 30 days, orphans and sweeps hourly", check: func(t *testing.T, c Config) {
			if got := c.Retention.Store(); got.Results != 720*time.Hour || got.BlobGrace != time.Hour || got.Every != time.Hour {
				t.Fatalf("retention %+v", got)
			}
		}},
		{name: "retention 0 keeps results forever", file: "retention:\n  results: 0\n", check: func(t *testing.T, c Config) {
			if got := c.Retention.Store(); got.Results != 0 || got.BlobGrace != time.Hour {
				t.Fatalf("retention %+v", got)
			}
		}},
		{name: "a negative retention is an error", file: "retention:\n  results: -1h\n", wantErr: "retention.results"},
		{name: "an orphan grace under a minute is an error", file: "retention:\n  orphan_grace: 10s\n", wantErr: "retention.orphan_grace"},
		{name: "no sweep interval is an error", file: "retention:\n  sweep_every: 0\n", wantErr: "retention.sweep_every"},
		{name: "the discord section is the bot's config, commands' keys included", file: "discord:\n  guild_ids: ['1']\n  art_channel_id: '2'\n  leaderboard_channel_id: '3'\n  audit_channel_id: '4'\n  moderator_role_ids: ['5']\n  commands_per_minute: 9\n  guild_commands_per_minute: 90\n  refusal_dm: true\n", check: func(t *testing.T, c Config) {
			d := c.Discord
			if len(d.GuildIDs) != 1 || d.GuildIDs[0] != "1" || d.ArtChannelID != "2" || d.LeaderboardChannelID != "3" || d.AuditChannelID != "4" ||
				len(d.ModeratorRoleIDs) != 1 || d.ModeratorRoleIDs[0] != "5" || d.CommandsPerMinute != 9 || d.GuildCommandsPerMinute != 90 || !d.RefusalDM {
				t.Fatalf("discord: %+v", d)
			}
		}},
		{name: "discord defaults", check: func(t *testing.T, c Config) {
			if d := c.Discord; d.CommandsPerMinute != 6 || d.GuildCommandsPerMinute != 60 || d.RefusalDM || d.ArtChannelID != "" {
				t.Fatalf("discord: %+v", d)
			}
		}},
		{name: "role rewards from the file", file: "discord:\n  role_rewards:\n    roles: [{role_id: \"9\", min_earned: 100, kinds: [award_art]}]\n    reconcile_every: 30m\n", check: func(t *testing.T, c Config) {
			r := c.Discord.RoleRewards
			if len(r.Roles) != 1 || r.Roles[0].MinEarned != 100 || r.Roles[0].Kinds[0] != kudos.KindAwardArt || r.Every() != 30*time.Minute {
				t.Fatalf("role rewards: %+v", r)
			}
		}},
		{name: "a role reward without a threshold is an error", file: "discord:\n  role_rewards:\n    roles: [{role_id: \"9\"}]\n", wantErr: "discord.role_rewards.roles[0]"},
		{name: "role limits from the file", file: "discord:\n  role_limits:\n    default: {max_steps: 30, cooldown: 30s}\n    roles: [{role_id: \"9\", max_steps: 100}]\n", check: func(t *testing.T, c Config) {
			r := c.Discord.RoleLimits
			if r.Default.MaxSteps != 30 || r.Default.Cooldown.Std() != 30*time.Second || len(r.Roles) != 1 || r.For([]string{"9"}).MaxSteps != 100 {
				t.Fatalf("role limits: %+v", r)
			}
		}},
		{name: "the style manager roles", file: "discord:\n  style_manager_role_ids: ['7', '8']\n", check: func(t *testing.T, c Config) {
			if r := c.Discord.StyleManagerRoleIDs; len(r) != 2 || r[0] != "7" || r[1] != "8" {
				t.Fatalf("style manager roles: %v", r)
			}
		}},
		{name: "a negative role limit is an error", file: "discord:\n  role_limits:\n    default: {max_count: -1}\n", wantErr: "discord.role_limits.default"},
		{name: "what the program sets is no discord key", file: "discord:\n  poll_interval: 1s\n", wantErr: "poll_interval"},
		{name: "metrics from the file", file: "metrics_listen: 127.0.0.1:9464\n", check: func(t *testing.T, c Config) {
			if c.MetricsListen != "127.0.0.1:9464" {
				t.Fatalf("metrics_listen %q", c.MetricsListen)
			}
		}},
		{name: "metrics from the environment", file: "metrics_listen: 127.0.0.1:9464\n", env: map[string]string{"HORDEBOT_METRICS_LISTEN": "0.0.0.0:9100"}, check: func(t *testing.T, c Config) {
			if c.MetricsListen != "0.0.0.0:9100" {
				t.Fatalf("metrics_listen %q", c.MetricsListen)
			}
		}},
		{name: "a metrics address without a port is an error", file: "metrics_listen: localhost\n", wantErr: "metrics_listen"},
		{name: "metrics on the API's address is an error", file: "metrics_listen: 127.0.0.1:7001\n", wantErr: "metrics_listen"},
		{name: "a typo is an error", file: "api:\n  lisen: x\n", wantErr: "lisen"},
		{name: "a bad kudos key is an error", file: "kudos:\n  giver_cap: 1\n", wantErr: "giver_cap"},
		{name: "a bad kudos schedule is an error", file: "kudos:\n  schedules:\n    art_tally: every day\n", wantErr: "schedules.art_tally"},
		{name: "a bad duration is an error", file: "moderation:\n  trust_min_age: soon\n", wantErr: "soon"},
		{name: "invalid yaml is an error", file: "api: [\n", wantErr: "config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = write(t, tt.file)
			}
			getenv := noEnv
			if tt.env != nil {
				getenv = func(k string) string { return tt.env[k] }
			}
			c, err := LoadConfig(path, getenv)
			if err == nil {
				_, err = kudosConfig(c)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want one mentioning %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

func TestSubcommands(t *testing.T) {
	noEnv := func(string) string { return "" }
	tests := []struct {
		args    []string
		wantOut string
		wantErr string
	}{
		{args: []string{"version"}, wantOut: "hordebot"},
		{args: []string{"config"}, wantOut: "escrow_percent"},
		{args: []string{"help"}, wantOut: "user add NAME"},
		{args: []string{"frobnicate"}, wantErr: "unknown command"},
		{args: []string{"user"}, wantErr: "usage"},
		{args: []string{"run"}, wantErr: "DISCORD_TOKEN"},
		{args: []string{"migrate", "--data", "@TMP"}, wantOut: "migrations applied"},
		{args: []string{"kudos", "verify", "--data", "@TMP"}, wantErr: "holds no hordebot database"},
		{args: []string{"user", "add", "alice", "--data", "@TMP"}, wantErr: "holds no hordebot database"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			for i, a := range tt.args {
				if a == "@TMP" {
					tt.args[i] = t.TempDir()
				}
			}
			var out bytes.Buffer
			err := run(context.Background(), tt.args, &out, io.Discard, noEnv)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out.String(), tt.wantOut) {
				t.Fatalf("output %q, want %q", out.String(), tt.wantOut)
			}
		})
	}
}

// TestAdminCommandsOnAnExistingHorde: after `migrate`, `kudos verify` checks
// the ledger and `user add` creates a user, but not a second one of the
// same name (issue 14.12: they made alice#1 and alice#2).
func TestAdminCommandsOnAnExistingHorde(t *testing.T) {
	noEnv := func(string) string { return "" }
	dir := t.TempDir()
	ctx := context.Background()
	if err := run(ctx, []string{"migrate", "--data", dir}, io.Discard, io.Discard, noEnv); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"kudos", "verify", "--data", dir}, &out, io.Discard, noEnv); err != nil || !strings.Contains(out.String(), "ok: every balance") {
		t.Fatalf("kudos verify: %v %q", err, out.String())
	}
	if err := run(ctx, []string{"user", "add", "alice", "--data", dir}, io.Discard, io.Discard, noEnv); err != nil {
		t.Fatalf("user add alice: %v", err)
	}
	err := run(ctx, []string{"user", "add", "alice", "--data", dir}, io.Discard, io.Discard, noEnv)
	if err == nil || !strings.Contains(err.Error(), "exists already (alice#") {
		t.Fatalf("user add alice twice: %v, want a refusal naming alice#id", err)
	}
}

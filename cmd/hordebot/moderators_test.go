package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
)

// TestModeratorsAreDefinedOnce: discord.moderator_role_ids is the one
// definition of moderators, for the bot's commands and the kudos engine's
// awards alike; kudos.moderator_roles, the deprecated alias, still works
// (merged in) and is reported. A moderator configured only under discord:
// used to pass the bot's check and then be told "Only moderators can give
// moderation awards" by the kudos engine.
func TestModeratorsAreDefinedOnce(t *testing.T) {
	tests := []struct {
		name           string
		yaml           func(role string) string
		wantDeprecated bool
	}{
		{"discord.moderator_role_ids only", func(r string) string {
			return fmt.Sprintf("discord:\n  moderator_role_ids: [%q]\n", r)
		}, false},
		{"the deprecated kudos.moderator_roles only", func(r string) string {
			return fmt.Sprintf("kudos:\n  moderator_roles: [%q]\n", r)
		}, true},
		{"both", func(r string) string {
			return fmt.Sprintf("discord:\n  moderator_role_ids: [%q]\nkudos:\n  moderator_roles: [%q]\n", r, r)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			srv := discordtest.New(discordtest.WithLogger(testLogger(t)))
			t.Cleanup(srv.Close)
			mod := srv.AddUser(discordgo.User{Username: "cleo"})
			member := srv.AddUser(discordgo.User{Username: "dev"})
			guild := srv.AddGuild(discordgo.Guild{Name: "gpus", OwnerID: mod.ID})
			role, err := srv.AddRole(guild.ID, discordgo.Role{Name: "moderators"})
			if err != nil {
				t.Fatal(err)
			}
			general, err := srv.AddChannel(discordgo.Channel{GuildID: guild.ID, Name: "general", Type: discordgo.ChannelTypeGuildText})
			if err != nil {
				t.Fatal(err)
			}
			joined := time.Now().Add(-90 * 24 * time.Hour)
			if _, err := srv.AddMember(guild.ID, discordgo.Member{User: mod, JoinedAt: joined, Roles: []string{role.ID}}); err != nil {
				t.Fatal(err)
			}
			if _, err := srv.AddMember(guild.ID, discordgo.Member{User: member, JoinedAt: joined}); err != nil {
				t.Fatal(err)
			}

			dir := t.TempDir()
			path := filepath.Join(dir, "hordebot.yaml")
			file := fmt.Sprintf("data: %q\napi:\n  listen: 127.0.0.1:0\n", filepath.Join(dir, "data")) + tt.yaml(role.ID)
			file = strings.Replace(file, "discord:\n", fmt.Sprintf("discord:\n  guild_ids: [%q]\n", guild.ID), 1)
			if !strings.Contains(file, "discord:") {
				file += fmt.Sprintf("discord:\n  guild_ids: [%q]\n", guild.ID)
			}
			if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadConfig(path, func(string) string { return "" })
			if err != nil {
				t.Fatal(err)
			}
			if _, got := cfg.DeprecatedKeys()["kudos.moderator_roles"]; got != tt.wantDeprecated {
				t.Errorf("deprecated kudos.moderator_roles reported: %v, want %v", got, tt.wantDeprecated)
			}
			app, err := OpenApp(ctx, cfg, testLogger(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { app.Close() })
			b := app.NewBot()
			sess, err := srv.NewSession(srv.Token())
			if err != nil {
				t.Fatal(err)
			}
			sess.LogLevel = discordgo.LogError
			if err := b.Start(ctx, sess); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { b.Stop(); go sess.Close() })

			tok, err := srv.SendInteraction(discordtest.Interaction{GuildID: guild.ID, ChannelID: general.ID, UserID: mod.ID, Command: "kudos",
				Options: discordtest.Opts(discordtest.SubCommand("award", discordtest.UserOpt("member", member.ID), discordtest.Opt("amount", 10)))})
			if err != nil {
				t.Fatal(err)
			}
			text, _, err := srv.WaitForReply(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(text, "awarded **10** kudos") {
				t.Fatalf("the moderator reads %q, want the award made", text)
			}
		})
	}
}

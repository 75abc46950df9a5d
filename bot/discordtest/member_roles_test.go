package discordtest_test

import (
	"slices"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest/discordtesting"
)

// TestMemberRoleChanges: PUT and DELETE of a member's role follow Discord's
// rules: Manage Roles, and only roles below the bot's highest one.
func TestMemberRoleChanges(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s := discordtesting.Session(t, f.srv)
	low, err := f.srv.AddRole(f.guild.ID, discordgo.Role{Name: "low"})
	must(t, err)
	manager, err := f.srv.AddRole(f.guild.ID, discordgo.Role{Name: "bot", Permissions: discordgo.PermissionManageRoles})
	must(t, err)
	high, err := f.srv.AddRole(f.guild.ID, discordgo.Role{Name: "high"})
	must(t, err)
	botID := f.srv.BotUser().ID
	tests := []struct {
		name     string
		botRoles []string
		role     string
		add      bool
		wantCode int // 0: success
		want     bool
	}{
		{"no Manage Roles", nil, low.ID, true, discordgo.ErrCodeMissingPermissions, false},
		{"give a role below", []string{manager.ID}, low.ID, true, 0, true},
		{"give it again", []string{manager.ID}, low.ID, true, 0, true},
		{"a role above the bot's", []string{manager.ID}, high.ID, true, discordgo.ErrCodeMissingPermissions, false},
		{"the bot's own role", []string{manager.ID}, manager.ID, true, discordgo.ErrCodeMissingPermissions, false},
		{"unknown role", []string{manager.ID}, "123", true, discordgo.ErrCodeUnknownRole, false},
		{"@everyone", []string{manager.ID}, f.guild.ID, true, discordgo.ErrCodeUnknownRole, false},
		{"take it", []string{manager.ID}, low.ID, false, 0, false},
		{"take it again", []string{manager.ID}, low.ID, false, 0, false},
	}
	for _, tt := range tests {
		must(t, f.srv.SetMemberRoles(f.guild.ID, botID, tt.botRoles))
		var err error
		if tt.add {
			err = s.GuildMemberRoleAdd(f.guild.ID, f.bob.ID, tt.role)
		} else {
			err = s.GuildMemberRoleRemove(f.guild.ID, f.bob.ID, tt.role)
		}
		code := 0
		if re, ok := err.(*discordgo.RESTError); ok && re.Message != nil {
			code = re.Message.Code
		} else if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if code != tt.wantCode {
			t.Errorf("%s: Discord code %d, want %d (%v)", tt.name, code, tt.wantCode, err)
		}
		m, _ := f.srv.Member(f.guild.ID, f.bob.ID)
		if got := slices.Contains(m.Roles, tt.role); got != tt.want {
			t.Errorf("%s: bob holds the role = %v, want %v", tt.name, got, tt.want)
		}
		if !slices.Contains(m.Roles, f.mod.ID) {
			t.Errorf("%s: bob lost his other role: %v", tt.name, m.Roles)
		}
	}
	if err := f.srv.SetMemberRoles(f.guild.ID, botID, []string{"404"}); err == nil {
		t.Error("SetMemberRoles took an unknown role")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

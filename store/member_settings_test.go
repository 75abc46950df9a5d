package store_test

import (
	"context"
	"testing"

	"github.com/hordebot/hordebot/bot/membersettings"
	"github.com/hordebot/hordebot/horde"
)

func TestMemberSettingsSurviveARestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clock := newFakeClock()
	s := mustOpenDir(t, dir, clock)
	alice, err := s.CreateUser(ctx, horde.User{Name: "alice", DiscordID: "100"}, "")
	if err != nil {
		t.Fatal(err)
	}
	bob := mustUser(t, s, "bob")

	if got, err := s.MemberSettings(ctx, alice.ID); err != nil || !got.IsZero() {
		t.Fatalf("settings before any = %+v, %v; want none", got, err)
	}
	want := membersettings.Settings{ImageModel: "sdxl", Width: 768, Height: 512, Steps: 25, Sampler: "k_euler", CFGScale: 6.5,
		StyleID: "st-1", NSFW: true, Private: true, TextModel: "llama", MaxLength: 300}
	if err := s.SetMemberSettings(ctx, alice.ID, want); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMemberSettings(ctx, bob.ID, membersettings.Settings{Steps: 10}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = mustOpenDir(t, dir, clock)
	tests := []struct {
		name string
		read func() (membersettings.Settings, error)
		want membersettings.Settings
	}{
		{"by user", func() (membersettings.Settings, error) { return s.MemberSettings(ctx, alice.ID) }, want},
		{"by Discord id", func() (membersettings.Settings, error) { return s.MemberSettingsOfDiscordUser(ctx, "100") }, want},
		{"another user's stay theirs", func() (membersettings.Settings, error) { return s.MemberSettings(ctx, bob.ID) }, membersettings.Settings{Steps: 10}},
		{"an unknown Discord id has none", func() (membersettings.Settings, error) { return s.MemberSettingsOfDiscordUser(ctx, "999") }, membersettings.Settings{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.read()
			if err != nil || got != tt.want {
				t.Fatalf("settings = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}

	t.Run("replaced, then reset", func(t *testing.T) {
		if err := s.SetMemberSettings(ctx, alice.ID, membersettings.Settings{Private: true}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.MemberSettings(ctx, alice.ID); got != (membersettings.Settings{Private: true}) {
			t.Fatalf("after replace = %+v", got)
		}
		if err := s.SetMemberSettings(ctx, alice.ID, membersettings.Settings{}); err != nil {
			t.Fatal(err)
		}
		if got, err := s.MemberSettings(ctx, alice.ID); err != nil || !got.IsZero() {
			t.Fatalf("after reset = %+v, %v", got, err)
		}
	})
}

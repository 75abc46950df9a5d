package commands

import (
	"reflect"
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// TestRoleLimitsFor: a member's limits are the most generous of the
// default and their roles' tiers.
func TestRoleLimitsFor(t *testing.T) {
	r := RoleLimits{
		Default: Limits{MaxSteps: 20, MaxCount: 1, MaxPixels: 512 * 512, MaxLength: 100, Models: []string{"a"}, Cooldown: kudos.Duration(time.Minute)},
		Roles: []RoleLimit{
			{RoleID: "pro", Limits: Limits{MaxSteps: 50, MaxCount: 4, Models: []string{"b"}, Cooldown: kudos.Duration(10 * time.Second)}},
			{RoleID: "vip", Limits: Limits{NSFW: true}},
		},
	}
	tests := []struct {
		name  string
		roles []string
		want  Limits
	}{
		{"no role", nil, r.Default},
		{"an unknown role", []string{"x"}, r.Default},
		{"pro raises what it sets and leaves the rest", []string{"pro"}, Limits{MaxSteps: 50, MaxCount: 4, MaxPixels: 512 * 512, MaxLength: 100, Models: []string{"a", "b"}, Cooldown: kudos.Duration(10 * time.Second)}},
		{"vip adds NSFW only", []string{"vip"}, Limits{MaxSteps: 20, MaxCount: 1, MaxPixels: 512 * 512, MaxLength: 100, Models: []string{"a"}, NSFW: true, Cooldown: kudos.Duration(time.Minute)}},
		{"both", []string{"vip", "pro"}, Limits{MaxSteps: 50, MaxCount: 4, MaxPixels: 512 * 512, MaxLength: 100, Models: []string{"a", "b"}, NSFW: true, Cooldown: kudos.Duration(10 * time.Second)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := r.For(tt.roles); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("For(%v) = %+v, want %+v", tt.roles, got, tt.want)
			}
		})
	}
	if err := (RoleLimits{Roles: []RoleLimit{{RoleID: "a"}, {RoleID: "a"}}}).Validate(); err == nil {
		t.Error("a role listed twice validated")
	}
	if err := (RoleLimits{Default: Limits{MaxSteps: -1}}).Validate(); err == nil {
		t.Error("a negative limit validated")
	}
}

// TestCooldownsStayBounded: the cooldown memory forgets members whose
// cooldown is long over once it grows.
func TestCooldownsStayBounded(t *testing.T) {
	var c cooldowns
	now := time.Unix(0, 0)
	for i := 0; i < 25_000; i++ {
		if !c.start(string(rune(i)), now.Add(time.Duration(i)*time.Second), time.Minute) {
			t.Fatalf("member %d's first cooldown did not start", i)
		}
	}
	if n := len(c.last); n > 10_100 {
		t.Fatalf("%d members remembered, want at most about 10,000", n)
	}
	last, at := string(rune(24_999)), now.Add(25_000*time.Second)
	if w := c.wait(last, time.Minute, at); w != time.Minute-time.Second {
		t.Fatalf("the last member waits %v, want 59s", w)
	}
	if c.start(last, at, time.Minute) {
		t.Fatal("a second cooldown started while the first runs")
	}
	c.cancel(last, now.Add(24_999*time.Second))
	if !c.start(last, at, time.Minute) {
		t.Fatal("a cancelled cooldown still holds")
	}
}

// TestCooldownWait: a cooldown's rest reads in whole hours, minutes or
// seconds, rounded up, so that "3599 seconds" never shows.
func TestCooldownWait(t *testing.T) {
	for _, tc := range []struct{ in, want time.Duration }{
		{59*time.Minute + 59*time.Second, time.Hour},
		{3*time.Hour + time.Second, 4 * time.Hour},
		{90 * time.Second, 90 * time.Second},
		{1500 * time.Millisecond, 2 * time.Second},
		{time.Hour, time.Hour},
	} {
		if got := cooldownWait(tc.in); got != tc.want {
			t.Errorf("cooldownWait(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

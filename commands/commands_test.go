package commands_test

import (
	"testing"

	"github.com/hordebot/hordebot/commands"
)

func TestComponentRouting(t *testing.T) {
	set := commands.New(commands.Config{}, commands.Deps{})
	tests := []struct {
		customID string
		want     string
		args     []string
	}{
		{"imagine/upscale/req-1/3", "imagine/upscale", []string{"req-1", "3"}},
		{"imagine/delete/req-1", "imagine/delete", []string{"req-1"}},
		{"imagine/unknown/req-1", "", nil},
		{"other", "", nil},
	}
	for _, tt := range tests {
		c, args := set.Component(tt.customID)
		switch {
		case tt.want == "" && c != nil:
			t.Errorf("%s routed to %s", tt.customID, c.Prefix)
		case tt.want != "" && (c == nil || c.Prefix != tt.want || len(args) != len(tt.args)):
			t.Errorf("%s: got %v %v, want %s %v", tt.customID, c, args, tt.want, tt.args)
		}
	}
	names := map[string]bool{}
	for _, d := range set.Definitions() {
		names[d.Name] = true
	}
	if len(names) != 6 {
		t.Errorf("definitions %v, want imagine, write, kudos, worker, horde, mod", names)
	}
}

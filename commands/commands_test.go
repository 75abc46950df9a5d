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
		{"image/upscale/req-1/2/4", "image/upscale", []string{"req-1", "2", "4"}},
		{"image/vary/req-1/1/subtle", "image/vary", []string{"req-1", "1", "subtle"}},
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
	want := []string{"imagine", "write", "kudos", "worker", "horde", "mod", "describe", "blend", "Describe", "Upscale", "Remix", "Kudos", "Award kudos"}
	for _, n := range want {
		if !names[n] {
			t.Errorf("no definition of %s among %v", n, names)
		}
	}
	if len(names) != len(want) {
		t.Errorf("definitions %v, want %v", names, want)
	}
	if f, args := set.Form("remix/123"); f == nil || f.Prefix != "remix" || len(args) != 1 || args[0] != "123" {
		t.Errorf("form remix/123 routed to %v %v", f, args)
	}
	if f, args := set.Form("kudos/award/42"); f == nil || f.Prefix != "kudos/award" || len(args) != 1 || args[0] != "42" {
		t.Errorf("form kudos/award/42 routed to %v %v", f, args)
	}
	if f, _ := set.Form("other/1"); f != nil {
		t.Errorf("form other/1 routed to %s", f.Prefix)
	}
}

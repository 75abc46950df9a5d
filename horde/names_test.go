package horde_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde"
)

// TestValidWorkerName: one rule for every way a worker is named.
func TestValidWorkerName(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"  gpu-1 ", "gpu-1", true},
		{"Jürgen's 東京 GPU", "Jürgen's 東京 GPU", true},
		{strings.Repeat("é", 100), strings.Repeat("é", 100), true},
		{strings.Repeat("é", 101), "", false},
		{"", "", false},
		{"gpu\x00", "", false},
		{"gpu\u0085x", "", false},   // C1 control
		{"gpu\u202ex", "", false},   // right-to-left override
		{"gpu\u2067x", "", false},   // right-to-left isolate
		{"gpu\u200bx", "", false},   // zero-width space
		{"gpu\u2060x", "", false},   // word joiner
		{"gpu\u00adx", "", false},   // soft hyphen
		{"gpu\u2028x", "", false},   // line separator
		{"gpu\ue000x", "", false},   // private use
		{"gpu\xffx", "", false},     // not UTF-8
		{"\u3164\u3164", "", false}, // Hangul fillers: a blank name
	} {
		got, err := horde.ValidWorkerName(tt.in)
		if tt.ok != (err == nil) || got != tt.want {
			t.Errorf("ValidWorkerName(%q) = %q, %v; want %q, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		var he *horde.Error
		if err != nil && (!errors.As(err, &he) || he.Kind != horde.KindInvalid || he.Field != "name") {
			t.Errorf("ValidWorkerName(%q): %v, want KindInvalid naming name", tt.in, err)
		}
	}
}

package interact_test

import (
	"testing"

	"github.com/hordebot/hordebot/bot/interact"
)

func TestIsSnowflake(t *testing.T) {
	for _, tt := range []struct {
		id   string
		want bool
	}{
		{"175928847299117063", true},
		{"1", true},
		{"18446744073709551615", true},
		{"18446744073709551616", false}, // over 64 bits
		{"", false},
		{"0", false},
		{"0175928847299117063", false},
		{"+175928847299117063", false},
		{"-1", false},
		{"1759 28847", false},
		{"abc", false},
		{"12?x=1", false},
		{"..", false},
	} {
		if got := interact.IsSnowflake(tt.id); got != tt.want {
			t.Errorf("IsSnowflake(%q) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

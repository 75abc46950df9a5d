package kudos_test

import (
	"testing"

	"github.com/hordebot/hordebot/kudos"
)

func TestIsThanks(t *testing.T) {
	tests := []struct {
		text string
		want bool
	}{
		{"thanks!", true},
		{"Thank you so much", true},
		{"thank u", true},
		{"thx mate", true},
		{"ty", true},
		{"tysm <3", true},
		{"Cheers, that fixed it", true},
		{"merci beaucoup", true},
		{"danke!", true},
		{"gracias amigo", true},
		{"спасибо", true},
		{"谢谢你", true},
		{"ありがとうございます", true},
		{"no thanks", false},
		{"thanks but no", false},
		{"I thank nobody", false},
		{"typing is hard", false},
		{"the thankless job", false},
		{"", false},
		{"what model is this?", false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			if got := kudos.IsThanks(tt.text); got != tt.want {
				t.Fatalf("IsThanks(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

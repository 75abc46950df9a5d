package horde_test

import (
	"testing"

	"github.com/hordebot/hordebot/horde"
)

func TestIsValidatedBackend(t *testing.T) {
	tests := []struct {
		agent string
		want  bool
	}{
		{"KoboldCppEmbedWorker:1.80.3:https://github.com/LostRuins/koboldcpp", true},
		{"KoboldCppEmbedWorker:2:x", true},
		{"AI Horde Worker~aphrodite~kai:5:https://github.com/Haidra-Org/AI-Horde-Worker", true},
		{"TabbyAPI:0.1.0-rc1:https://github.com/theroyallab/tabbyAPI", true},
		{"hordeworker:0.1.0:https://github.com/hordebot/hordebot", true},
		{"KoboldAI Bridge:10:https://example.org", false},
		{"unknown:0:unknown", false},
		{"KoboldCppEmbedWorker:1.80", false},            // no contact part: unparsable, as on the AI Horde
		{"KoboldCppEmbedWorker:v1.80:https://x", false}, // not a version number
		{"KoboldCppEmbedWorker:1.2.3.4:https://x", false},
		{"koboldcppembedworker:1:https://x", false}, // names are exact
		{"", false},
	}
	for _, tt := range tests {
		if got := horde.IsValidatedBackend(tt.agent); got != tt.want {
			t.Errorf("IsValidatedBackend(%q) = %v, want %v", tt.agent, got, tt.want)
		}
	}
}

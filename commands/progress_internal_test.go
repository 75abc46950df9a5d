package commands

import (
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde"
)

// TestProgressLinksTheLivePage: with the web pages' public address set, the
// progress message links to the request's live page; without it, no link.
func TestProgressLinksTheLivePage(t *testing.T) {
	d := delivery{RequestID: "0b5c-id", Kind: horde.KindImage, Prompt: "a fox"}
	p := horde.Progress{IsPossible: true, QueuePosition: 2, WaitTime: 30}
	for _, tc := range []struct {
		webURL, want string
	}{
		{"https://horde.example.org/", "<https://horde.example.org/r/0b5c-id>"},
		{"https://horde.example.org", "<https://horde.example.org/r/0b5c-id>"},
		{"", ""},
	} {
		s := &Set{cfg: Config{WebURL: tc.webURL}}
		text := s.progressText(d, p)
		if !strings.Contains(text, "queued at position 3") {
			t.Errorf("progress %q lost its first line", text)
		}
		if tc.want == "" && strings.Contains(text, "/r/") {
			t.Errorf("no web URL, yet the progress links a page: %q", text)
		}
		if tc.want != "" && !strings.Contains(text, tc.want) {
			t.Errorf("progress %q does not link %s", text, tc.want)
		}
	}
}

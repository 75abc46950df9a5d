package commands

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact/locale"
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

// TestProgressSaysASoonWaitOnce: a wait the horde puts at nothing reads
// once in every language ("faltan unos pocos segundos", not "faltan unos
// unos segundos").
func TestProgressSaysASoonWaitOnce(t *testing.T) {
	for _, tc := range []struct {
		loc         discordgo.Locale
		want, twice string
	}{
		{discordgo.SpanishES, "faltan unos pocos segundos", "unos unos"},
		{discordgo.German, "noch etwa ein paar Sekunden", "etwa etwa"},
		{discordgo.EnglishUS, "ETA ~a few seconds", "~~"},
	} {
		for _, p := range []horde.Progress{{IsPossible: true}, {IsPossible: true, Processing: 1}} {
			got := progressLine(locale.Default().For(tc.loc, ""), delivery{Kind: horde.KindImage, Prompt: "a fox"}, p)
			if !strings.Contains(got, strings.TrimPrefix(tc.want, "ETA ")) || strings.Contains(got, tc.twice) {
				t.Errorf("%s: %q, want %q once", tc.loc, got, tc.want)
			}
		}
	}
}

package bot_test

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
)

// TestAuditReasonsInTheModeratorsLanguage: the reasons the horde writes
// for its moderation events (horde/moderation.go, horde/trust.go) read in
// the audit channel's language; a moderator's own words are kept.
func TestAuditReasonsInTheModeratorsLanguage(t *testing.T) {
	t.Parallel()
	u := horde.User{ID: 3, Name: "bo", DiscordID: "1003"}
	tests := []struct {
		loc    discordgo.Locale
		ev     horde.ModerationEvent
		want   string
		noText string
	}{
		{discordgo.German, horde.ModerationEvent{Kind: horde.EventRefused, User: u, Reason: "rule csam; matched child, nude"},
			"Filterregel csam; Treffer: child, nude", "matched"},
		{discordgo.SpanishES, horde.ModerationEvent{Kind: horde.EventRefused, User: u, Reason: "rule blocklist"},
			"regla del filtro blocklist", "rule "},
		{discordgo.German, horde.ModerationEvent{Kind: horde.EventFlagged, User: u, Reason: "3 refused strikes (threshold 3)"},
			"3 refused-Verwarnungen (Schwelle 3)", "strikes"},
		{discordgo.SpanishES, horde.ModerationEvent{Kind: horde.EventFlagged, User: u,
			Reason: "2 csam reports from 2 trusted owners (threshold 2 from 2 owners)"},
			"2 reportes de csam de 2 dueños de confianza (umbral 2 de 2 dueños)", "trusted owners"},
		{discordgo.German, horde.ModerationEvent{Kind: horde.EventTrusted, User: u, Reason: "earned 500 kudos from generations; account 720h0m0s old"},
			"500 Kudos mit Generierungen verdient; Konto 30 Tage alt", "earned"},
		{discordgo.SpanishES, horde.ModerationEvent{Kind: horde.EventSuspicious, User: u, WorkerName: "w",
			Reason: "5 results faster than 40 megapixel-steps/s (last 95)"},
			"5 resultados más rápidos que 40 megapíxeles-paso/s (el último, 95)", "faster"},
		{discordgo.German, horde.ModerationEvent{Kind: horde.EventTrusted, User: u, Reason: "vouched for by the team"},
			"vouched for by the team", ""},
	}
	for _, tt := range tests {
		got := bot.FormatModerationEvent(locale.Default().For(tt.loc, ""), tt.ev)
		if !strings.Contains(got, tt.want) || tt.noText != "" && strings.Contains(got, tt.noText) {
			t.Errorf("%s %s %q: %q, want %q in it and no %q", tt.loc, tt.ev.Kind, tt.ev.Reason, got, tt.want, tt.noText)
		}
	}
}

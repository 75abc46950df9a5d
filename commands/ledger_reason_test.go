package commands_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/commands"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// ledgerUsers names horde user 7 as a Discord member and knows no other.
type ledgerUsers struct{}

func (ledgerUsers) UserInfo(_ context.Context, id int64) (horde.UserInfo, error) {
	if id == 7 {
		return horde.UserInfo{User: horde.User{ID: 7, Name: "ana", DiscordID: "1007"}}, nil
	}
	return horde.UserInfo{}, horde.NotFoundf("UserNotFound", "no user %d", id)
}

// TestLedgerReasons: every reason the kudos engine writes reads in the
// member's language in /kudos history (German and Spanish here), with the
// members it names as mentions; a moderator's own words are kept. The
// reasons come from the engine where it exports what writes them.
func TestLedgerReasons(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	pay := kudos.PaymentRules{UptimeBonus: 2}.SettleJob(kudos.JobSettlement{
		JobID: "j1", What: "image", RequesterID: 3, OwnerID: 7, Result: kudos.ResultOK, Cost: 10, Charge: 10, OwnerTrusted: true, At: at,
		Style: &kudos.StyleFee{RequestID: "r1", OwnerID: 9, Amount: 1},
	})
	uptime, _ := kudos.PaymentRules{UptimeBonus: 2}.UptimeEntry(7, "w1", 1, at)
	entries := append(pay.Entries, uptime,
		kudos.Entry{Kind: kudos.KindTransfer, Reason: "gave 5 kudos to user 7"},
		kudos.Entry{Kind: kudos.KindTransfer, Reason: "received 5 kudos from user 7"},
		kudos.Entry{Kind: kudos.KindAwardHelpful, Reason: "helpful award (reaction 🙏) from user 7"},
		kudos.Entry{Kind: kudos.KindAwardHelpful, Reason: "helpful award (thanks) from user 7"},
		kudos.Entry{Kind: kudos.KindAwardModeration, Reason: "moderation award: kept the peace"},
		kudos.Entry{Kind: kudos.KindAwardArt, Reason: "art tally 2026-12-03: 4 reactors"},
		kudos.Entry{Kind: kudos.KindRecurring, Reason: "monthly kudos 2026-12 for role 123456"},
		kudos.Entry{Kind: kudos.KindParty, Reason: "party budget held: lighthouses"},
		kudos.Entry{Kind: kudos.KindParty, Reason: "party award: lighthouses"},
		kudos.Entry{Kind: kudos.KindParty, Reason: "party budget returned: lighthouses"},
		kudos.Entry{Kind: kudos.KindRating, Reason: "rated images of a shared request"},
		kudos.Entry{Kind: kudos.KindEscrow, Reason: "escrow released: trusted by a moderator"},
		kudos.Entry{Kind: kudos.KindAdmin, Reason: "moderator adjustment"},
		kudos.Entry{Kind: kudos.KindAdmin, Reason: "refund for an outage"},
	)
	want := map[string][]string{
		"de": {"Bild-Anfrage", "Stilgebühr an seinen Ersteller", "eine Anfrage hat deinen Stil genutzt", "Bild-Generierung durch deinen Worker",
			"Worker-Laufzeit: 10 Minuten online", "5 Kudos an <@1007> geschenkt", "5 Kudos von <@1007> bekommen",
			"Auszeichnung für Hilfe (🙏) von <@1007>", "Auszeichnung für Hilfe (Dank) von <@1007>", "Auszeichnung für Moderation: kept the peace",
			"Kunstauswertung 2026-12-03: 4 Reaktionen", "monatliche Kudos 2026-12 für die Rolle <@&123456>",
			"Party-Budget zurückgehalten: lighthouses", "Party-Belohnung: lighthouses", "Party-Budget zurückerstattet: lighthouses",
			"Bilder eines geteilten Beitrags bewertet", "aus der Verwahrung freigegeben: trusted by a moderator",
			"Anpassung durch die Moderation", "Anpassung durch die Moderation: refund for an outage"},
		"es": {"solicitud de imagen", "tarifa de estilo para su creador", "una solicitud usó tu estilo", "generación de imagen de tu worker",
			"tiempo en línea del worker: 10 minutos", "diste 5 kudos a <@1007>", "recibiste 5 kudos de <@1007>",
			"premio por ayudar (🙏) de <@1007>", "premio por ayudar (agradecimiento) de <@1007>", "premio de moderación: kept the peace",
			"recuento de arte 2026-12-03: 4 reacciones", "kudos mensuales 2026-12 por el rol <@&123456>",
			"presupuesto de fiesta retenido: lighthouses", "premio de fiesta: lighthouses", "presupuesto de fiesta devuelto: lighthouses",
			"valoraste imágenes de una publicación compartida", "liberado de la custodia: trusted by a moderator",
			"ajuste de la moderación", "ajuste de la moderación: refund for an outage"},
	}
	for _, loc := range []discordgo.Locale{discordgo.German, discordgo.SpanishES} {
		p := locale.Default().For(loc, "")
		lines := want[p.Language().Code]
		if len(lines) != len(entries) {
			t.Fatalf("%s: %d expected lines for %d entries", p.Language().Code, len(lines), len(entries))
		}
		for i, e := range entries {
			got, err := commands.LedgerReason(context.Background(), p, ledgerUsers{}, e)
			if err != nil {
				t.Fatalf("%q: %v", e.Reason, err)
			}
			if got != lines[i] {
				t.Errorf("%s: %s %q reads %q, want %q", p.Language().Code, e.Kind, e.Reason, got, lines[i])
			}
		}
	}
	// An entry without a reason reads as its kind; a reason nobody wrote
	// here is shown as it is; an unknown (deleted) member reads as "user
	// #n" in the member's language.
	de := locale.Default().For(discordgo.German, "")
	es := locale.Default().For(discordgo.SpanishES, "")
	for _, tc := range []struct {
		p    *locale.Printer
		e    kudos.Entry
		want string
	}{
		{de, kudos.Entry{Kind: kudos.KindTransfer}, "Übertragung"},
		{de, kudos.Entry{Kind: kudos.KindGeneration, Reason: "something new"}, "something new"},
		{de, kudos.Entry{Kind: kudos.KindTransfer, Reason: "gave 1 kudos to user 42"}, "Benutzer #42"},
		{es, kudos.Entry{Kind: kudos.KindTransfer, Reason: "gave 1 kudos to user 42"}, "usuario #42"},
		{locale.Default().English(), kudos.Entry{Kind: kudos.KindTransfer, Reason: "gave 1 kudos to user 42"}, "user #42"},
	} {
		got, err := commands.LedgerReason(context.Background(), tc.p, ledgerUsers{}, tc.e)
		if err != nil || !strings.Contains(got, tc.want) {
			t.Errorf("%+v reads %q (%v), want %q in it", tc.e, got, err, tc.want)
		}
	}
}

package commands_test

import (
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/commands"
	"github.com/hordebot/hordebot/kudos"
)

// The flows below are what a member whose Discord speaks German or Spanish
// sees, through real discordgo sessions against the fake Discord: the
// progress, the result and its buttons, the single image's buttons, a
// party's announcement, the settings and a form.

// as sends a slash command for u in ch with the member's Discord locale.
func as(t *testing.T, h *harness, u *userT, ch *discordgo.Channel, loc discordgo.Locale, command string, opts ...*discordOption) string {
	t.Helper()
	tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: ch.GuildID, ChannelID: ch.ID, UserID: u.ID, Locale: loc,
		Command: command, Options: opts})
	must(t, err)
	return tok
}

// labels are a message's button labels, in order.
func labels(m discordtest.Message) []string {
	var out []string
	for _, b := range m.Buttons() {
		out = append(out, b.Label)
	}
	return out
}

// wantLabels fails unless m's buttons carry every one of want (and none of
// the English ones in refuse).
func wantLabels(t *testing.T, m discordtest.Message, want, refuse []string) {
	t.Helper()
	got := strings.Join(labels(m), " | ")
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("buttons %q lack %q", got, w)
		}
	}
	for _, r := range refuse {
		for _, l := range labels(m) {
			if l == r {
				t.Errorf("button %q is still in English (buttons %q)", r, got)
			}
		}
	}
	for _, l := range labels(m) {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("button label %q has %d characters; Discord takes 80", l, n)
		}
	}
}

// TestImagineInGerman: a German member's /imagine is queued, delivered and
// buttoned in German, and so is the single image U1 posts for them.
func TestImagineInGerman(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.WorkerCred("gpu")
	h.PopImages(w, "gpu-1")
	tok := as(t, h, h.Alice, h.General, discordgo.German, "imagine", opt("prompt", "ein roter Fuchs"), opt("count", 2), opt("seed", 7))
	queued := h.Original(tok, "queued", func(m discordtest.Message) bool { return strings.Contains(m.Content, "Warteschlange auf Platz") })
	wantContains(t, queued.Content, "„ein roter Fuchs“")
	h.ServeImages(w, "gpu-1")
	m := h.Original(tok, "result", hasFiles)
	wantContains(t, m.Content, "„ein roter Fuchs“")
	wantContains(t, m.Content, "Seed 7")
	wantContains(t, m.Content, "Kudos")
	wantLabels(t, m, []string{"U1", "U2", "Neu würfeln", "Variante", "Teilen", "Löschen"}, []string{"Reroll", "Variation", "Share", "Delete"})

	click, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: h.Alice.ID,
		Locale: discordgo.German, CustomID: findID(customIDs(m), "imagine/upscale/"), MessageID: m.ID})
	must(t, err)
	one := h.Original(click, "single image", hasFiles)
	wantContains(t, one.Content, "Bild 1 von „ein roter Fuchs“")
	wantLabels(t, one, []string{"Hochskalieren 2x", "Hochskalieren 4x", "Variieren (leicht)", "Variieren (stark)", "Herauszoomen", "Beschreiben", "Teilen", "Löschen"},
		[]string{"Upscale 2x", "Vary (Subtle)", "Zoom out", "Describe", "Share", "Delete"})

	// Deleting someone else's result is refused in the clicker's language.
	tok, err = h.Srv.SendInteraction(discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: h.Bob.ID,
		Locale: discordgo.SpanishES, CustomID: findID(customIDs(m), "imagine/delete/"), MessageID: m.ID})
	must(t, err)
	text, private := h.Reply(tok)
	if !private || !strings.Contains(text, "Solo quien pidió estas imágenes puede eliminarlas.") {
		t.Errorf("bob's delete: %q (private %v), want the Spanish refusal", text, private)
	}
}

// TestPartyStartInSpanish: a Spanish host's party is announced in Spanish,
// its status too, and a member's image in it says what it earned in their
// own language.
func TestPartyStartInSpanish(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	fund(t, h, h.Alice, 100)
	text, _ := h.Reply(as(t, h, h.Alice, h.General, discordgo.SpanishES, "party", partyStartOpts(60, 5, 30, opt("interval_minutes", 10))))
	for _, want := range []string{"**Fiesta: «lighthouses at dusk»**", "organizada por <@" + h.Alice.ID + ">",
		"gana **5** kudos, una vez por miembro cada 10 minutos", "presupuesto de **30** kudos"} {
		wantContains(t, text, want)
	}
	if strings.Contains(text, "hosted by") {
		t.Errorf("announcement %q is still in English", text)
	}
	status, private := h.Reply(as(t, h, h.Bob, h.General, discordgo.SpanishLATAM, "party", sub("status")))
	if !private {
		t.Error("/party status is public")
	}
	wantContains(t, status, "0 generaciones hasta ahora")
	wantContains(t, status, "quedan **30**")

	c := h.WorkerCred("gpu")
	h.PopImages(c, "gpu")
	tok := as(t, h, h.Bob, h.General, discordgo.German, "imagine", opt("prompt", "ein Leuchtturm"))
	h.Original(tok, "queued", func(m discordtest.Message) bool { return strings.Contains(m.Content, "Platz") })
	h.ServeImages(c, "gpu")
	m := h.Original(tok, "result", hasFiles)
	wantContains(t, m.Content, "Party „lighthouses at dusk“: **+5** Kudos vom Gastgeber.")
}

// TestSettingsAndFormsInTheMembersLanguage: /settings show in Spanish, a
// /settings refusal in German, and the Remix form in German.
func TestSettingsAndFormsInTheMembersLanguage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	text, _ := h.Reply(as(t, h, h.Alice, h.General, discordgo.SpanishES, "settings", sub("show")))
	for _, want := range []string{"**Tus ajustes**", "modelo de /imagine: — (cualquier modelo en línea)", "tamaño: — (cuadrada 512x512)",
		"nsfw: — (no; solo canales con restricción de edad)"} {
		wantContains(t, text, want)
	}
	text, _ = h.Reply(as(t, h, h.Alice, h.General, discordgo.German, "settings", sub("set")))
	wantContains(t, text, "Gib mindestens eine Einstellung an")

	pic := postImage(t, h, "field.png", colourPNG(t, 64, 64, fieldGreen))
	tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: h.Alice.ID,
		Locale: discordgo.German, Command: "Remix", CommandType: discordgo.MessageApplicationCommand, TargetID: pic.ID})
	must(t, err)
	modal, err := h.Srv.WaitForModal(h.Ctx, tok)
	must(t, err)
	if modal.Title != "Dieses Bild remixen" {
		t.Errorf("Remix form title %q", modal.Title)
	}
	if in, ok := modal.Input("strength"); !ok || in.Value != "0,6" || !strings.HasPrefix(in.Label, "Stärke") {
		t.Errorf("Remix strength input %+v, want German with 0,6", in)
	}
}

// TestWordingsKeepDiscordsLimits: in every language a button label fits
// Discord's 80 characters, a form's title and input labels its 45 and a
// placeholder its 100 (with the longest values the code puts in them).
func TestWordingsKeepDiscordsLimits(t *testing.T) {
	t.Parallel()
	limits := map[string]int{"remix.title": 45, "remix.prompt.label": 45, "remix.strength.label": 45, "remix.prompt.placeholder": 100}
	for _, lang := range locale.Languages {
		for _, k := range locale.Default().Keys(lang.Code) {
			limit, ok := limits[k]
			if strings.HasPrefix(k, "button.") {
				limit, ok = 80, true
			}
			if !ok {
				continue
			}
			p := locale.Default().For(lang.Discord[0], "")
			if got := p.T(k, locale.Args{"Factor": 4}); len([]rune(got)) > limit {
				t.Errorf("%s %s %q has %d characters; Discord takes %d", lang.Code, k, got, len([]rune(got)), limit)
			}
		}
	}
}

// TestRoleLimitsInTheMembersLanguage: a role limit's refusal names the
// role that would allow it in the member's language, and a cooldown says
// its rest in whole units (the fake clock stands still: a full hour).
func TestRoleLimitsInTheMembersLanguage(t *testing.T) {
	t.Parallel()
	var pro string
	h := newHarness(t, func(c *bot.Config, _ *kudos.Config) {
		pro = c.ModeratorRoleIDs[0]
		c.RoleLimits = commands.RoleLimits{
			Default: commands.Limits{MaxSteps: 20, Cooldown: kudos.Duration(time.Hour)},
			Roles:   []commands.RoleLimit{{RoleID: pro, Limits: commands.Limits{MaxSteps: 50}}},
		}
	})
	text, _ := h.Reply(as(t, h, h.Alice, h.General, discordgo.German, "imagine", opt("prompt", "ein Fuchs"), opt("steps", 40)))
	wantContains(t, text, "Deine Rollen erlauben höchstens 20 Schritte. Die Rolle <@&"+pro+"> würde es erlauben.")

	h.PopImages(h.WorkerCred("gpu"), "gpu")
	tok := as(t, h, h.Alice, h.General, discordgo.SpanishES, "imagine", opt("prompt", "un zorro"))
	h.Original(tok, "queued", func(m discordtest.Message) bool { return strings.Contains(m.Content, "«un zorro»") })
	text, _ = h.Reply(as(t, h, h.Alice, h.General, discordgo.SpanishES, "imagine", opt("prompt", "otro zorro")))
	wantContains(t, text, "Podrás volver a pedir dentro de 1 hora.")
}

// TestRefusalsLeftInEnglishNowTranslated: what stayed English after a
// translated lead-in (issue 12's leftovers) reads in the member's language:
// a subcommand Discord still offers from a stale registration, and the
// horde's own validation of an option Discord should have bounded (a
// stale registration again: the fake, as an old client, sends any value).
func TestRefusalsLeftInEnglishNowTranslated(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.PopImages(h.WorkerCred("gpu"), "gpu-1") // an image worker is online: requests are possible
	for _, tt := range []struct {
		name    string
		loc     discordgo.Locale
		command string
		opts    []*discordOption
		want    string
		english string // what the member read before
	}{
		{"a stale subcommand, in German", discordgo.German, "kudos", []*discordOption{sub("gift")},
			"/kudos hat keinen Unterbefehl `gift` (mehr)", "unknown subcommand"},
		{"a stale subcommand, in Spanish", discordgo.SpanishES, "horde", []*discordOption{sub("weather")},
			"/horde (ya) no tiene el subcomando `weather`", "unknown subcommand"},
		{"a stale subcommand, in English", discordgo.EnglishUS, "kudos", []*discordOption{sub("gift")},
			"/kudos has no subcommand `gift` (any more)", "unknown subcommand"},
		{"a max_length past the horde's, in German", discordgo.German, "write", []*discordOption{opt("prompt", "once upon a time"), opt("max_length", 99999)},
			"Die Länge muss zwischen 16 und 4096 Tokens liegen.", "max_length must be"},
		{"a max_length past the horde's, in Spanish", discordgo.SpanishES, "write", []*discordOption{opt("prompt", "once upon a time"), opt("max_length", 99999)},
			"La longitud debe estar entre 16 y 4096 tokens.", "max_length must be"},
		{"steps past the horde's, in Spanish", discordgo.SpanishES, "imagine", []*discordOption{opt("prompt", "a lighthouse"), opt("steps", 900)},
			"Los pasos deben estar entre 1 y 500.", "steps must be"},
		{"steps past the horde's, in German", discordgo.German, "imagine", []*discordOption{opt("prompt", "a lighthouse"), opt("steps", 900)},
			"Die Schritte müssen zwischen 1 und 500 liegen.", "steps must be"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			text, private := h.On(t).Reply(as(t, h, h.Bob, h.General, tt.loc, tt.command, tt.opts...))
			if !private || !strings.Contains(text, tt.want) {
				t.Errorf("reply %q (private %v), want a private %q", text, private, tt.want)
			}
			if strings.Contains(text, tt.english) || strings.Contains(text, "(Option") || strings.Contains(text, "(opción") {
				t.Errorf("reply %q still has English or an option note", text)
			}
		})
	}
}

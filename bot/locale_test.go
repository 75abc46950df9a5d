package bot_test

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/kudos"
)

// TestRepliesInTheMembersLanguage: a member reads the bot in their Discord
// language when the bot speaks it, else in the guild's, else in English;
// the domain's refusals too, and a subcommand Discord offers from a stale
// registration. (An error the catalogs do not word shows its English
// message under the kind's reply: TestReplyInLanguages.)
func TestRepliesInTheMembersLanguage(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	german := h.Srv.AddGuild(discordgo.Guild{Name: "gpus-de", PreferredLocale: string(discordgo.German)})
	plaza, err := h.Srv.AddChannel(discordgo.Channel{GuildID: german.ID, Name: "allgemein", Type: discordgo.ChannelTypeGuildText})
	must(t, err)
	for _, u := range []*userT{h.Alice, h.Bob} {
		_, err := h.Srv.AddMember(german.ID, discordgo.Member{User: u})
		must(t, err)
	}
	// Alice has kudos to give.
	h.Reply(h.Run(h.Mod, h.General, "kudos", sub("award", userOpt("member", h.Alice.ID), opt("amount", 50))))

	tests := []struct {
		name        string
		locale      discordgo.Locale
		channel     *discordgo.Channel
		opts        *discordOption
		want        []string
		mustNotHave string
	}{
		{name: "German member reads German", locale: discordgo.German, channel: h.General, opts: sub("balance"),
			want: []string{"Du hast **50** Kudos.", "Horde-Benutzer `alice#", "noch nicht vertrauenswürdig", "0 Worker"}, mustNotHave: "You have"},
		{name: "Latin American Spanish member reads Spanish", locale: discordgo.SpanishLATAM, channel: h.General, opts: sub("balance"),
			want: []string{"Tienes **50** kudos.", "Usuario de la horda", "0 workers"}, mustNotHave: "You have"},
		{name: "Spanish of Spain reads Spanish", locale: discordgo.SpanishES, channel: h.General, opts: sub("history"),
			want: []string{"**Tus últimos movimientos de kudos**"}},
		{name: "unknown locale in a German guild reads German", locale: discordgo.Japanese, channel: plaza, opts: sub("balance"),
			want: []string{"Du hast **50** Kudos."}},
		{name: "French member in a US guild reads English", locale: discordgo.French, channel: h.General, opts: sub("balance"),
			want: []string{"You have **50** kudos.", "not yet trusted", "0 workers"}},
		{name: "default locale reads English", channel: h.General, opts: sub("balance"),
			want: []string{"You have **50** kudos."}},
		{name: "a kudos refusal in German", locale: discordgo.German, channel: h.General, opts: sub("give", userOpt("member", h.Alice.ID), opt("amount", 5)),
			want: []string{"⚠️ Du kannst dir nicht selbst Kudos geben."}, mustNotHave: "yourself"},
		{name: "a refusal with a value in Spanish", locale: discordgo.SpanishES, channel: h.General, opts: sub("give", userOpt("member", h.Bob.ID), opt("amount", 1000)),
			want: []string{"No tienes 1000 kudos para dar."}},
		{name: "a refusal in the guild's language", locale: discordgo.Japanese, channel: plaza, opts: sub("give", userOpt("member", h.Bob.ID), opt("amount", 1000)),
			want: []string{"Du hast keine 1000 Kudos zum Verschenken."}},
		{name: "a subcommand of a stale registration in German", locale: discordgo.German, channel: h.General, opts: sub("nonsense"),
			want: []string{"⚠️ /kudos hat keinen Unterbefehl `nonsense` (mehr)"}, mustNotHave: "subcommand"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := h.On(t)
			tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: tt.channel.GuildID, ChannelID: tt.channel.ID, UserID: h.Alice.ID,
				Locale: tt.locale, Command: "kudos", Options: []*discordOption{tt.opts}})
			must(t, err)
			text, _ := h.Reply(tok)
			for _, w := range tt.want {
				wantContains(t, text, w)
			}
			if tt.mustNotHave != "" && strings.Contains(text, tt.mustNotHave) {
				t.Fatalf("reply %q has %q", text, tt.mustNotHave)
			}
		})
	}
}

// TestRegisteredCommandsAreLocalized: the commands the bot registers at
// Discord carry German and Spanish names and descriptions, on the commands,
// their subcommands, options and choices.
func TestRegisteredCommandsAreLocalized(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	byName := map[string]*discordgo.ApplicationCommand{}
	for _, c := range h.Srv.Commands(h.Guild.ID) {
		byName[c.Name] = c
	}
	kudosCmd := byName["kudos"]
	if kudosCmd == nil || kudosCmd.DescriptionLocalizations == nil {
		t.Fatalf("registered /kudos %+v has no description localisations", kudosCmd)
	}
	for loc, want := range map[discordgo.Locale]string{
		discordgo.German:       "Die Kudos der Community: Kontostand, Geschenke, Bestenliste",
		discordgo.SpanishES:    "Los kudos de la comunidad: saldo, regalos, clasificación",
		discordgo.SpanishLATAM: "Los kudos de la comunidad: saldo, regalos, clasificación",
	} {
		if got := (*kudosCmd.DescriptionLocalizations)[loc]; got != want {
			t.Errorf("/kudos description in %s: %q, want %q", loc, got, want)
		}
	}
	var give *discordgo.ApplicationCommandOption
	for _, o := range kudosCmd.Options {
		if o.Name == "give" {
			give = o
		}
	}
	if give == nil || give.NameLocalizations[discordgo.German] != "schenken" || give.NameLocalizations[discordgo.SpanishLATAM] != "dar" {
		t.Fatalf("/kudos give localisations: %+v", give)
	}
	if amount := give.Options[1]; amount.Name != "amount" || amount.NameLocalizations[discordgo.German] != "menge" ||
		amount.DescriptionLocalizations[discordgo.SpanishES] != "Cuántos kudos" {
		t.Fatalf("/kudos give amount localisations: %+v", amount)
	}
	var kind *discordgo.ApplicationCommandOption
	for _, o := range byName["worker"].Options {
		if o.Name == "register" {
			kind = o.Options[1]
		}
	}
	if kind == nil || kind.Choices[0].NameLocalizations[discordgo.German] != "Bilder" || kind.Choices[1].NameLocalizations[discordgo.SpanishES] != "texto" {
		t.Fatalf("/worker register kind choices: %+v", kind)
	}
	if n := byName["horde"].NameLocalizations; n == nil || (*n)[discordgo.SpanishES] != "horda" {
		t.Fatalf("/horde name localisations: %v", n)
	}
}

// TestPostsInTheConfiguredLanguage: what the bot posts outside an
// interaction (the weekly leaderboard here) is in the configured locale.
func TestPostsInTheConfiguredLanguage(t *testing.T) {
	t.Parallel()
	h := newHarness(t, func(c *bot.Config, _ *kudos.Config) { c.Locale = string(discordgo.SpanishES) })
	h.Reply(h.Run(h.Mod, h.General, "kudos", sub("award", userOpt("member", h.Bob.ID), opt("amount", 30))))
	lb, err := h.Kudos.Leaderboard(h.Ctx, h.Clock.Now())
	must(t, err)
	must(t, h.Bot.PostLeaderboard(h.Ctx, lb))
	m, err := h.Srv.WaitForMessage(h.Ctx, h.General.ID, func(m discordtest.Message) bool {
		return strings.Contains(m.Content, "Clasificación semanal de kudos")
	})
	must(t, err)
	wantContains(t, m.Content, "<@"+h.Bob.ID+"> — 30")
	wantContains(t, m.Content, "Más moderación: <@"+h.Bob.ID+"> (30)")
}

package commands_test

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/kudos"
)

// userMenu sends the user context menu name on target as by, in #general.
func userMenu(t *testing.T, h *harness, by *userT, name, targetID string, loc discordgo.Locale) string {
	t.Helper()
	tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: by.ID, Locale: loc,
		Command: name, CommandType: discordgo.UserApplicationCommand, TargetID: targetID})
	must(t, err)
	return tok
}

// TestUserMenuKudos: the Kudos menu on a member shows that member's kudos
// as /kudos balance shows one's own, privately, in the caller's language;
// on a bot it is refused.
func TestUserMenuKudos(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	text, _ := h.Reply(h.Run(h.Mod, h.General, "kudos", sub("award", userOpt("member", h.Alice.ID), opt("amount", 40))))
	wantContains(t, text, "awarded **40** kudos")

	for _, tt := range []struct {
		name   string
		target string
		loc    discordgo.Locale
		want   []string
	}{
		{"another member's balance", h.Alice.ID, discordgo.EnglishUS, []string{"<@" + h.Alice.ID + "> has **40** kudos", "Horde user `alice#"}},
		{"in German", h.Alice.ID, discordgo.German, []string{"<@" + h.Alice.ID + "> hat **40** Kudos", "Horde-Benutzer"}},
		{"a member with no kudos yet", h.Bob.ID, discordgo.EnglishUS, []string{"<@" + h.Bob.ID + "> has **0** kudos"}},
		{"a bot is refused", h.Bot2.ID, discordgo.EnglishUS, []string{"Bots neither give nor receive kudos"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := h.On(t)
			text, private := h.Reply(userMenu(t, h, h.Bob, "Kudos", tt.target, tt.loc))
			if !private {
				t.Errorf("reply %q is public, want it private", text)
			}
			for _, w := range tt.want {
				wantContains(t, text, w)
			}
		})
	}
}

// TestUserMenuAwardKudos: Award kudos opens a form for the amount and a
// reason; its submit is a moderation award for a moderator (audited) and a
// gift of one's own kudos for a member, with the same rules and refusals
// as /kudos award and /kudos give.
func TestUserMenuAwardKudos(t *testing.T) {
	t.Parallel()
	h := newHarness(t)

	form := func(t *testing.T, by *userT, target string, loc discordgo.Locale) (string, discordtest.Modal) {
		t.Helper()
		tok := userMenu(t, h, by, "Award kudos", target, loc)
		m, err := h.Srv.WaitForModal(h.Ctx, tok)
		must(t, err)
		for _, in := range []string{"amount", "reason"} {
			if _, ok := m.Input(in); !ok {
				t.Fatalf("form %+v has no %s input", m, in)
			}
		}
		return tok, m
	}
	submit := func(t *testing.T, tok, amount, reason string) (string, bool) {
		t.Helper()
		sub, err := h.Srv.SubmitModal(tok, map[string]string{"amount": amount, "reason": reason})
		must(t, err)
		return h.Reply(sub)
	}

	t.Run("a moderator awards", func(t *testing.T) {
		tok, m := form(t, h.Mod, h.Alice.ID, discordgo.EnglishUS)
		wantContains(t, m.Title, "Award kudos to alice")
		text, private := submit(t, tok, "30", "patient answers")
		if private {
			t.Errorf("the award %q is private, want it in the channel", text)
		}
		wantContains(t, text, "<@"+h.Mod.ID+"> awarded **30** kudos to <@"+h.Alice.ID+">: patient answers")
		wantBalance(t, h, "alice", 30)
		a, err := h.Srv.WaitForMessage(h.Ctx, h.Audit.ID, func(m discordtest.Message) bool { return strings.Contains(m.Content, "patient answers") })
		must(t, err)
		wantContains(t, a.Content, "<@"+h.Mod.ID+">")
		entries, err := h.Kudos.History(h.Ctx, h.User(h.Alice).ID, 1)
		must(t, err)
		if len(entries) != 1 || entries[0].Kind != kudos.KindAwardModeration {
			t.Errorf("alice's last entry %+v, want a moderation award", entries)
		}
	})
	t.Run("a member gives of their own kudos", func(t *testing.T) {
		tok, m := form(t, h.Alice, h.Bob.ID, discordgo.EnglishUS)
		wantContains(t, m.Title, "Give kudos to bob")
		text, _ := submit(t, tok, "12", "")
		wantContains(t, text, "<@"+h.Alice.ID+"> gave **12** kudos to <@"+h.Bob.ID+">")
		wantBalance(t, h, "alice", 18)
		wantBalance(t, h, "bob", 12)
	})
	t.Run("the form in Spanish", func(t *testing.T) {
		_, m := form(t, h.Mod, h.Bob.ID, discordgo.SpanishES)
		wantContains(t, m.Title, "Otorgar kudos a bob")
	})
	t.Run("refusals", func(t *testing.T) {
		for _, tt := range []struct {
			name   string
			by     *userT
			target string
			amount string
			want   string
		}{
			{"more than one has", h.Alice, h.Mod.ID, "500", "500 kudos"},
			{"giving straight back (ping-pong)", h.Bob, h.Alice.ID, "5", "wait a little"},
			{"not a number", h.Alice, h.Bob.ID, "lots", "positive number of kudos"},
			{"zero", h.Mod, h.Alice.ID, "0", "positive number of kudos"},
			{"over the award limit", h.Mod, h.Alice.ID, "1000000", "at most"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				tok, _ := form(t, tt.by, tt.target, discordgo.EnglishUS)
				text, private := submit(t, tok, tt.amount, "")
				if !private || !strings.Contains(text, tt.want) {
					t.Errorf("reply %q (private %v), want a private %q", text, private, tt.want)
				}
			})
		}
		for _, tt := range []struct {
			name   string
			by     *userT
			target string
			want   string
		}{
			{"oneself, as a member", h.Alice, h.Alice.ID, "You cannot give kudos to yourself"},
			{"oneself, as a moderator", h.Mod, h.Mod.ID, "You cannot award yourself"},
			{"a bot", h.Mod, h.Bot2.ID, "Bots neither give nor receive kudos"},
		} {
			t.Run(tt.name+" (no form)", func(t *testing.T) {
				text, private := h.Reply(userMenu(t, h, tt.by, "Award kudos", tt.target, discordgo.EnglishUS))
				if !private || !strings.Contains(text, tt.want) {
					t.Errorf("reply %q (private %v), want a private %q", text, private, tt.want)
				}
			})
		}
		wantBalance(t, h, "alice", 18)
		wantBalance(t, h, "bob", 12)
	})
}

// TestForgedAwardKudosSubmit: the Award kudos form's custom ID is the
// client's to send, so its submit checks again whom it names. A forged
// submit naming a made-up id, a Discord user who is not on the server, a
// bot, oneself or no snowflake at all is refused in the member's language,
// pays nothing and creates no horde user; a member who never used the bot
// (no horde user: the menu would have made one) is refused too.
func TestForgedAwardKudosSubmit(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	text, _ := h.Reply(h.Run(h.Mod, h.General, "kudos", sub("award", userOpt("member", h.Bob.ID), opt("amount", 50))))
	wantContains(t, text, "awarded **50** kudos")
	stranger := h.Srv.AddUser(discordgo.User{Username: "stranger"}) // a Discord user, not on the server
	newcomer := h.Srv.AddUser(discordgo.User{Username: "newcomer"}) // on the server, never used the bot
	_, err := h.Srv.AddMember(h.Guild.ID, discordgo.Member{User: newcomer})
	must(t, err)
	const madeUp = "123456789012345678"

	forged := func(t *testing.T, by *userT, customID string, loc discordgo.Locale) (string, bool) {
		t.Helper()
		tok, err := h.Srv.SendInteraction(discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: by.ID, Locale: loc,
			CustomID: customID, Fields: []discordtest.ModalField{{CustomID: "amount", Value: "5"}, {CustomID: "reason", Value: "forged"}}})
		must(t, err)
		return h.On(t).Reply(tok)
	}
	for _, tt := range []struct {
		name   string
		by     *userT
		target string
		loc    discordgo.Locale
		want   string
	}{
		{"a made-up id, by a member", h.Bob, madeUp, discordgo.EnglishUS, "That member is not on this server."},
		{"a made-up id, by a moderator", h.Mod, madeUp, discordgo.EnglishUS, "That member is not on this server."},
		{"a made-up id, in German", h.Bob, madeUp, discordgo.German, "Dieses Mitglied ist nicht auf diesem Server."},
		{"a made-up id, in Spanish", h.Mod, madeUp, discordgo.SpanishES, "Ese miembro no está en este servidor."},
		{"a user not on the server", h.Bob, stranger.ID, discordgo.EnglishUS, "That member is not on this server."},
		{"a member with no horde user", h.Bob, newcomer.ID, discordgo.EnglishUS, "That member has no kudos account yet."},
		{"a bot", h.Bob, h.Bot2.ID, discordgo.EnglishUS, "Bots neither give nor receive kudos."},
		{"a bot, in Spanish", h.Mod, h.Bot2.ID, discordgo.SpanishES, "Los bots no dan ni reciben kudos."},
		{"oneself, as a member", h.Bob, h.Bob.ID, discordgo.EnglishUS, "You cannot give kudos to yourself."},
		{"oneself, as a moderator", h.Mod, h.Mod.ID, discordgo.German, "Du kannst dich nicht selbst auszeichnen."},
		{"not a snowflake", h.Bob, "<@" + h.Alice.ID + ">", discordgo.EnglishUS, "This form is malformed."},
		{"a snowflake with a leading zero", h.Mod, "0" + h.Alice.ID, discordgo.EnglishUS, "This form is malformed."},
		{"nothing", h.Bob, "", discordgo.EnglishUS, "This form is malformed."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			text, private := forged(t, tt.by, "kudos/award/"+tt.target, tt.loc)
			if !private || !strings.Contains(text, tt.want) {
				t.Errorf("reply %q (private %v), want a private %q", text, private, tt.want)
			}
		})
	}
	wantBalance(t, h, "bob", 50)
	for _, id := range []string{madeUp, stranger.ID, newcomer.ID, h.Bot2.ID} {
		if u, err := h.Store.UserByDiscordID(h.Ctx, id); err == nil {
			t.Errorf("a forged submit made horde user %+v for Discord id %s", u, id)
		}
	}

	t.Run("a forged submit naming a member still gives", func(t *testing.T) {
		h.User(h.Alice) // alice has used the bot
		text, _ := forged(t, h.Bob, "kudos/award/"+h.Alice.ID, discordgo.EnglishUS)
		wantContains(t, text, "<@"+h.Bob.ID+"> gave **5** kudos to <@"+h.Alice.ID+">")
		wantBalance(t, h, "bob", 45)
	})
}

package commands_test

import (
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
)

func TestKudosCommands(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	steps := []struct {
		name        string
		user        string // alice, bob or mod
		sub         string
		opts        []any // name, value pairs; a *user value becomes a user option
		wantText    string
		wantPrivate bool
		check       func(t *testing.T)
	}{
		{name: "award by a non-moderator is refused", user: "bob", sub: "award", opts: []any{"member", "alice", "amount", 50},
			wantText: "Only moderators", wantPrivate: true,
			check: func(t *testing.T) { wantBalance(t, h, "alice", 0) }},
		{name: "moderator award", user: "mod", sub: "award", opts: []any{"member", "alice", "amount", 50, "reason", "great answers"},
			wantText: "awarded **50** kudos",
			check: func(t *testing.T) {
				wantBalance(t, h, "alice", 50)
				m, err := h.Srv.WaitForMessage(h.Ctx, h.Audit.ID, func(m discordtest.Message) bool { return strings.Contains(m.Content, "great answers") })
				must(t, err)
				wantContains(t, m.Content, "<@"+h.Mod.ID+">")
			}},
		{name: "balance", user: "alice", sub: "balance", wantText: "**50** kudos", wantPrivate: true},
		{name: "balance shows the find_user view", user: "alice", sub: "balance", wantText: "Horde user `alice#", wantPrivate: true},
		{name: "give", user: "alice", sub: "give", opts: []any{"member", "bob", "amount", 20},
			wantText: "gave **20** kudos",
			check: func(t *testing.T) {
				wantBalance(t, h, "alice", 30)
				wantBalance(t, h, "bob", 20)
			}},
		{name: "give more than one has is refused", user: "alice", sub: "give", opts: []any{"member", "bob", "amount", 1000},
			wantText: "1000 kudos", wantPrivate: true,
			check: func(t *testing.T) { wantBalance(t, h, "alice", 30) }},
		{name: "give to oneself is refused", user: "alice", sub: "give", opts: []any{"member", "alice", "amount", 5},
			wantText: "yourself", wantPrivate: true},
		{name: "give to a bot is refused", user: "alice", sub: "give", opts: []any{"member", "otherbot", "amount", 5},
			wantText: "Bots", wantPrivate: true},
		{name: "ping-pong is refused", user: "bob", sub: "give", opts: []any{"member", "alice", "amount", 5},
			wantText: "🚫", wantPrivate: true},
		{name: "history", user: "alice", sub: "history", wantText: "great answers", wantPrivate: true},
		{name: "leaderboard", user: "bob", sub: "leaderboard", wantText: "<@" + h.Alice.ID + "> — 50"},
	}
	users := map[string]string{"alice": h.Alice.ID, "bob": h.Bob.ID, "mod": h.Mod.ID, "otherbot": h.Bot2.ID}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			h := h.On(t)
			var o []*discordOption
			for i := 0; i < len(st.opts); i += 2 {
				name := st.opts[i].(string)
				if name == "member" {
					o = append(o, userOpt(name, users[st.opts[i+1].(string)]))
				} else {
					o = append(o, opt(name, st.opts[i+1]))
				}
			}
			caller := map[string]*userT{"alice": h.Alice, "bob": h.Bob, "mod": h.Mod}[st.user]
			text, private := h.Reply(h.Run(caller, h.General, "kudos", sub(st.sub, o...)))
			wantContains(t, text, st.wantText)
			if private != st.wantPrivate {
				t.Fatalf("reply %q private %v, want private %v", text, private, st.wantPrivate)
			}
			if st.check != nil {
				st.check(t)
			}
		})
	}
}

func wantBalance(t *testing.T, h *harness, who string, want int64) {
	t.Helper()
	u := map[string]*userT{"alice": h.Alice, "bob": h.Bob, "mod": h.Mod}[who]
	if got := h.On(t).Balance(u); got != want {
		t.Fatalf("%s has %d kudos, want %d", who, got, want)
	}
}

// TestKudosAwardByADatabaseModerator: a member made a moderator with
// `hordebot user set --moderator` (no Discord role) may use /kudos award, as
// they may use /mod: one definition of moderators.
func TestKudosAwardByADatabaseModerator(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	bob, err := h.Horde.DiscordUser(h.Ctx, h.Bob.ID, h.Bob.Username)
	must(t, err)
	bob.Moderator = true
	must(t, h.Store.UpdateUser(h.Ctx, bob))
	text, _ := h.Reply(h.Run(h.Bob, h.General, "kudos", sub("award", userOpt("member", h.Alice.ID), opt("amount", 10))))
	wantContains(t, text, "awarded **10** kudos")
	wantBalance(t, h, "alice", 10)
}

// TestKudosMoveOnlyBetweenMembers: /kudos give and /kudos award name a
// member of the server; a Discord user who is not on it (an id pasted into
// the option) is refused and gets no horde user, while /mod info still
// reads a user who has left.
func TestKudosMoveOnlyBetweenMembers(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	stranger := h.Srv.AddUser(discordgo.User{Username: "stranger"}) // a Discord user, not on the server
	text, _ := h.Reply(h.Run(h.Mod, h.General, "kudos", sub("award", userOpt("member", h.Bob.ID), opt("amount", 50))))
	wantContains(t, text, "awarded **50** kudos")
	for _, tt := range []struct {
		name string
		by   *userT
		sub  string
	}{
		{"a gift", h.Bob, "give"},
		{"a moderation award", h.Mod, "award"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			text, private := h.Reply(h.Run(tt.by, h.General, "kudos", sub(tt.sub, userOpt("member", stranger.ID), opt("amount", 5))))
			if !private || !strings.Contains(text, "That member is not on this server.") {
				t.Errorf("reply %q (private %v), want a private refusal naming the server", text, private)
			}
		})
	}
	wantBalance(t, h, "bob", 50)
	if u, err := h.Store.UserByDiscordID(h.Ctx, stranger.ID); err == nil {
		t.Errorf("a refused gift made horde user %+v for a non-member", u)
	}
	text, _ = h.Reply(h.Run(h.Mod, h.General, "mod", sub("info", userOpt("member", stranger.ID))))
	wantContains(t, text, "Standing of <@"+stranger.ID+">")
}

package discordtest_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/bot/discordtest/discordtesting"
)

func TestOpenReceivesReadyAndGuildCreate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	ready := make(chan *discordgo.Ready, 1)
	guilds := make(chan *discordgo.GuildCreate, 1)
	s := f.open(t,
		func(_ *discordgo.Session, r *discordgo.Ready) { ready <- clone(t, r) },
		func(_ *discordgo.Session, g *discordgo.GuildCreate) { guilds <- clone(t, g) },
	)

	r := recv(t, ctx, ready, "READY")
	if r.User == nil || r.User.ID != f.srv.ApplicationID() || !r.User.Bot {
		t.Errorf("READY user = %+v, want the bot %s", r.User, f.srv.ApplicationID())
	}
	if r.SessionID == "" {
		t.Error("READY has no session_id")
	}
	if len(r.Guilds) != 1 || r.Guilds[0].ID != f.guild.ID || !r.Guilds[0].Unavailable {
		t.Errorf("READY guilds = %+v, want %s unavailable", r.Guilds, f.guild.ID)
	}

	g := recv(t, ctx, guilds, "GUILD_CREATE")
	if g.ID != f.guild.ID || g.Name != "gpu-club" || g.OwnerID != f.alice.ID {
		t.Errorf("GUILD_CREATE guild = %s %q owner %s", g.ID, g.Name, g.OwnerID)
	}
	var nsfw *discordgo.Channel
	for _, c := range g.Channels {
		if c.ID == f.nsfw.ID {
			nsfw = c
		}
	}
	if nsfw == nil || !nsfw.NSFW || nsfw.Type != discordgo.ChannelTypeGuildText {
		t.Errorf("GUILD_CREATE NSFW channel = %+v", nsfw)
	}
	var bob *discordgo.Member
	for _, m := range g.Members {
		if m.User.ID == f.bob.ID {
			bob = m
		}
	}
	if bob == nil || !slices.Equal(bob.Roles, []string{f.mod.ID}) {
		t.Fatalf("GUILD_CREATE member bob = %+v, want role %s", bob, f.mod.ID)
	}
	if len(g.Members) != 3 { // alice, bob and the bot
		t.Errorf("GUILD_CREATE has %d members, want 3", len(g.Members))
	}
	// discordgo's state tracks what the gateway sent.
	if ch, err := s.State.Channel(f.nsfw.ID); err != nil || !ch.NSFW {
		t.Errorf("state channel = %+v, %v", ch, err)
	}
	ids := f.srv.Identifies()
	if len(ids) != 1 || ids[0].Intents != s.Identify.Intents || ids[0].Token != "" {
		t.Errorf("Identifies = %+v, want one with intents %d and no token", ids, s.Identify.Intents)
	}
}

func TestWrongTokenIsRejected(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	s, err := f.srv.NewSession("not-the-token")
	if err != nil {
		t.Fatal(err)
	}
	s.ShouldReconnectOnError = false
	// IDENTIFY is answered by a 4004 close instead of READY, so Open fails.
	if err := s.Open(); err == nil {
		_ = s.Close()
		t.Fatal("Open with a wrong token succeeded")
	}
	ev, err := f.srv.WaitGateway(testCtx(t), func(e discordtest.GatewayEvent) bool { return e.Kind == discordtest.GatewayRejected })
	if err != nil || ev.CloseCode != 4004 {
		t.Errorf("rejection = %+v, %v; want close code 4004", ev, err)
	}
	// The REST API refuses the token as well.
	if _, err := s.User("@me"); err == nil {
		t.Error("REST call with a wrong token succeeded")
	}
}

// TestReconnectResumesExactlyOnce cuts the gateway (or asks discordgo to
// reconnect), sends events while the bot is away, and checks discordgo
// RESUMEs and sees each event once, in order.
func TestReconnectResumesExactlyOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		disconnect func(*discordtest.Server) int
	}{
		{"dropped connection", (*discordtest.Server).DropConnection},
		{"op 7 reconnect", (*discordtest.Server).RequestReconnect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			testResume(t, tt.disconnect)
		})
	}
}

func testResume(t *testing.T, disconnect func(*discordtest.Server) int) {
	f := newFixture(t)
	ctx := testCtx(t)
	var mu sync.Mutex
	seen := map[string]int{}
	got := make(chan string, 16)
	readies := make(chan struct{}, 4)
	f.open(t,
		func(_ *discordgo.Session, _ *discordgo.Ready) { readies <- struct{}{} },
		func(_ *discordgo.Session, m *discordgo.MessageCreate) {
			mu.Lock()
			seen[m.Content]++
			mu.Unlock()
			got <- m.Content
		},
	)
	recv(t, ctx, readies, "READY")
	send := func(content string) {
		t.Helper()
		if _, err := f.srv.SendMessage(discordtest.UserMessage{ChannelID: f.text.ID, AuthorID: f.alice.ID, Content: content}); err != nil {
			t.Fatalf("SendMessage(%q): %v", content, err)
		}
	}
	send("before")
	if c := recv(t, ctx, got, "message before the drop"); c != "before" {
		t.Fatalf("got %q, want before", c)
	}

	if n := disconnect(f.srv); n != 1 {
		t.Fatalf("disconnected %d connections, want 1", n)
	}
	away := []string{"away-1", "away-2", "away-3"}
	for _, c := range away {
		send(c)
	}
	ev, err := f.srv.WaitGateway(ctx, func(e discordtest.GatewayEvent) bool { return e.Kind == discordtest.GatewayResumed })
	if err != nil {
		t.Fatal(err)
	}
	send("after")
	defer func() {
		if t.Failed() {
			for _, e := range f.srv.GatewayEvents() {
				t.Logf("gateway: %+v", e)
			}
		}
	}()

	var order []string
	for len(order) < len(away)+1 {
		order = append(order, recv(t, ctx, got, "messages after the drop"))
	}
	if want := append(slices.Clone(away), "after"); !slices.Equal(order, want) {
		t.Errorf("received %v, want %v", order, want)
	}
	mu.Lock()
	defer mu.Unlock()
	for c, n := range seen {
		if n != 1 {
			t.Errorf("message %q received %d times, want once", c, n)
		}
	}
	if ev.Replayed < len(away) {
		t.Errorf("RESUME replayed %d dispatches, want at least %d", ev.Replayed, len(away))
	}
	var identified int
	for _, e := range f.srv.GatewayEvents() {
		if e.Kind == discordtest.GatewayIdentified {
			identified++
		}
	}
	if identified != 1 || len(readies) != 0 {
		t.Errorf("identified %d times and %d extra READY, want one identify and no new READY", identified, len(readies))
	}
}

func TestMessageContentIntent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		intents discordgo.Intent
		mention bool
		want    string
	}{
		{"with the intent content arrives", discordgo.IntentsGuildMessages | discordgo.IntentMessageContent, false, "hello"},
		{"without it content is empty", discordgo.IntentsGuildMessages, false, ""},
		{"without it a mention still carries content", discordgo.IntentsGuildMessages, true, "hello <@BOT>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			ctx := testCtx(t)
			got := make(chan *discordgo.Message, 1)
			s := discordtesting.Session(t, f.srv)
			s.Identify.Intents = tt.intents
			s.SyncEvents = true
			s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) { got <- m.Message })
			if err := s.Open(); err != nil {
				t.Fatal(err)
			}
			content := "hello"
			want := tt.want
			if tt.mention {
				content = fmt.Sprintf("hello <@%s>", f.srv.ApplicationID())
				want = content
			}
			if _, err := f.srv.SendMessage(discordtest.UserMessage{ChannelID: f.text.ID, AuthorID: f.alice.ID, Content: content}); err != nil {
				t.Fatal(err)
			}
			m := recv(t, ctx, got, "MESSAGE_CREATE")
			if m.Content != want || m.Author.ID != f.alice.ID || m.GuildID != f.guild.ID {
				t.Errorf("message = %q by %s in %s, want %q by alice", m.Content, m.Author.ID, m.GuildID, want)
			}
		})
	}
}

func TestReactionsReachHandlersAndREST(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	added := make(chan *discordgo.MessageReactionAdd, 2)
	removed := make(chan *discordgo.MessageReactionRemove, 2)
	s := f.open(t,
		func(_ *discordgo.Session, r *discordgo.MessageReactionAdd) { added <- clone(t, r) },
		func(_ *discordgo.Session, r *discordgo.MessageReactionRemove) { removed <- clone(t, r) },
	)
	msg, err := f.srv.SendMessage(discordtest.UserMessage{ChannelID: f.text.ID, AuthorID: f.alice.ID, Content: "my art"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.srv.AddReaction(f.text.ID, msg.ID, f.bob.ID, "⭐"); err != nil {
		t.Fatal(err)
	}
	r := recv(t, ctx, added, "MESSAGE_REACTION_ADD")
	if r.UserID != f.bob.ID || r.MessageID != msg.ID || r.Emoji.Name != "⭐" || r.GuildID != f.guild.ID {
		t.Errorf("reaction add = %+v", r.MessageReaction)
	}
	if r.Member == nil || !slices.Contains(r.Member.Roles, f.mod.ID) {
		t.Errorf("reaction add member = %+v, want bob with the moderator role", r.Member)
	}
	users, err := s.MessageReactions(f.text.ID, msg.ID, "⭐", 100, "", "")
	if err != nil || len(users) != 1 || users[0].ID != f.bob.ID {
		t.Errorf("MessageReactions = %+v, %v; want bob", users, err)
	}
	if err := s.MessageReactionAdd(f.text.ID, msg.ID, "⭐"); err != nil {
		t.Fatalf("bot reaction: %v", err)
	}
	if m, _ := f.srv.Message(f.text.ID, msg.ID); len(m.Reactions) != 1 || m.Reactions[0].Count != 2 || !m.Reactions[0].Me {
		t.Errorf("stored reactions = %+v, want ⭐ x2 including the bot", m.Reactions)
	}
	if err := f.srv.RemoveReaction(f.text.ID, msg.ID, f.bob.ID, "⭐"); err != nil {
		t.Fatal(err)
	}
	for {
		rr := recv(t, ctx, removed, "MESSAGE_REACTION_REMOVE")
		if rr.UserID == f.bob.ID && rr.MessageID == msg.ID {
			break
		}
	}
}

func TestRequestGuildMembersChunk(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	chunks := make(chan *discordgo.GuildMembersChunk, 1)
	s := f.open(t, func(_ *discordgo.Session, c *discordgo.GuildMembersChunk) { chunks <- clone(t, c) })
	if err := s.RequestGuildMembers(f.guild.ID, "bo", 0, "n1", false); err != nil {
		t.Fatal(err)
	}
	c := recv(t, ctx, chunks, "GUILD_MEMBERS_CHUNK")
	if c.GuildID != f.guild.ID || c.Nonce != "n1" || len(c.Members) != 1 || c.Members[0].User.ID != f.bob.ID {
		t.Errorf("chunk = %+v, want bob only", c)
	}
}

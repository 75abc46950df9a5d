package discordtest_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/hordebot/hordebot/bot/discordtest"
)

// wsFrame is a gateway payload as seen on the wire.
type wsFrame struct {
	Op int             `json:"op"`
	D  json.RawMessage `json:"d"`
	S  *int64          `json:"s"`
	T  *string         `json:"t"`
}

// rawGateway speaks the gateway protocol by hand, without discordgo.
type rawGateway struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialGateway(t *testing.T, srv *discordtest.Server) *rawGateway {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(srv.GatewayURL()+"/?v=9&encoding=json", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	// Guards the test against a silent server; no assertion depends on it.
	_ = ws.SetReadDeadline(time.Now().Add(15 * time.Second))
	g := &rawGateway{t: t, ws: ws}
	if hello := g.read(); hello.Op != 10 {
		t.Fatalf("first frame op %d, want HELLO", hello.Op)
	}
	return g
}

func (g *rawGateway) send(op int, d any) {
	g.t.Helper()
	if err := g.ws.WriteJSON(map[string]any{"op": op, "d": d}); err != nil {
		g.t.Fatalf("write op %d: %v", op, err)
	}
}

func (g *rawGateway) read() wsFrame {
	g.t.Helper()
	var f wsFrame
	if err := g.ws.ReadJSON(&f); err != nil {
		g.t.Fatalf("read: %v", err)
	}
	return f
}

func (g *rawGateway) identify(token string) string {
	g.t.Helper()
	g.send(2, map[string]any{"token": "Bot " + token, "intents": discordgo.IntentsAll, "properties": map[string]string{"os": "linux"}})
	f := g.read()
	if f.T == nil || *f.T != "READY" || f.S == nil || *f.S != 1 {
		g.t.Fatalf("after IDENTIFY got op %d t %v s %v, want READY with s=1", f.Op, f.T, f.S)
	}
	var r struct {
		SessionID string `json:"session_id"`
		ResumeURL string `json:"resume_gateway_url"`
	}
	if err := json.Unmarshal(f.D, &r); err != nil || r.SessionID == "" || r.ResumeURL == "" {
		g.t.Fatalf("READY = %s", f.D)
	}
	return r.SessionID
}

func TestGatewayProtocol(t *testing.T) {
	t.Parallel()
	srv := discordtest.New()
	t.Cleanup(srv.Close)
	g := srv.AddGuild(discordgo.Guild{Name: "g"})
	u := srv.AddUser(discordgo.User{Username: "u"})
	ch, err := srv.AddChannel(discordgo.Channel{GuildID: g.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := srv.AddMember(g.ID, discordgo.Member{User: u}); err != nil {
		t.Fatal(err)
	}

	t.Run("heartbeat is acknowledged", func(t *testing.T) {
		c := dialGateway(t, srv)
		c.send(1, nil)
		if f := c.read(); f.Op != 11 {
			t.Errorf("got op %d, want 11", f.Op)
		}
	})
	t.Run("payload before identify closes with 4003", func(t *testing.T) {
		c := dialGateway(t, srv)
		c.send(3, map[string]any{"status": "online"})
		_, _, err := c.ws.ReadMessage()
		if !websocket.IsCloseError(err, 4003) {
			t.Errorf("err = %v, want close 4003", err)
		}
	})
	t.Run("resume replays missed dispatches in order then RESUMED", func(t *testing.T) {
		c := dialGateway(t, srv)
		sid := c.identify(srv.Token())
		if f := c.read(); f.T == nil || *f.T != "GUILD_CREATE" || *f.S != 2 {
			t.Fatalf("second dispatch = %v s %v, want GUILD_CREATE s=2", f.T, f.S)
		}
		c.ws.Close()
		// Wait until the fake saw the disconnect, so the next dispatches are missed.
		if _, err := srv.WaitGateway(testCtx(t), func(e discordtest.GatewayEvent) bool {
			return e.Kind == discordtest.GatewayDisconnected && e.SessionID == sid
		}); err != nil {
			t.Fatal(err)
		}
		for _, content := range []string{"one", "two"} {
			if _, err := srv.SendMessage(discordtest.UserMessage{ChannelID: ch.ID, AuthorID: u.ID, Content: content}); err != nil {
				t.Fatal(err)
			}
		}
		c2 := dialGateway(t, srv)
		c2.send(6, map[string]any{"token": "Bot " + srv.Token(), "session_id": sid, "seq": 2})
		for i, want := range []string{"one", "two"} {
			f := c2.read()
			var m discordgo.Message
			if err := json.Unmarshal(f.D, &m); err != nil || f.T == nil || *f.T != "MESSAGE_CREATE" || *f.S != int64(3+i) || m.Content != want {
				t.Fatalf("replay %d = %v s %v %q, want MESSAGE_CREATE s=%d %q", i, f.T, f.S, m.Content, 3+i, want)
			}
		}
		if f := c2.read(); f.T == nil || *f.T != "RESUMED" || *f.S != 4 {
			t.Errorf("after replay got %v s %v, want RESUMED carrying s=4", f.T, f.S)
		}
	})
	t.Run("resume of an unknown session gets op 9", func(t *testing.T) {
		c := dialGateway(t, srv)
		c.send(6, map[string]any{"token": "Bot " + srv.Token(), "session_id": "nope", "seq": 1})
		if f := c.read(); f.Op != 9 || string(f.D) != "false" {
			t.Errorf("got op %d d %s, want op 9 false", f.Op, f.D)
		}
	})
}

package bot_test

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/discordtest"
)

// dialGate lets a test hold the gateway down: while it is shut, the
// session's websocket dials wait (REST is unaffected, as in a gateway
// outage), and waiting reports that a reconnect is under way.
type dialGate struct {
	mu      sync.Mutex
	open    chan struct{} // closed while dials may proceed
	waiting chan struct{} // receives when a dial starts waiting
}

func newDialGate() *dialGate {
	g := &dialGate{open: make(chan struct{}), waiting: make(chan struct{}, 1)}
	close(g.open)
	return g
}

func (g *dialGate) shut() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.open = make(chan struct{})
}

func (g *dialGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	select {
	case <-g.open:
	default:
		close(g.open)
	}
}

func (g *dialGate) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	select {
	case <-open:
	default:
		select {
		case g.waiting <- struct{}{}:
		default:
		}
		select {
		case <-open:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// restartGated replaces the harness's bot with one whose session dials the
// gateway through g.
func restartGated(h *harness, g *dialGate) {
	h.T.Helper()
	must(h.T, h.Srv.WaitHeartbeat(h.Ctx)) // see discordtest's doc on closing a fresh session
	stop(h.Bot, h.Sess)
	h.Bot = bot.New(h.Cfg, bot.Deps{Horde: h.Horde, Kudos: h.Kudos, Store: h.Store})
	s, err := h.Srv.NewSession(h.Srv.Token())
	must(h.T, err)
	s.LogLevel = discordgo.LogError
	s.Dialer = &websocket.Dialer{HandshakeTimeout: 10 * time.Second, NetDialContext: g.dial}
	must(h.T, h.Bot.Start(h.Ctx, s))
	h.Sess = s
	b := h.Bot
	h.T.Cleanup(func() { stop(b, s) })
	must(h.T, h.Srv.WaitHeartbeat(h.Ctx))
}

// TestGatewayReconnectMidJob: an /imagine is deferred and waiting when the
// gateway drops and stays down; the job finishes during the outage and its
// result is delivered over REST exactly once (one edit with files, no
// repost to the channel or DM, no pending delivery left); a reaction made
// during the outage arrives on RESUME and, even if Discord sends it again,
// is counted once.
func TestGatewayReconnectMidJob(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	g := newDialGate()
	restartGated(h, g)
	w := h.WorkerCred("gpu")
	h.PopImages(w, "gpu-1") // the worker is online: the request is possible
	helpful := h.Post(h.Bob, h.General, "set CUDA_VISIBLE_DEVICES=1", "")

	tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", "a lighthouse in a storm"), opt("count", 2))
	cb, err := h.Srv.WaitForCallback(h.Ctx, tok)
	must(t, err)
	if cb.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		t.Fatalf("first answer = type %d, want a deferral", cb.Type)
	}
	h.Original(tok, "queue position", func(m discordtest.Message) bool { return len(m.Files) == 0 && m.Content != "" })

	// The gateway drops and cannot reconnect until the gate opens.
	g.shut()
	if n := h.Srv.DropConnection(); n == 0 {
		t.Fatal("no gateway connection to drop")
	}
	select {
	case <-g.waiting:
	case <-h.Ctx.Done():
		t.Fatal("the session did not try to reconnect")
	}
	before := h.Balance(h.Bob)
	must(t, h.Srv.AddReaction(h.General.ID, helpful.ID, h.Alice.ID, "🙏")) // held for the RESUME
	if n := h.ServeImages(w, "gpu-1"); n != 2 {
		t.Fatalf("served %d jobs, want 2", n)
	}
	result := h.Original(tok, "result during the outage", hasFiles)
	if len(result.Files) != 3 {
		t.Fatalf("result has %d files, want the grid and 2 images", len(result.Files))
	}

	// The gateway comes back: RESUME replays the reaction.
	g.release()
	ev, err := h.Srv.WaitGateway(h.Ctx, func(ev discordtest.GatewayEvent) bool { return ev.Kind == discordtest.GatewayResumed })
	must(t, err)
	if ev.Replayed == 0 {
		t.Fatal("RESUME replayed nothing: the reaction made during the outage was lost")
	}
	h.WaitEvent("reaction_add", 1)
	// Discord may deliver an event twice around a reconnect.
	must(t, h.Srv.Dispatch("MESSAGE_REACTION_ADD", map[string]any{
		"user_id": h.Alice.ID, "channel_id": h.General.ID, "message_id": helpful.ID, "guild_id": h.Guild.ID,
		"emoji": discordgo.Emoji{Name: "🙏"}, "member": discordgo.Member{User: h.Alice, Roles: []string{}},
	}))
	h.WaitEvent("reaction_add", 1)
	h.Settle()
	if got := h.Balance(h.Bob); got != before+5 {
		t.Fatalf("bob has %d kudos, want %d: the reaction made during the outage must count once", got, before+5)
	}

	// Stop waits for every handler and result watcher: what was sent is final.
	h.Bot.Stop()
	var edits, reposts int
	for _, r := range h.Srv.Requests() {
		if r.Status >= 300 || len(r.Files) == 0 {
			continue
		}
		switch {
		case r.Route == "PATCH /webhooks/{app}/{token}/messages/{message}" && r.Params["token"] == tok:
			edits++
		case r.Route == "POST /webhooks/{app}/{token}" && r.Params["token"] == tok,
			r.Route == "POST /channels/{channel}/messages":
			reposts++
		}
	}
	if edits != 1 || reposts != 0 {
		t.Fatalf("the result was sent %d times as an edit and %d times as a new message, want one edit", edits, reposts)
	}
	pending, err := h.Store.DiscordDeliveries(h.Ctx)
	must(t, err)
	if len(pending) != 0 {
		t.Fatalf("%d deliveries still pending after the result was delivered", len(pending))
	}
}

package bot_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/bottest"
	"github.com/hordebot/hordebot/bot/discordtest"
)

// TestInteractionsEndpoint runs a process with no gateway, only the HTTP
// interactions endpoint, and plays Discord and an attacker against it.
func TestInteractionsEndpoint(t *testing.T) {
	t.Parallel()
	h := bottest.NewUnstarted(t)
	p := h.StartProcess(bottest.ProcessSpec{HTTP: true})
	if len(h.Srv.Identifies()) != 0 {
		t.Fatalf("a process without gateway identified on the gateway")
	}
	balance := discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: h.Alice.ID,
		Command: "kudos", Options: discordtest.Opts(sub("balance"))}

	t.Run("PING is answered PONG", func(t *testing.T) {
		d, err := h.Srv.PostPing(h.Ctx, discordtest.PostOptions{})
		must(t, err)
		resp, err := d.Response()
		if d.Status != http.StatusOK || err != nil || resp.Type != discordgo.InteractionResponsePong || d.Err != nil {
			t.Fatalf("PING answered %d %s (%v, %v), want 200 PONG", d.Status, d.Body, err, d.Err)
		}
	})

	refused := []struct {
		name   string
		o      discordtest.PostOptions
		status int
	}{
		{"a bad signature is 401", discordtest.PostOptions{Signing: discordtest.SignInvalid}, http.StatusUnauthorized},
		{"missing signature headers are 401", discordtest.PostOptions{Signing: discordtest.SignNone}, http.StatusUnauthorized},
		{"a stale timestamp is 401", discordtest.PostOptions{Timestamp: time.Now().Add(-10 * time.Minute)}, http.StatusUnauthorized},
		{"a timestamp from the future is 401", discordtest.PostOptions{Timestamp: time.Now().Add(time.Hour)}, http.StatusUnauthorized},
		{"an oversize body is 413", discordtest.PostOptions{Body: bytes.Repeat([]byte(" "), 2<<20)}, http.StatusRequestEntityTooLarge},
		{"a signed body that is no interaction is 400", discordtest.PostOptions{Body: []byte(`{"type": "nope"`)}, http.StatusBadRequest},
		{"an unknown interaction type is 400", discordtest.PostOptions{Body: []byte(`{"id": "1", "type": 99}`)}, http.StatusBadRequest},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			d, err := h.Srv.PostInteraction(h.Ctx, balance, tc.o)
			must(t, err)
			if d.Status != tc.status {
				t.Fatalf("answered %d %s, want %d", d.Status, d.Body, tc.status)
			}
			if _, acked := h.Srv.Callback(d.Token); acked {
				t.Fatalf("a refused POST answered the interaction")
			}
		})
	}
	if got := drain(p.Interactions); len(got) != 0 {
		t.Fatalf("refused POSTs reached the router: %v", got)
	}

	t.Run("a wrong method is 405", func(t *testing.T) {
		resp, err := http.Get(p.Endpoint.URL)
		must(t, err)
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("GET answered %d, want 405", resp.StatusCode)
		}
	})

	t.Run("a slash command is answered in the HTTP response", func(t *testing.T) {
		d, err := h.Srv.PostInteraction(h.Ctx, balance, discordtest.PostOptions{})
		must(t, err)
		if d.Status != http.StatusOK || d.Err != nil || !strings.HasPrefix(d.ContentType, "application/json") {
			t.Fatalf("answered %d %q %s (%v)", d.Status, d.ContentType, d.Body, d.Err)
		}
		text, private := h.Reply(d.Token)
		wantContains(t, text, "kudos")
		if !private {
			t.Fatalf("the balance was shown to the channel: %q", text)
		}
		waitFor(t, h.Ctx, p.Interactions, "command kudos ok")

		t.Run("and its replay is refused", func(t *testing.T) {
			r, err := h.Srv.ReplayInteraction(h.Ctx, d.Token, discordtest.PostOptions{})
			must(t, err)
			if r.Status != http.StatusConflict {
				t.Fatalf("replay answered %d %s, want 409", r.Status, r.Body)
			}
			if got := drain(p.Interactions); len(got) != 0 {
				t.Fatalf("the replay was handled again: %v", got)
			}
		})
	})

	t.Run("imagine is deferred over HTTP and its result comes by REST", func(t *testing.T) {
		worker := h.WorkerCred("gpu")
		h.PopImages(worker, "gpu-1")
		tok := h.Run(h.Alice, h.General, "imagine", discordtest.Opt("prompt", "a lighthouse"), discordtest.Opt("count", 4))
		d, err := h.Srv.WaitHTTPDelivery(h.Ctx, tok)
		must(t, err)
		resp, err := d.Response()
		if err != nil || d.Err != nil || resp.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
			t.Fatalf("imagine answered %d %s (%v): want a deferral", d.Status, d.Body, d.Err)
		}
		h.Original(tok, "queued", bottest.Queued)
		h.ServeImages(worker, "gpu-1")
		m := h.Original(tok, "result", bottest.HasFiles)
		decodeImage(t, m.Files[0].Data)
		if ids := customIDs(m); len(ids) == 0 {
			t.Fatalf("the result has no buttons")
		}
		waitFor(t, h.Ctx, p.Interactions, "command imagine ok")
	})

	t.Run("autocomplete is answered over HTTP", func(t *testing.T) {
		h.PopImages(h.WorkerCred("gpu2"), "gpu-2")
		d, err := h.Srv.PostInteraction(h.Ctx, discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID, UserID: h.Alice.ID,
			Command: "imagine", Options: discordtest.Opts(opt("prompt", "x"), discordtest.Focused("model", "stable"))}, discordtest.PostOptions{})
		must(t, err)
		resp, err := d.Response()
		if err != nil || d.Err != nil || resp.Type != discordgo.InteractionApplicationCommandAutocompleteResult {
			t.Fatalf("autocomplete answered %d %s (%v)", d.Status, d.Body, d.Err)
		}
		cb, ok := h.Srv.Callback(d.Token)
		if !ok || len(cb.Choices) != 1 || cb.Choices[0].Value != "stable_diffusion" {
			t.Fatalf("choices %+v, want stable_diffusion", cb.Choices)
		}
	})

	t.Run("a button is answered over HTTP", func(t *testing.T) {
		worker := h.WorkerCred("gpu3")
		h.PopImages(worker, "gpu-3")
		tok := h.Run(h.Alice, h.General, "imagine", discordtest.Opt("prompt", "a harbour"), discordtest.Opt("count", 1))
		h.Original(tok, "queued", bottest.Queued)
		h.ServeImages(worker, "gpu-3")
		m := h.Original(tok, "result", bottest.HasFiles)
		del := findID(customIDs(m), "imagine/delete")
		click, err := h.Srv.PostInteraction(h.Ctx, discordtest.Interaction{GuildID: h.Guild.ID, ChannelID: h.General.ID,
			UserID: h.Bob.ID, CustomID: del, MessageID: m.ID}, discordtest.PostOptions{})
		must(t, err)
		if click.Status != http.StatusOK || click.Err != nil {
			t.Fatalf("button answered %d %s (%v)", click.Status, click.Body, click.Err)
		}
		text, private := h.Reply(click.Token)
		if !private || text == "" {
			t.Fatalf("bob deleting alice's image was told %q (private %v), want a private refusal", text, private)
		}
	})
}

// TestGatewayAndHTTPProcessesShareAStore: one process takes the gateway
// (reactions), another only the interactions endpoint (commands), on one
// store; each event is handled once, by the process that should.
func TestGatewayAndHTTPProcessesShareAStore(t *testing.T) {
	t.Parallel()
	h := bottest.NewUnstarted(t)
	gw := h.StartProcess(bottest.ProcessSpec{ShardCount: 1})
	web := h.StartProcess(bottest.ProcessSpec{HTTP: true})

	before := h.Balance(h.Bob)
	m := h.Post(h.Bob, h.General, "lower the batch size", "")
	must(t, h.Srv.AddReaction(h.General.ID, m.ID, h.Alice.ID, "🙏"))
	waitFor(t, h.Ctx, gw.Events, "reaction_add")

	h.Reply(h.Run(h.Mod, h.General, "kudos", sub("award", userOpt("member", h.Bob.ID), opt("amount", 30))))
	waitFor(t, h.Ctx, web.Interactions, "command kudos ok")
	h.Reply(h.Run(h.Bob, h.General, "kudos", sub("balance")))
	waitFor(t, h.Ctx, web.Interactions, "command kudos ok")
	h.Settle()
	if got := h.Balance(h.Bob); got != before+35 {
		t.Fatalf("bob has %d kudos, want %d (a reaction award and a moderator's 30)", got, before+35)
	}
	if got := drain(gw.Interactions); len(got) != 0 {
		t.Fatalf("the gateway process handled interactions: %v", got)
	}
	for _, ev := range drain(web.Events) {
		t.Fatalf("the HTTP-only process handled a gateway event: %s", ev)
	}
}

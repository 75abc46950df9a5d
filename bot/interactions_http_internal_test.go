package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
)

// TestHTTPResponderSendsFilesByEdit: Discord takes no files in the HTTP
// answer, so a first response with files is answered as a deferral (of the
// same visibility) and the message, files included, follows as an edit.
func TestHTTPResponderSendsFilesByEdit(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	fake := discordtest.New()
	t.Cleanup(fake.Close)
	alice := fake.AddUser(discordgo.User{Username: "alice"})
	g := fake.AddGuild(discordgo.Guild{Name: "gpus"})
	ch, err := fake.AddChannel(discordgo.Channel{GuildID: g.ID, Name: "general"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fake.AddMember(g.ID, discordgo.Member{User: alice}); err != nil {
		t.Fatal(err)
	}
	rest, err := fake.NewSession(fake.Token())
	if err != nil {
		t.Fatal(err)
	}
	b := New(Config{}, Deps{})
	image := []byte("not really a png")
	for _, ephemeral := range []bool{false, true} {
		errc := make(chan error, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			var i discordgo.Interaction
			if err := json.Unmarshal(body, &i); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			ans := &httpAnswer{offer: make(chan answerOffer, 1), done: make(chan struct{})}
			data := &discordgo.InteractionResponseData{Content: "your grid",
				Files: []*discordgo.File{{Name: "grid.png", ContentType: "image/png", Reader: bytes.NewReader(image)}}}
			if ephemeral {
				data.Flags = discordgo.MessageFlagsEphemeral
			}
			go func() {
				errc <- b.httpResponder(rest, &i, ans)(ctx, &discordgo.InteractionResponse{
					Type: discordgo.InteractionResponseChannelMessageWithSource, Data: data})
			}()
			o := <-ans.offer
			o.written <- writeInteractionResponse(w, o.resp)
		}))
		fake.SetInteractionsEndpoint(srv.URL)
		d, err := fake.PostInteraction(ctx, discordtest.Interaction{GuildID: g.ID, ChannelID: ch.ID, UserID: alice.ID, Command: "imagine"}, discordtest.PostOptions{})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := d.Response()
		if err != nil || d.Err != nil || resp.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
			t.Fatalf("answered %d %s (%v): want a deferral", d.Status, d.Body, d.Err)
		}
		if got := resp.Data != nil && resp.Data.Flags&discordgo.MessageFlagsEphemeral != 0; got != ephemeral {
			t.Fatalf("deferral ephemeral %v, want %v", got, ephemeral)
		}
		if err := <-errc; err != nil {
			t.Fatalf("responder: %v", err)
		}
		m, err := fake.WaitForOriginal(ctx, d.Token, func(m discordtest.Message) bool { return len(m.Files) == 1 })
		if err != nil {
			t.Fatal(err)
		}
		if m.Content != "your grid" || !bytes.Equal(m.Files[0].Data, image) {
			t.Fatalf("original %q with %d bytes, want the grid", m.Content, len(m.Files[0].Data))
		}
		srv.Close()
	}
}

// TestHTTPAnswerAfterGivingUp: once the endpoint has answered Discord
// without a response (its window passed), a late response is an error, not
// a write to a finished HTTP answer; one offered first is still taken.
func TestHTTPAnswerAfterGivingUp(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	late := &httpAnswer{offer: make(chan answerOffer, 1), done: make(chan struct{})}
	if !late.giveUp() {
		t.Fatal("giveUp with nothing offered said a response came")
	}
	if err := late.respond(ctx, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}); err != errAnswerWindowPassed {
		t.Fatalf("a late response: %v, want errAnswerWindowPassed", err)
	}

	early := &httpAnswer{offer: make(chan answerOffer, 1), done: make(chan struct{})}
	errc := make(chan error, 1)
	go func() {
		errc <- early.respond(ctx, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
	}()
	o := <-early.offer
	if early.giveUp() {
		t.Fatal("giveUp after an offer said nothing came")
	}
	o.written <- nil
	if err := <-errc; err != nil {
		t.Fatalf("respond: %v", err)
	}
}

func TestReplayGuard(t *testing.T) {
	t.Parallel()
	g := newReplayGuard()
	now := time.Unix(1_800_000_000, 0)
	if v := g.first("1", now.Add(5*time.Minute), now); v != replayFirst {
		t.Fatalf("a new id: %v", v)
	}
	if v := g.first("1", now.Add(5*time.Minute), now.Add(time.Minute)); v != replaySeen {
		t.Fatalf("the same id within its window: %v, want seen", v)
	}
	if v := g.first("2", now.Add(5*time.Minute), now); v != replayFirst {
		t.Fatalf("another id: %v", v)
	}
	// Past the window the entries are pruned (their timestamps are stale anyway).
	later := now.Add(time.Hour)
	for i := range 2000 {
		g.first("x"+time.Duration(i).String(), later.Add(time.Second), later)
	}
	g.mu.Lock()
	_, kept := g.seen["1"]
	g.mu.Unlock()
	if kept {
		t.Fatalf("an expired id is still remembered after pruning")
	}
}

package discordtest_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/bot/discordtest/discordtesting"
)

// guildOnShard adds a guild with a channel whose id falls on shard of count.
func guildOnShard(t *testing.T, f *fixture, shard, count int) *discordgo.Channel {
	t.Helper()
	ms := time.Now().Add(-time.Hour).UnixMilli() - 1420070400000
	for discordtest.ShardOf(strconv.FormatInt(ms<<22, 10), count) != shard {
		ms++
	}
	g := f.srv.AddGuild(discordgo.Guild{ID: strconv.FormatInt(ms<<22, 10), Name: "shard" + strconv.Itoa(shard)})
	ch, err := f.srv.AddChannel(discordgo.Channel{GuildID: g.ID, Name: "general"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.AddMember(g.ID, discordgo.Member{User: f.alice}); err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestShardedSessions: each shard's session gets the READY guilds, the
// GUILD_CREATEs and the events of its own guilds; DMs go to shard 0;
// /gateway/bot recommends the configured count and max_concurrency.
func TestShardedSessions(t *testing.T) {
	t.Parallel()
	f := newFixture(t, discordtest.WithRecommendedShards(2), discordtest.WithMaxConcurrency(1))
	ch0, ch1 := guildOnShard(t, f, 0, 2), guildOnShard(t, f, 1, 2)

	probe := discordtesting.Session(t, f.srv)
	gb, err := probe.GatewayBot()
	if err != nil {
		t.Fatal(err)
	}
	if gb.Shards != 2 || gb.SessionStartLimit.MaxConcurrency != 1 || gb.SessionStartLimit.Remaining != 1000 {
		t.Fatalf("/gateway/bot %+v, want 2 shards, max_concurrency 1, 1000 starts left", gb)
	}

	type seen struct {
		shard   int
		channel string
	}
	events := make(chan seen, 16)
	ready := make(chan [2]int, 2)
	var sessions []*discordgo.Session
	for shard := range 2 {
		s := discordtesting.Session(t, f.srv)
		s.ShardID, s.ShardCount = shard, 2
		s.Identify.Intents |= discordgo.IntentMessageContent
		s.AddHandler(func(_ *discordgo.Session, m *discordgo.MessageCreate) { events <- seen{shard, m.ChannelID} })
		s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
			ready <- [2]int{shard, len(r.Guilds)}
		})
		if err := s.Open(); err != nil {
			t.Fatal(err)
		}
		if err := f.srv.WaitHeartbeat(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, s)
	}
	ctx := testCtx(t)
	for range 2 {
		r := recv(t, ctx, ready, "READY")
		// Shard 0 also holds the fixture's guild when it falls there.
		want := 1
		if discordtest.ShardOf(f.guild.ID, 2) == r[0] {
			want = 2
		}
		if r[1] != want {
			t.Fatalf("shard %d READY lists %d guilds, want %d", r[0], r[1], want)
		}
	}
	if gb, _ = probe.GatewayBot(); gb.SessionStartLimit.Remaining != 998 {
		t.Fatalf("%d session starts left after two identifies, want 998", gb.SessionStartLimit.Remaining)
	}
	for _, tc := range []struct {
		channel string
		shard   int
	}{{ch0.ID, 0}, {ch1.ID, 1}} {
		if _, err := f.srv.SendMessage(discordtest.UserMessage{ChannelID: tc.channel, AuthorID: f.alice.ID, Content: "hi"}); err != nil {
			t.Fatal(err)
		}
		if got := recv(t, ctx, events, "MESSAGE_CREATE"); got != (seen{tc.shard, tc.channel}) {
			t.Fatalf("message in %s reached shard %d (%s), want shard %d", tc.channel, got.shard, got.channel, tc.shard)
		}
	}
	dm, err := f.srv.DMChannel(f.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.srv.SendMessage(discordtest.UserMessage{ChannelID: dm.ID, AuthorID: f.alice.ID, Content: "a DM"}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, ctx, events, "DM MESSAGE_CREATE"); got.shard != 0 {
		t.Fatalf("a DM reached shard %d, want 0", got.shard)
	}
	// Nothing reached the other shard: a marker message on shard 1's guild comes next.
	if _, err := f.srv.SendMessage(discordtest.UserMessage{ChannelID: ch1.ID, AuthorID: f.alice.ID, Content: "marker"}); err != nil {
		t.Fatal(err)
	}
	if got := recv(t, ctx, events, "marker"); got != (seen{1, ch1.ID}) {
		t.Fatalf("after the DM, shard %d got %s, want shard 1's marker", got.shard, got.channel)
	}
}

// endpoint is a test interactions endpoint: it checks the signature as a
// bot must and answers with answer.
func endpoint(t *testing.T, key ed25519.PublicKey, answer func(w http.ResponseWriter, i discordgo.Interaction)) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		sig, err := hex.DecodeString(r.Header.Get("X-Signature-Ed25519"))
		if err != nil || !ed25519.Verify(key, append([]byte(r.Header.Get("X-Signature-Timestamp")), body...), sig) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		var i discordgo.Interaction
		if err := json.Unmarshal(body, &i); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		answer(w, i)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// writeJSONAnswer writes v with its length, so that the answer is complete
// before the handler returns.
func writeJSONAnswer(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}

func TestInteractionsByHTTP(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := testCtx(t)
	rest := discordtesting.Session(t, f.srv)
	cmd := discordtest.Interaction{GuildID: f.guild.ID, ChannelID: f.text.ID, UserID: f.alice.ID, Command: "hello"}

	t.Run("a JSON answer is the initial response, and REST edits follow it", func(t *testing.T) {
		srv := endpoint(t, f.srv.PublicKey(), func(w http.ResponseWriter, i discordgo.Interaction) {
			if i.Type == discordgo.InteractionPing {
				writeJSONAnswer(w, discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
				return
			}
			writeJSONAnswer(w, discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource})
			w.(http.Flusher).Flush()
			// Edit at once, before the fake may have read the answer: it waits for it.
			content := "edited over REST"
			if _, err := rest.InteractionResponseEdit(&i, &discordgo.WebhookEdit{Content: &content}); err != nil {
				t.Errorf("edit after the HTTP answer: %v", err)
			}
		})
		f.srv.SetInteractionsEndpoint(srv.URL)
		ping, err := f.srv.PostPing(ctx, discordtest.PostOptions{})
		if err != nil || ping.Err != nil {
			t.Fatalf("PING: %v %v", err, ping.Err)
		}
		tok, err := f.srv.SendInteraction(cmd)
		if err != nil {
			t.Fatal(err)
		}
		d, err := f.srv.WaitHTTPDelivery(ctx, tok)
		if err != nil || d.Err != nil || d.Status != http.StatusOK {
			t.Fatalf("delivery %d %s: %v %v", d.Status, d.Body, err, d.Err)
		}
		m, err := f.srv.WaitForOriginal(ctx, tok, func(m discordtest.Message) bool { return m.Content == "edited over REST" })
		if err != nil {
			t.Fatalf("original %q: %v", m.Content, err)
		}
		if len(f.srv.Identifies()) != 0 {
			t.Fatalf("no gateway session was needed")
		}
	})

	failures := []struct {
		name   string
		answer func(w http.ResponseWriter, i discordgo.Interaction)
	}{
		{"a multipart answer fails, as on Discord", func(w http.ResponseWriter, _ discordgo.Interaction) {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			_ = mw.WriteField("payload_json", `{"type":4,"data":{"content":"x"}}`)
			_ = mw.Close()
			w.Header().Set("Content-Type", mw.FormDataContentType())
			_, _ = w.Write(buf.Bytes())
		}},
		{"a 500 fails", func(w http.ResponseWriter, _ discordgo.Interaction) {
			http.Error(w, "boom", http.StatusInternalServerError)
		}},
		{"an answer of the wrong type fails", func(w http.ResponseWriter, _ discordgo.Interaction) {
			writeJSONAnswer(w, discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
		}},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			srv := endpoint(t, f.srv.PublicKey(), tc.answer)
			f.srv.SetInteractionsEndpoint(srv.URL)
			d, err := f.srv.PostInteraction(ctx, cmd, discordtest.PostOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if d.Err == nil {
				t.Fatalf("answer %d %q accepted", d.Status, d.ContentType)
			}
			if _, acked := f.srv.Callback(d.Token); acked {
				t.Fatalf("a failed answer acknowledged the interaction")
			}
		})
	}

	t.Run("signatures: bad and missing ones fail a checking endpoint", func(t *testing.T) {
		srv := endpoint(t, f.srv.PublicKey(), func(w http.ResponseWriter, _ discordgo.Interaction) {
			writeJSONAnswer(w, discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
		})
		f.srv.SetInteractionsEndpoint(srv.URL)
		for _, s := range []discordtest.Signing{discordtest.SignInvalid, discordtest.SignNone} {
			d, err := f.srv.PostPing(ctx, discordtest.PostOptions{Signing: s})
			if err != nil {
				t.Fatal(err)
			}
			if d.Status != http.StatusUnauthorized {
				t.Fatalf("signing %d: answered %d, want 401", s, d.Status)
			}
		}
	})
}

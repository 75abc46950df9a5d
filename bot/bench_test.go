package bot_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/bottest"
	"github.com/hordebot/hordebot/bot/discordtest"
)

// BenchmarkDeferredAck measures, through the fake Discord, the time from an
// interaction being dispatched on the gateway to the bot's deferred
// acknowledgement arriving at the callback endpoint (Discord allows 3 s;
// the target is under 20 ms). It reports p50 and p99 in milliseconds.
func BenchmarkDeferredAck(b *testing.B) {
	h := newHarness(b)
	benchDeferral(b, h, func(int) string { return h.Run(h.Alice, h.General, "kudos", sub("balance")) })
}

// BenchmarkDeferredAckRecorded is BenchmarkDeferredAck for /imagine,
// whose interaction is written to the store before it is deferred (a
// resumable command, deferred.go): the write is inside Discord's 3 s.
func BenchmarkDeferredAckRecorded(b *testing.B) {
	h := newHarness(b)
	benchDeferral(b, h, func(i int) string {
		return h.Run(h.Alice, h.General, "imagine", discordtest.Opt("prompt", fmt.Sprintf("a kite %d", i)))
	})
}

// BenchmarkDeferredAckOverHTTP is BenchmarkDeferredAck through the
// interactions endpoint: the signed POST, its verification, the router and
// the deferral returned as the HTTP answer.
func BenchmarkDeferredAckOverHTTP(b *testing.B) {
	h := bottest.NewUnstarted(b)
	h.StartProcess(bottest.ProcessSpec{HTTP: true})
	benchDeferral(b, h, func(int) string { return h.Run(h.Alice, h.General, "kudos", sub("balance")) })
}

// BenchmarkInteractionsEndpointRefusal measures what a flood of forged
// POSTs costs: reading a 4 KiB body and failing its Ed25519 check.
func BenchmarkInteractionsEndpointRefusal(b *testing.B) {
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	h := bot.New(bot.Config{}, bot.Deps{}).InteractionsHandler(pub)
	body := bytes.Repeat([]byte("x"), 4096)
	sig := hex.EncodeToString(make([]byte, ed25519.SignatureSize))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("X-Signature-Ed25519", sig)
		r.Header.Set("X-Signature-Timestamp", "1800000000")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized {
			b.Fatalf("status %d, want 401", w.Code)
		}
	}
}

// benchDeferral runs send (the i-th interaction, returning its token) b.N
// times, each time timing until its deferral reaches the callback endpoint
// and then letting the reply finish (so that iterations do not pile up),
// and reports p50 and p99.
func benchDeferral(b *testing.B, h *bottest.Harness, send func(i int) string) {
	b.Helper()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		tok := send(i)
		cb, err := h.Srv.WaitForCallback(h.Ctx, tok)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if cb.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
			b.Fatalf("callback type %d, want a deferral", cb.Type)
		}
		h.Reply(tok)
	}
	b.StopTimer()
	reportPercentiles(b, lat)
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

package bot_test

import (
	"sort"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// BenchmarkDeferredAck measures, through the fake Discord, the time from an
// interaction being dispatched on the gateway to the bot's deferred
// acknowledgement arriving at the callback endpoint (Discord allows 3 s;
// the target is under 20 ms). It reports p50 and p99 in milliseconds.
func BenchmarkDeferredAck(b *testing.B) {
	h := newHarness(b)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		tok := h.Run(h.Alice, h.General, "kudos", sub("balance"))
		cb, err := h.Srv.WaitForCallback(h.Ctx, tok)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if cb.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
			b.Fatalf("callback type %d, want a deferral", cb.Type)
		}
		// Let the reply finish so that iterations do not pile up.
		h.Reply(tok)
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(q float64) float64 {
		return float64(lat[min(len(lat)-1, int(q*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(ms(0.50), "p50-ms")
	b.ReportMetric(ms(0.99), "p99-ms")
}

package kudos_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// benchConfig keeps every rule on, with caps high enough not to refuse.
func benchConfig() kudos.Config {
	c := testConfig()
	c.GiverDailyCap, c.ReceiverDailyCap, c.PairWeeklyCap = 1<<40, 1<<40, 1<<40
	return c
}

// BenchmarkAwardSingle records one reaction award per call, as the bot does
// for each gateway event, and reports the 99th percentile latency.
func BenchmarkAwardSingle(b *testing.B) {
	e := newEnv(b, benchConfig())
	users := e.users(200)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := e.reaction(users[i%len(users)], users[(i+1+i/len(users))%len(users)], fmt.Sprint("m", i), "🙏")
		start := time.Now()
		out, err := e.eng.OnReactionAdded(e.ctx, r)
		lat = append(lat, time.Since(start))
		if err != nil || !out.Awarded {
			b.Fatalf("award %d: %+v %v", i, out, err)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)*99/100])/float64(time.Millisecond), "p99-ms")
}

// BenchmarkAwardBatched records reactions 1000 at a time with AwardMany and
// settles them into the ledger, and reports awards per second end to end.
func BenchmarkAwardBatched(b *testing.B) {
	e := newEnv(b, benchConfig())
	users := e.users(1000)
	const batch = 1000
	evs := make([]kudos.ReactionAdded, 0, batch)
	settled := 0
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		evs = append(evs, e.reaction(users[i%len(users)], users[(i+1+i/len(users))%len(users)], fmt.Sprint("m", i), "🙏"))
		if len(evs) == batch || i == b.N-1 {
			_, refusals, err := e.eng.AwardMany(e.ctx, evs)
			if err != nil {
				b.Fatal(err)
			}
			for j, r := range refusals {
				if r != nil {
					b.Fatalf("award %d refused: %v", j, r)
				}
			}
			evs = evs[:0]
		}
	}
	e.clock.Advance(time.Hour)
	settled = e.settle()
	elapsed := time.Since(start)
	b.StopTimer()
	if settled != b.N {
		b.Fatalf("settled %d of %d", settled, b.N)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "awards/s")
}

package bot

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
)

// TestOpenShardsPacesIdentify: shards identify one per max_concurrency
// bucket per round, rounds 5 s apart (the wait is recorded, not slept).
func TestOpenShardsPacesIdentify(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		ids            []int
		count          int
		maxConcurrency int
		wantRounds     []int // identifies done when each wait starts, then at the end
	}{
		{"max_concurrency 1: one shard at a time", []int{0, 1, 2}, 3, 1, []int{1, 2, 3}},
		{"max_concurrency 2: two at a time", []int{0, 1, 2, 3}, 4, 2, []int{2, 4}},
		{"max_concurrency above the shards: all at once", []int{0, 1}, 2, 16, []int{2}},
		{"sparse ids share buckets by id modulo max_concurrency", []int{1, 3, 4}, 6, 2, []int{2, 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := discordtest.New()
			t.Cleanup(srv.Close)
			plan := ShardPlan{Count: tc.count, IDs: tc.ids, MaxConcurrency: tc.maxConcurrency}
			sessions, err := plan.Sessions(func() (*discordgo.Session, error) {
				s, err := srv.NewSession(srv.Token())
				if err == nil {
					s.LogLevel = discordgo.LogError
				}
				return s, err
			})
			if err != nil {
				t.Fatal(err)
			}
			var seen []int
			wait := func(_ context.Context, d time.Duration) error {
				if d != identifyInterval {
					t.Errorf("waited %s between rounds, want %s", d, identifyInterval)
				}
				seen = append(seen, len(srv.Identifies()))
				return nil
			}
			if err := openShards(context.Background(), sessions, tc.maxConcurrency, wait); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				// Each connection's first heartbeat, then every Close at once.
				for _, ev := range srv.GatewayEvents() {
					if ev.Kind == discordtest.GatewayIdentified {
						id := ev.SessionID
						_, _ = srv.WaitGateway(ctx, func(ev discordtest.GatewayEvent) bool {
							return ev.SessionID == id && ev.Kind == discordtest.GatewayHeartbeat
						})
					}
				}
				var wg sync.WaitGroup
				for _, s := range sessions {
					wg.Add(1)
					go func() { defer wg.Done(); _ = s.Close() }()
				}
				wg.Wait()
			})
			seen = append(seen, len(srv.Identifies()))
			if len(seen) != len(tc.wantRounds) {
				t.Fatalf("identifies per round %v, want %v", seen, tc.wantRounds)
			}
			for i := range seen {
				if seen[i] != tc.wantRounds[i] {
					t.Fatalf("identifies per round %v, want %v", seen, tc.wantRounds)
				}
			}
		})
	}
}

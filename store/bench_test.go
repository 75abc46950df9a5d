package store_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// parallelism * GOMAXPROCS goroutines call the store in the parallel
// benchmarks: many HTTP handlers and gateway events at once.
const parallelism = 8

// BenchmarkLedgerApplySingle is one award per Apply call, from parallel
// callers (as reaction handlers and submits call it); group commit shares
// their transactions.
func BenchmarkLedgerApplySingle(b *testing.B) {
	s := mustOpen(b)
	ctx := context.Background()
	var n atomic.Int64
	b.SetParallelism(parallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			e := kudos.Entry{UserID: i % 1000, Delta: 1, Kind: kudos.KindAwardHelpful, Key: fmt.Sprintf("single-%d", i), Floor: kudos.NoFloor}
			if _, err := s.Apply(ctx, e); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "awards/s")
}

// BenchmarkLedgerApplySerial is one award per Apply call from one caller:
// the latency of a lone write (no group commit possible).
func BenchmarkLedgerApplySerial(b *testing.B) {
	s := mustOpen(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e := kudos.Entry{UserID: int64(i % 1000), Delta: 1, Kind: kudos.KindAwardHelpful, Key: fmt.Sprintf("serial-%d", i), Floor: kudos.NoFloor}
		if _, err := s.Apply(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "awards/s")
}

// BenchmarkLedgerApplyBatch100 is 100 awards per Apply call (a tally).
func BenchmarkLedgerApplyBatch100(b *testing.B) {
	s := mustOpen(b)
	ctx := context.Background()
	entries := make([]kudos.Entry, 100)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for k := range entries {
			entries[k] = kudos.Entry{UserID: int64(k), Delta: 1, Kind: kudos.KindAwardArt, Key: fmt.Sprintf("batch-%d-%d", i, k), Floor: 0}
		}
		if _, err := s.Apply(ctx, entries...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(entries))/b.Elapsed().Seconds(), "awards/s")
}

// BenchmarkStartFinishJob is a pop and a submit (with its two ledger
// entries) per iteration, from parallel workers.
func BenchmarkStartFinishJob(b *testing.B) {
	s := mustOpen(b)
	ctx := context.Background()
	owner := mustUser(b, s, "owner")
	// Requests are created up front: the benchmark measures the job path.
	const perRequest = 20
	requests := b.N/perRequest + 1
	for r := 0; r < requests; r++ {
		mustRequest(b, s, fmt.Sprintf("r%d", r), 0, perRequest)
	}
	var n atomic.Int64
	b.SetParallelism(parallelism)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1) - 1)
			j := job(fmt.Sprintf("j%d", i), fmt.Sprintf("r%d", i/perRequest), i%perRequest, "w")
			if err := s.StartJob(ctx, j); err != nil {
				b.Error(err)
				return
			}
			if err := s.FinishJob(ctx, finish(j, horde.RequestProcessing, owner.ID, 0, 10)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "jobs/s")
}

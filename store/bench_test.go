package store_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

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

// BenchmarkLifecycleWrites is the writer's share of one HTTP job lifecycle
// (BenchmarkHTTPLifecycles in cmd/hordebot) without HTTP: from loadWorkers
// parallel callers, StartJob then FinishJob of a one-item request, the
// result an image blob, the requester charged (with a floor), the worker's
// owner paid with a part held in escrow, the request done. It reports the
// process CPU per lifecycle, which other load on the machine skews less
// than ns/op.
func BenchmarkLifecycleWrites(b *testing.B) {
	s := mustOpen(b)
	ctx := context.Background()
	requester := mustUser(b, s, "requester")
	owner := mustUser(b, s, "owner")
	if _, err := s.Apply(ctx, kudos.Entry{UserID: requester.ID, Delta: 1 << 40, Kind: kudos.KindAdmin, Key: "grant", Floor: kudos.NoFloor}); err != nil {
		b.Fatal(err)
	}
	for r := 0; r < b.N; r++ {
		mustRequest(b, s, fmt.Sprintf("r%08d", r), requester.ID, 1)
	}
	ref := strings.Repeat("ab", 32)
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	var n atomic.Int64
	b.SetParallelism(16) // 32 callers on 2 cores, as the HTTP benchmark's workers
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, commits0, w0 := processCPU(), s.Commits(), syscw()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := int(n.Add(1) - 1)
			j := job(fmt.Sprintf("j%08d", i), fmt.Sprintf("r%08d", i), 0, "w")
			if err := s.StartJob(ctx, j); err != nil {
				b.Error(err)
				return
			}
			j.State, j.FinishedAt, j.Kudos = horde.JobDone, at, 10
			f := horde.JobFinish{
				Job:          j,
				Generation:   horde.Generation{JobID: j.ID, RequestID: j.RequestID, WorkerID: j.WorkerID, WorkerName: "w", Model: j.Model, Seed: 42, State: horde.ResultOK, BlobRef: ref},
				RequestState: horde.RequestDone,
				Entries: []kudos.Entry{
					{UserID: requester.ID, Delta: -10, Kind: kudos.KindRequestCost, Reason: "image request", Ref: j.ID, Key: "job:" + j.ID + ":cost", Floor: -50, At: at},
					{UserID: owner.ID, Delta: 7, Kind: kudos.KindGeneration, Reason: "image generation", Ref: j.ID, Key: "job:" + j.ID + ":reward", Floor: kudos.NoFloor, At: at},
				},
				Holds: []kudos.Hold{{UserID: owner.ID, Amount: 3, Ref: j.ID, Key: "job:" + j.ID + ":escrow", At: at}},
				Kind:  horde.KindImage, Units: 64 * 64 * 10,
			}
			if err := s.FinishJob(ctx, f); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(s.Commits()-commits0)/float64(b.N), "commits/op")
	b.ReportMetric(float64(syscw()-w0)/float64(b.N), "syscw/op")
}

// processCPU is the user+system CPU time this process used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func syscw() int64 {
	data, _ := os.ReadFile("/proc/self/io")
	for _, l := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(l, "syscw: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

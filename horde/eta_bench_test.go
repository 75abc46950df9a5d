package horde

import (
	"testing"
	"time"
)

// BenchmarkETARefresh measures one rebuild of the ETA table over the
// design target (100k waiting requests, 10k online workers), which now
// checks every waiting request against the online workers so that
// positions count only what some worker could take. It runs off the pop
// path (a check at most every etaMaxAge, and Sweep); the lock is held only
// to clone the trees and copy the workers.
func BenchmarkETARefresh(b *testing.B) {
	h, _ := benchQueue(b, benchRequests, benchWorkers)
	now := time.Date(2025, 1, 1, 0, 0, 1, 0, time.UTC)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.eta.Store(nil)
		h.refreshETA(now.Add(time.Duration(i) * time.Millisecond))
	}
}

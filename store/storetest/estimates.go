package storetest

import (
	"context"
	"testing"

	"github.com/hordebot/hordebot/horde"
)

// SweepEstimates brings the estimates a check or status reads (queue
// positions, waits, is_possible, the queue counts) up to h's clock now, as
// every process would see them once the next sweep ran: on the shared queue
// of PostgreSQL it runs h's shared sweep (SweepShared: the holder of the
// "sweeps" lease computes and stores the estimates there), then has h and
// each of readers (other processes on the same schema) drop the copies they
// read less than 2 s ago (horde.Horde.DropCachedEstimates). On SQLite there
// is nothing to sweep (SweepShared does nothing without a shared queue) and
// the memory queue's ETA table is rebuilt at the next check. A failed sweep
// fails the test.
func SweepEstimates(tb testing.TB, h *horde.Horde, readers ...*horde.Horde) {
	tb.Helper()
	if err := h.SweepShared(context.Background()); err != nil {
		tb.Fatalf("shared sweep (the queue estimates): %v", err)
	}
	for _, r := range append([]*horde.Horde{h}, readers...) {
		r.DropCachedEstimates()
	}
}

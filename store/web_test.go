package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde/web"
	"github.com/hordebot/hordebot/store/storetest"
)

// TestStatusSnapshots: a minute is written once (a second write of it
// changes nothing and counts no uptime), uptime adds up per hour, buckets
// average and sum, and pruning drops what is older than the cut.
func TestStatusSnapshots(t *testing.T) {
	ctx := context.Background()
	hour := time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)
	st := storetest.MustOpen(t, t.TempDir(), storetest.NewClock(hour))
	record := func(at time.Time, queue int64, online ...string) bool {
		t.Helper()
		ok, err := st.RecordSnapshot(ctx, web.Snapshot{At: at, ImageQueue: queue, ImageFinished: 2, MedianWait: time.Duration(queue) * time.Second}, online)
		if err != nil {
			t.Fatalf("record %s: %v", at, err)
		}
		return ok
	}
	for _, tc := range []struct {
		at    time.Time
		queue int64
		want  bool
	}{
		{hour, 10, true},
		{hour, 99, false}, // the same minute again: a replayed job run
		{hour.Add(time.Minute), 20, true},
		{hour.Add(time.Hour), 30, true},
	} {
		if got := record(tc.at, tc.queue, "w1", "w2"); got != tc.want {
			t.Errorf("record %s: wrote %v, want %v", tc.at.Format("15:04"), got, tc.want)
		}
	}
	up, err := st.WorkerUptime(ctx, "w1", hour, hour.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(up) != 2 || up[0].Minutes != 2 || up[1].Minutes != 1 {
		t.Errorf("uptime of w1: %+v, want 2 minutes in the first hour and 1 in the second", up)
	}
	snaps, err := st.Snapshots(ctx, hour, hour.Add(2*time.Hour), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if len(snaps) != 2 || snaps[0].ImageQueue != 15 || snaps[0].ImageFinished != 4 || snaps[0].Minutes != 2 ||
		snaps[0].MedianWait != 20*time.Second || !snaps[0].At.Equal(hour) || snaps[1].ImageQueue != 30 {
		t.Errorf("hourly buckets: %+v", snaps)
	}
	n, err := st.PruneSnapshots(ctx, hour.Add(time.Hour))
	if err != nil || n != 4 { // two snapshots and two workers' first hour
		t.Errorf("prune: %d rows, %v; want 4", n, err)
	}
	if snaps, _ := st.Snapshots(ctx, hour, hour.Add(2*time.Hour), time.Hour); len(snaps) != 1 {
		t.Errorf("after pruning %d buckets are left, want 1", len(snaps))
	}
}

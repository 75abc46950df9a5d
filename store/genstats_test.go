package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
)

// stats reads the totals of kind since each of since, and of all time.
func stats(tb testing.TB, s *store.Store, kind horde.RequestKind, since ...time.Time) ([]horde.PeriodTotal, horde.PeriodTotal) {
	tb.Helper()
	ps, total, err := s.GenerationTotals(context.Background(), kind, since)
	if err != nil {
		tb.Fatalf("%s totals: %v", kind, err)
	}
	return ps, total
}

// TestFinishJobCountsInStats: a stored result counts once in the stats with
// its request's units (width*height*steps, max_length), whether the horde
// says its kind and units or the store reads them from the request; a
// second finish of the same job counts nothing.
func TestFinishJobCountsInStats(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenDir(t, t.TempDir(), clk)
	u := mustUser(t, s, "alice")
	const ps = 512 * 512 * 30 // imageRequest's size and steps
	text := horde.Request{ID: "text", Kind: horde.KindText, UserID: u.ID, Prompt: "once upon", N: 1,
		Text: &horde.TextParams{MaxLength: 80, MaxContextLength: 1024}, Source: "api"}
	if err := s.CreateRequest(ctx, text); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name    string
		request string
		kind    horde.RequestKind // "": the store reads the request
		units   int64
	}{
		{"image, kind and units from the horde", "img-horde", horde.KindImage, ps},
		{"image, read from the request", "img-read", "", 0},
		{"text, kind and units from the horde", "text", horde.KindText, 80},
	} {
		if c.request != "text" {
			mustRequest(t, s, c.request, u.ID, 1)
		}
		j := mustStart(t, s, c.request+"-job", c.request, 0, "w")
		f := finish(j, horde.RequestDone, u.ID, u.ID, 3)
		f.Job.FinishedAt, f.Generation.CreatedAt = clk.Now(), clk.Now()
		f.Kind, f.Units = c.kind, c.units
		if err := s.FinishJob(ctx, f); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		// The same submit again: not processing, counted once.
		if err := s.FinishJob(ctx, f); !errors.Is(err, horde.ErrDuplicate) {
			t.Fatalf("%s, finished twice: %v, want ErrDuplicate", c.name, err)
		}
	}

	hourAgo := clk.Now().Add(-time.Hour)
	periods, total := stats(t, s, horde.KindImage, hourAgo)
	want := horde.PeriodTotal{Count: 2, Units: 2 * ps}
	if periods[0] != want || total != want {
		t.Errorf("image stats: past hour %+v, all time %+v; want %+v both", periods[0], total, want)
	}
	periods, total = stats(t, s, horde.KindText, hourAgo)
	want = horde.PeriodTotal{Count: 1, Units: 80}
	if periods[0] != want || total != want {
		t.Errorf("text stats: past hour %+v, all time %+v; want %+v both", periods[0], total, want)
	}
	byModel, all, err := s.GenerationsByModel(ctx, horde.KindImage, []time.Time{hourAgo})
	if err != nil {
		t.Fatal(err)
	}
	if byModel[0]["sdxl"] != 2 || all["sdxl"] != 2 || len(all) != 1 {
		t.Errorf("image results per model: past hour %v, all time %v; want sdxl 2 in both", byModel[0], all)
	}
}

// TestMaintainPrunesGenerationStats: the retention round removes the
// stats rows older than 31 days, in batches, whatever the results'
// retention; the month still counts what is younger and the all-time
// totals everything.
func TestMaintainPrunesGenerationStats(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenDir(t, t.TempDir(), clk)
	defer store.SetStatsPruneBatch(2)()
	u := mustUser(t, s, "alice")
	const ps = 512 * 512 * 30
	result := func(id string) {
		t.Helper()
		mustRequest(t, s, id, u.ID, 1)
		j := mustStart(t, s, id+"-job", id, 0, "w")
		f := finish(j, horde.RequestDone, u.ID, u.ID, 3)
		f.Job.FinishedAt, f.Generation.CreatedAt = clk.Now(), clk.Now()
		if err := s.FinishJob(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		result(fmt.Sprintf("old-%d", i))
	}
	clk.Advance(20 * 24 * time.Hour)
	result("young")
	clk.Advance(12 * 24 * time.Hour) // the old ones are 32 days old, "young" 12

	for _, round := range []struct {
		name  string
		keep  store.Retention
		prune int
	}{
		{"results kept forever", store.Retention{BlobGrace: time.Hour}, 5},
		{"nothing left to prune", store.Retention{Results: 90 * 24 * time.Hour, BlobGrace: time.Hour}, 0},
	} {
		p, _, err := s.Maintain(ctx, round.keep)
		if err != nil {
			t.Fatalf("%s: %v", round.name, err)
		}
		if p.Stats != round.prune || p.Requests != 0 {
			t.Errorf("%s: maintain = %+v, want %d stats rows pruned and no request purged", round.name, p, round.prune)
		}
	}
	periods, total := stats(t, s, horde.KindImage, clk.Now().Add(-40*24*time.Hour), clk.Now().Add(-30*24*time.Hour))
	if periods[0] != (horde.PeriodTotal{Count: 1, Units: ps}) || periods[1] != periods[0] {
		t.Errorf("after the prune: past 40 days %+v, past month %+v; want only the young result", periods[0], periods[1])
	}
	if total != (horde.PeriodTotal{Count: 6, Units: 6 * ps}) {
		t.Errorf("all-time total after the prune = %+v, want all 6 results", total)
	}
}

package store_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
)

func preview(requestID, jobID, data string) horde.Preview {
	return horde.Preview{RequestID: requestID, JobID: jobID, ContentType: "image/png", Image: []byte(data), ETag: `"` + data + `"`}
}

// TestPreviewsLatestWinsWhileProcessing: one row per request, the latest
// of any of its processing jobs; none for a job that is not processing.
func TestPreviewsLatestWinsWhileProcessing(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	u := mustUser(t, s, "alice")
	mustWorker(t, s, "w1", u.ID)
	mustRequest(t, s, "r1", u.ID, 2)
	mustRequest(t, s, "r2", u.ID, 1)
	mustStart(t, s, "j1", "r1", 0, "w1")
	mustStart(t, s, "j2", "r1", 1, "w1")
	mustStart(t, s, "j3", "r2", 0, "w1")

	wantKind(t, s.SetPreview(ctx, preview("r1", "nope", "x")), horde.KindNotFound, horde.ErrNotFound)
	if _, err := s.Preview(ctx, "r1"); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("preview before any = %v, want not found", err)
	}
	for _, p := range []horde.Preview{preview("r1", "j1", "first"), preview("r1", "j2", "second"), preview("r2", "j3", "other")} {
		if err := s.SetPreview(ctx, p); err != nil {
			t.Fatalf("set preview of %s: %v", p.JobID, err)
		}
	}
	got, err := s.Preview(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if got.JobID != "j2" || !bytes.Equal(got.Image, []byte("second")) || got.ETag != `"second"` || got.ContentType != "image/png" || got.At.IsZero() {
		t.Errorf("preview of r1 = %+v, want j2's", got)
	}

	// j1 ends: j2's preview stays. j2 ends: r1 has none, and j2 takes no more.
	if err := s.FailJob(ctx, "j1", horde.JobAborted, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Preview(ctx, "r1"); err != nil {
		t.Errorf("another job's end removed j2's preview: %v", err)
	}
	if err := s.FinishJob(ctx, finish(job("j2", "r1", 1, "w1"), horde.RequestProcessing, u.ID, u.ID, 1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Preview(ctx, "r1"); !horde.IsKind(err, horde.KindNotFound) {
		t.Errorf("preview after its job finished = %v, want not found", err)
	}
	wantKind(t, s.SetPreview(ctx, preview("r1", "j2", "late")), horde.KindConflict, horde.ErrDuplicate)

	// r2 ends (cancelled): its preview goes with it.
	if err := s.EndRequest(ctx, "r2", horde.RequestCancelled, "cancelled", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Preview(ctx, "r2"); !horde.IsKind(err, horde.KindNotFound) {
		t.Errorf("preview after its request ended = %v, want not found", err)
	}
	wantKind(t, s.SetPreview(ctx, preview("r2", "j3", "late")), horde.KindConflict, horde.ErrDuplicate)
}

var _ horde.PreviewStore = (*store.Store)(nil)

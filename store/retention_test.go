package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/hordebot/hordebot/bot/sharedpost"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
)

// finishedRequest creates a one-item request whose job finishes with an
// image of data (or, when data is "", is cancelled before it finishes) at
// the clock's now.
func finishedRequest(tb testing.TB, s *store.Store, id string, user int64, data string) (ref string) {
	tb.Helper()
	ctx := context.Background()
	mustRequest(tb, s, id, user, 1)
	j := mustStart(tb, s, id+"-job", id, 0, "w")
	if data == "" {
		mustUpload(tb, s, j.ID, "upload of "+id)
		if err := s.EndRequest(ctx, id, horde.RequestCancelled, "cancelled", time.Time{}); err != nil {
			tb.Fatal(err)
		}
		return ""
	}
	ref = mustUpload(tb, s, j.ID, data)
	f := finish(j, horde.RequestDone, user, user, 3)
	f.Job.FinishedAt = time.Time{} // the store's clock
	f.Generation.BlobRef = ref
	if err := s.FinishJob(ctx, f); err != nil {
		tb.Fatal(err)
	}
	return ref
}

// TestPurgeResultsAfterRetention: finished requests older than the
// retention go with their jobs, generations and images; younger ones,
// unfinished ones, shared art and results still owed to Discord stay, as
// does an image another kept request also names; the ledger is untouched.
func TestPurgeResultsAfterRetention(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenDir(t, t.TempDir(), clk)
	u := mustUser(t, s, "alice")

	oldRef := finishedRequest(t, s, "old", u.ID, "old image")
	finishedRequest(t, s, "old-cancelled", u.ID, "")
	sharedRef := finishedRequest(t, s, "old-shared", u.ID, "shared image")
	owedRef := finishedRequest(t, s, "old-owed", u.ID, "image owed to Discord")
	twinRef := finishedRequest(t, s, "old-twin", u.ID, "identical image")
	if err := s.RecordSharedPost(ctx, sharedpost.Post{MessageID: "m1", ChannelID: "art", DiscordUserID: "42", RequestID: "old-shared"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveDiscordDelivery(ctx, "old-owed", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	mustRequest(t, s, "old-waiting", u.ID, 1)
	balance := mustBalance(t, s, u.ID)

	clk.Advance(20 * 24 * time.Hour)
	youngRef := finishedRequest(t, s, "young", u.ID, "young image")
	if got := finishedRequest(t, s, "young-twin", u.ID, "identical image"); got != twinRef {
		t.Fatal("content addressing differs")
	}
	clk.Advance(15 * 24 * time.Hour) // "old" finished 35 days ago, "young" 15

	p, _, err := s.Maintain(ctx, store.Retention{Results: 30 * 24 * time.Hour, BlobGrace: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// old-cancelled's upload went when it was cancelled; old-twin's image is young-twin's too.
	if p.Requests != 3 || p.Blobs != 1 {
		t.Errorf("purge = %+v, want 3 requests (old, old-cancelled, old-twin) and 1 image (old's)", p)
	}
	for id, kept := range map[string]bool{
		"old": false, "old-cancelled": false, "old-twin": false,
		"old-shared": true, "old-owed": true, "old-waiting": true, "young": true, "young-twin": true,
	} {
		_, err := s.Request(ctx, id)
		if kept && err != nil {
			t.Errorf("request %s: %v, want it kept", id, err)
		}
		if !kept {
			if !horde.IsKind(err, horde.KindNotFound) {
				t.Errorf("request %s: %v, want it purged", id, err)
			}
			jobs, err := s.Jobs(ctx, id)
			gens, gerr := s.Generations(ctx, id)
			if err != nil || gerr != nil || len(jobs) != 0 || len(gens) != 0 {
				t.Errorf("purged request %s left jobs %v and generations %v (%v %v)", id, jobs, gens, err, gerr)
			}
		}
	}
	if _, err := s.Upload(ctx, "old-cancelled-job"); !horde.IsKind(err, horde.KindNotFound) {
		t.Errorf("upload of a purged job: %v", err)
	}
	for ref, kept := range map[string]bool{oldRef: false, sharedRef: true, owedRef: true, twinRef: true, youngRef: true} {
		if got := blobExists(t, s, ref); got != kept {
			t.Errorf("image %s on disk: %v, want %v", ref[:8], got, kept)
		}
	}
	if refs, _ := blobFiles(t, s); len(refs) != 4 {
		t.Errorf("images on disk = %d, want the 4 kept", len(refs))
	}
	// The ledger keeps every entry of the purged jobs.
	if b := mustBalance(t, s, u.ID); b != balance {
		t.Errorf("balance %d after the purge, want %d", b, balance)
	}
	mustVerify(t, s)

	// Nothing left to purge: a second round removes nothing.
	if p, _, err := s.Maintain(ctx, store.Retention{Results: 30 * 24 * time.Hour, BlobGrace: time.Hour}); err != nil || p.Requests != 0 {
		t.Fatalf("second purge = %+v, %v", p, err)
	}
}

// TestRetentionZeroKeepsResults: a retention of 0 keeps every result.
func TestRetentionZeroKeepsResults(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenDir(t, t.TempDir(), clk)
	ref := finishedRequest(t, s, "r", 0, "kept forever")
	clk.Advance(10 * 365 * 24 * time.Hour)
	if p, _, err := s.Maintain(ctx, store.Retention{BlobGrace: time.Hour}); err != nil || p.Requests != 0 {
		t.Fatalf("maintain = %+v, %v", p, err)
	}
	if _, err := s.Request(ctx, "r"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Blob(ctx, ref); err != nil {
		t.Fatal(err)
	}
}

// TestPurgeResultsInBatches: more finished requests than one batch holds
// are all purged.
func TestPurgeResultsInBatches(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenDir(t, t.TempDir(), clk)
	const n = 450
	for i := 0; i < n; i++ {
		r := imageRequest(key(i), 0, 1)
		if err := s.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := s.EndRequest(ctx, r.ID, horde.RequestCancelled, "cancelled", time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Hour)
	p, err := s.PurgeResults(ctx, clk.Now())
	if err != nil || p.Requests != n {
		t.Fatalf("purge = %+v, %v; want %d requests", p, err, n)
	}
}

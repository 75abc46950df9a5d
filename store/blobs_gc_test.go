package store_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// blobFiles lists the stored blobs (the blob folder's files, not its
// temporary files; the blobs table on PostgreSQL), sorted, and their total
// size.
func blobFiles(tb testing.TB, s *store.Store) ([]string, int64) {
	tb.Helper()
	refs, total, err := store.StoredBlobs(context.Background(), s)
	if err != nil {
		tb.Fatal(err)
	}
	return refs, total
}

// blobExists reports whether ref is stored.
func blobExists(tb testing.TB, s *store.Store, ref string) bool {
	tb.Helper()
	_, err := s.Blob(context.Background(), ref)
	if err != nil && !horde.IsKind(err, horde.KindNotFound) {
		tb.Fatal(err)
	}
	return err == nil
}

// mustPut stores data as a blob.
func mustPut(tb testing.TB, s *store.Store, data string) string {
	tb.Helper()
	ref, err := s.PutBlob(context.Background(), []byte(data))
	if err != nil {
		tb.Fatalf("put blob: %v", err)
	}
	return ref
}

// mustUpload stores data and records it as job's upload, as horde.Upload does.
func mustUpload(tb testing.TB, s *store.Store, jobID, data string) string {
	tb.Helper()
	ref := mustPut(tb, s, data)
	if err := s.SetUpload(context.Background(), jobID, ref); err != nil {
		tb.Fatalf("set upload of %s: %v", jobID, err)
	}
	return ref
}

// TestReuploadLeavesOneBlob: 20 uploads to one job leave the last one on
// disk, not 20 files (the finding: 105 MB left by 20 uploads).
func TestReuploadLeavesOneBlob(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	mustRequest(t, s, "r", 0, 1)
	mustStart(t, s, "j", "r", 0, "w")
	var last string
	for i := 0; i < 20; i++ {
		last = mustUpload(t, s, "j", fmt.Sprintf("upload %02d %s", i, strings.Repeat("x", 4096)))
	}
	refs, _ := blobFiles(t, s)
	if len(refs) != 1 || refs[0] != last {
		t.Fatalf("blob files after 20 uploads to one job = %d %v, want only the last, %s", len(refs), refs, last)
	}
	if got, err := s.Upload(ctx, "j"); err != nil || got != last {
		t.Fatalf("upload = %q, %v; want the last one", got, err)
	}
	// The same bytes again keep their file.
	if again := mustUpload(t, s, "j", fmt.Sprintf("upload %02d %s", 19, strings.Repeat("x", 4096))); again != last || !blobExists(t, s, last) {
		t.Fatal("uploading the same bytes again deleted them")
	}
}

// TestEndedJobsLoseTheirUploads: a job that ends without a result (faulted,
// aborted, its request cancelled or expired) leaves no upload row and no
// file; a blob another job also uploaded stays until that one ends too.
func TestEndedJobsLoseTheirUploads(t *testing.T) {
	tests := []struct {
		name string
		end  func(s *store.Store, job, request string) error
	}{
		{"job faulted", func(s *store.Store, job, _ string) error {
			return s.FailJob(context.Background(), job, horde.JobFaulted, time.Time{})
		}},
		{"job aborted past its TTL", func(s *store.Store, job, _ string) error {
			return s.FailJob(context.Background(), job, horde.JobAborted, time.Time{})
		}},
		{"request cancelled", func(s *store.Store, _, request string) error {
			return s.EndRequest(context.Background(), request, horde.RequestCancelled, "cancelled", time.Time{})
		}},
		{"request expired", func(s *store.Store, _, request string) error {
			return s.EndRequest(context.Background(), request, horde.RequestFaulted, "expired", time.Time{})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := mustOpen(t)
			mustRequest(t, s, "r1", 0, 1)
			mustRequest(t, s, "r2", 0, 1)
			mustStart(t, s, "j1", "r1", 0, "w")
			mustStart(t, s, "j2", "r2", 0, "w")
			own := mustUpload(t, s, "j1", "only j1's image")
			shared := mustUpload(t, s, "j2", "the same image")
			mustUpload(t, s, "j1", "the same image") // replaces own: deleted now
			if blobExists(t, s, own) {
				t.Fatal("the replaced upload is still on disk")
			}
			if err := tc.end(s, "j1", "r1"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Upload(ctx, "j1"); !horde.IsKind(err, horde.KindNotFound) {
				t.Fatalf("upload of the ended job: %v, want not found", err)
			}
			if !blobExists(t, s, shared) {
				t.Fatal("a blob j2 still uploads was deleted when j1 ended")
			}
			if err := s.FailJob(ctx, "j2", horde.JobAborted, time.Time{}); err != nil {
				t.Fatal(err)
			}
			if refs, _ := blobFiles(t, s); len(refs) != 0 {
				t.Fatalf("blob files after both jobs ended = %v, want none", refs)
			}
		})
	}
}

// TestFinishedJobKeepsItsResult: the generation names the uploaded blob,
// which stays; an upload the result does not use (an inline image came
// instead) is deleted.
func TestFinishedJobKeepsItsResult(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	u := mustUser(t, s, "alice")
	mustRequest(t, s, "r", u.ID, 2)
	j0 := mustStart(t, s, "j0", "r", 0, "w")
	j1 := mustStart(t, s, "j1", "r", 1, "w")

	r2 := mustUpload(t, s, "j0", "uploaded result")
	f := finish(j0, horde.RequestProcessing, u.ID, u.ID, 1)
	f.Generation.BlobRef = r2
	if err := s.FinishJob(ctx, f); err != nil {
		t.Fatal(err)
	}

	unused := mustUpload(t, s, "j1", "uploaded, then sent inline instead")
	inline := mustPut(t, s, "inline result")
	f = finish(j1, horde.RequestDone, u.ID, u.ID, 1)
	f.Generation.BlobRef = inline
	if err := s.FinishJob(ctx, f); err != nil {
		t.Fatal(err)
	}

	for _, ref := range []string{r2, inline} {
		if _, err := s.Blob(ctx, ref); err != nil {
			t.Fatalf("result %s: %v", ref, err)
		}
	}
	if blobExists(t, s, unused) {
		t.Fatal("the upload the result did not use is still on disk")
	}
	gens, err := s.Generations(ctx, "r")
	if err != nil || len(gens) != 2 || gens[0].BlobRef != r2 || gens[1].BlobRef != inline {
		t.Fatalf("generations = %+v, %v", gens, err)
	}
}

// TestBlobBeingWrittenIsNotDeleted: a PutBlob whose row has not committed
// yet pins its blob: another job dropping the same content (re-upload) does
// not delete it under the pending write, which then commits a row naming a
// file that exists.
func TestBlobBeingWrittenIsNotDeleted(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	mustRequest(t, s, "r", 0, 2)
	mustStart(t, s, "a", "r", 0, "w")
	mustStart(t, s, "b", "r", 1, "w")
	x := mustUpload(t, s, "a", "identical bytes")
	// b's worker PUTs the same bytes: PutBlob finds the file and keeps it...
	if got := mustPut(t, s, "identical bytes"); got != x {
		t.Fatal("content addressing differs")
	}
	// ...and before b's row commits, a re-upload to a drops x's last row.
	mustUpload(t, s, "a", "other bytes")
	if !blobExists(t, s, x) {
		t.Fatal("a blob pinned by a pending upload was deleted")
	}
	if err := s.SetUpload(ctx, "b", x); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Upload(ctx, "b"); err != nil || got != x {
		t.Fatalf("upload of b = %q, %v", got, err)
	}
	if _, err := s.Blob(ctx, x); err != nil {
		t.Fatalf("b's upload: %v", err)
	}
	// Once b's row has committed, the pin is gone: b's end deletes it.
	if err := s.FailJob(ctx, "b", horde.JobAborted, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if blobExists(t, s, x) {
		t.Fatal("the blob outlived its last row")
	}
}

// TestUploadToEndedJobLeavesNoFile: an upload refused because its job is no
// longer processing does not leave its bytes behind.
func TestUploadToEndedJobLeavesNoFile(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	mustRequest(t, s, "r", 0, 1)
	mustStart(t, s, "j", "r", 0, "w")
	if err := s.FailJob(ctx, "j", horde.JobAborted, time.Time{}); err != nil {
		t.Fatal(err)
	}
	ref := mustPut(t, s, "too late")
	wantKind(t, s.SetUpload(ctx, "j", ref), horde.KindConflict, horde.ErrDuplicate)
	if blobExists(t, s, ref) {
		t.Fatal("the refused upload is still on disk")
	}
}

// TestSweepBlobs: the sweep deletes image files no row names once they are
// older than the grace period, and temporary files as old; it keeps files a
// row names, younger files (a row may be about to commit) and files that
// are not blobs.
func TestSweepBlobs(t *testing.T) {
	storetest.SkipOnPostgres(t, "temporary and foreign files in the blobs folder")
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenDir(t, t.TempDir(), clk)
	mustRequest(t, s, "r", 0, 1)
	mustStart(t, s, "j", "r", 0, "w")
	named := mustUpload(t, s, "j", "named by an upload row")
	oldOrphan := mustPut(t, s, "orphan, two hours old")
	newOrphan := mustPut(t, s, "orphan, thirty minutes old")
	// The pins of the PutBlobs whose rows never came lapse.
	clk.Advance(2 * time.Hour)
	now := clk.Now()
	blobs := filepath.Join(s.Dir(), "blobs")
	touch := func(path string, age time.Duration) {
		t.Helper()
		if err := os.Chtimes(path, now.Add(-age), now.Add(-age)); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path string, age time.Duration) string {
		t.Helper()
		if err := os.WriteFile(path, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		touch(path, age)
		return path
	}
	at := func(ref string) string { return filepath.Join(blobs, ref[:2], ref) }
	touch(at(named), 3*time.Hour)
	touch(at(oldOrphan), 2*time.Hour)
	touch(at(newOrphan), 30*time.Minute)
	oldTemp := write(filepath.Join(blobs, named[:2], ".tmp-123"), 2*time.Hour)
	oldRootTemp := write(filepath.Join(blobs, ".tmp-upload-9"), 2*time.Hour)
	newTemp := write(filepath.Join(blobs, ".tmp-456"), time.Minute)
	foreign := write(filepath.Join(blobs, "README"), 5*time.Hour)

	res, err := s.SweepBlobs(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if res.Deleted != 1 || res.Temps != 2 || res.Kept != 2 {
		t.Errorf("sweep = %+v, want 1 deleted, 2 temporary files, 2 kept", res)
	}
	for path, want := range map[string]bool{
		at(named): true, at(oldOrphan): false, at(newOrphan): true,
		oldTemp: false, oldRootTemp: false, newTemp: true, foreign: true,
	} {
		_, err := os.Stat(path)
		if got := err == nil; got != want {
			t.Errorf("%s: exists %v after the sweep, want %v", strings.TrimPrefix(path, blobs), got, want)
		}
	}
	if _, err := s.Blob(ctx, named); err != nil {
		t.Fatalf("the named blob: %v", err)
	}
}

// TestSweepKeepsAPinnedBlob: a blob PutBlob stored moments ago, whose row
// has not committed, survives a sweep with any grace period.
func TestSweepKeepsAPinnedBlob(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenDir(t, t.TempDir(), clk)
	ref := mustPut(t, s, "row not committed yet")
	old := clk.Now().Add(-24 * time.Hour)
	if err := store.BackdateBlob(ctx, s, ref, old); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SweepBlobs(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if !blobExists(t, s, ref) {
		t.Fatal("the sweep deleted a blob whose row was about to commit")
	}
	clk.Advance(time.Hour) // the row never came: the pin lapses
	if _, err := s.SweepBlobs(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if blobExists(t, s, ref) {
		t.Fatal("an orphan blob outlived its pin and the grace period")
	}
}

// BenchmarkSweepBlobs: one sweep over 10,000 image files, half named by an
// upload row, half orphans younger than the grace period (all kept).
func BenchmarkSweepBlobs(b *testing.B) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenDir(b, b.TempDir(), clk)
	mustRequest(b, s, "r", 0, 5000)
	for i := 0; i < 10000; i++ {
		ref := mustPut(b, s, fmt.Sprintf("image %d", i))
		if i%2 == 0 {
			j := job(fmt.Sprintf("j%d", i), "r", i/2, "w")
			if err := s.StartJob(ctx, j); err != nil {
				b.Fatal(err)
			}
			if err := s.SetUpload(ctx, j.ID, ref); err != nil {
				b.Fatal(err)
			}
		}
	}
	clk.Set(time.Now()) // pins lapse; the files are younger than the grace
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := s.SweepBlobs(ctx, time.Hour)
		if err != nil || res.Kept != 10000 {
			b.Fatalf("sweep = %+v, %v", res, err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/10000, "µs/file")
}

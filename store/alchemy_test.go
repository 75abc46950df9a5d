package store_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store/storetest"
)

// mustInterrogation stores an interrogation of the source data with the
// forms named, all waiting.
func mustInterrogation(tb testing.TB, s interface {
	PutBlob(context.Context, []byte) (string, error)
	CreateInterrogation(context.Context, horde.Interrogation) error
}, id, source string, at time.Time, forms ...string) horde.Interrogation {
	tb.Helper()
	ref, err := s.PutBlob(context.Background(), []byte(source))
	if err != nil {
		tb.Fatal(err)
	}
	in := horde.Interrogation{ID: id, UserID: 1, SourceRef: ref, Width: 64, Height: 64, Tiles: 1, SlowWorkers: true, CreatedAt: at}
	for i, f := range forms {
		in.Forms = append(in.Forms, horde.AlchemyForm{ID: id + "-" + f, Index: i, Name: f, Kudos: 3, Cost: 5,
			Payload: map[string]string{"facefixer_strength": "0.5"}})
	}
	if err := s.CreateInterrogation(context.Background(), in); err != nil {
		tb.Fatalf("create interrogation %s: %v", id, err)
	}
	return in
}

// TestAlchemyRows: forms move waiting -> processing -> done or back, the
// interrogation is finished with its last open form, and what a form's
// store methods refuse.
func TestAlchemyRows(t *testing.T) {
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenDir(t, t.TempDir(), clk)
	in := mustInterrogation(t, s, "i1", "source", clk.Now(), "caption", "GFPGAN")
	caption, gf := in.Forms[0].ID, in.Forms[1].ID
	now := clk.Now()
	if err := s.StartAlchemyForm(ctx, caption, "w1", now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.StartAlchemyForm(ctx, caption, "w1", now, now.Add(time.Minute)); !errors.Is(err, horde.ErrDuplicate) {
		t.Errorf("second start: %v, want ErrDuplicate", err)
	}
	if err := s.StartAlchemyForm(ctx, "nope", "w1", now, now); !errors.Is(err, horde.ErrNotFound) {
		t.Errorf("start of an unknown form: %v, want ErrNotFound", err)
	}
	if err := s.FailAlchemyForm(ctx, caption, now, false, now); err != nil {
		t.Fatal(err)
	}
	if err := s.StartAlchemyForm(ctx, caption, "w2", now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	f := in.Forms[0]
	f.State, f.Result, f.WorkerName, f.FinishedAt = horde.FormDone, `{"caption":"a cat"}`, "alch", now
	if err := s.FinishAlchemyForm(ctx, horde.AlchemyFinish{Form: f}); err != nil {
		t.Fatal(err)
	}
	open, err := s.OpenInterrogations(ctx)
	if err != nil || len(open) != 1 || len(open[0].Forms) != 2 || open[0].Forms[1].Payload["facefixer_strength"] != "0.5" {
		t.Fatalf("open = %+v, %v; want i1 with its two forms and the payload", open, err)
	}
	if err := s.EndInterrogation(ctx, "i1", horde.FormCancelled, now); err != nil {
		t.Fatal(err)
	}
	got, err := s.Interrogation(ctx, "i1")
	if err != nil {
		t.Fatal(err)
	}
	if got.Forms[0].State != horde.FormDone || got.Forms[0].Aborts != 1 || got.Forms[0].Result != `{"caption":"a cat"}` ||
		got.Forms[1].State != horde.FormCancelled || got.FinishedAt.IsZero() {
		t.Errorf("after cancel = %+v", got)
	}
	if open, _ := s.OpenInterrogations(ctx); len(open) != 0 {
		t.Errorf("open after cancel = %d, want 0", len(open))
	}
	if err := s.SetAlchemyUpload(ctx, gf, mustPut(t, s, "late upload")); !errors.Is(err, horde.ErrDuplicate) {
		t.Errorf("upload to a cancelled form: %v, want ErrDuplicate", err)
	}
}

// TestAlchemyBlobs: the sweep keeps a source image, a form's upload and its
// result; an upload the result does not use goes with the submit; the
// retention purge removes the finished interrogation with its images.
func TestAlchemyBlobs(t *testing.T) {
	storetest.SkipOnPostgres(t, "ages files in the blobs folder")
	ctx := context.Background()
	clk := newFakeClock()
	s := mustOpenDir(t, t.TempDir(), clk)
	in := mustInterrogation(t, s, "i1", "source", clk.Now(), "GFPGAN", "CodeFormers")
	gf, cf := in.Forms[0], in.Forms[1]
	now := clk.Now()
	for _, f := range in.Forms {
		if err := s.StartAlchemyForm(ctx, f.ID, "w", now, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	first := mustPut(t, s, "first upload")
	if err := s.SetAlchemyUpload(ctx, gf.ID, first); err != nil {
		t.Fatal(err)
	}
	second := mustPut(t, s, "second upload")
	if err := s.SetAlchemyUpload(ctx, gf.ID, second); err != nil {
		t.Fatal(err)
	}
	if blobExists(t, s, first) {
		t.Errorf("the replaced upload is still on disk")
	}
	pending := mustPut(t, s, "uploaded, not submitted")
	if err := s.SetAlchemyUpload(ctx, cf.ID, pending); err != nil {
		t.Fatal(err)
	}
	clk.Advance(3 * time.Hour) // past the pins and the sweep's grace
	for _, ref := range []string{in.SourceRef, second, pending} {
		p := filepath.Join(s.Dir(), "blobs", ref[:2], ref)
		if err := os.Chtimes(p, clk.Now().Add(-2*time.Hour), clk.Now().Add(-2*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SweepBlobs(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	for name, ref := range map[string]string{"source": in.SourceRef, "upload": second, "pending upload": pending} {
		if !blobExists(t, s, ref) {
			t.Errorf("the sweep deleted the %s", name)
		}
	}
	gf.State, gf.BlobRef, gf.FinishedAt = horde.FormDone, second, clk.Now()
	if err := s.FinishAlchemyForm(ctx, horde.AlchemyFinish{Form: gf}); err != nil {
		t.Fatal(err)
	}
	if err := s.FailAlchemyForm(ctx, cf.ID, time.Time{}, true, clk.Now()); err != nil {
		t.Fatal(err)
	}
	if blobExists(t, s, pending) {
		t.Errorf("the faulted form's upload is still on disk")
	}
	if !blobExists(t, s, second) {
		t.Errorf("the done form's result is gone")
	}
	clk.Advance(48 * time.Hour)
	p, err := s.PurgeResults(ctx, clk.Now().Add(-24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if p.Requests != 1 || blobExists(t, s, in.SourceRef) || blobExists(t, s, second) {
		t.Errorf("purge = %+v; want the interrogation gone with its source and result", p)
	}
	if _, err := s.Interrogation(ctx, "i1"); !errors.Is(err, horde.ErrNotFound) {
		t.Errorf("purged interrogation: %v, want ErrNotFound", err)
	}
}

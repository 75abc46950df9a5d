package store_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// TestDataDirIsPrivate: what Open and PutBlob create nobody else may read:
// folders 0700, the database and its WAL 0600, images 0600.
func TestDataDirIsPrivate(t *testing.T) {
	storetest.SkipOnPostgres(t, "the data directory")
	dir := filepath.Join(t.TempDir(), "data")
	s := mustOpenDir(t, dir, newFakeClock())
	ref := mustPut(t, s, "a private image")
	mustUser(t, s, "alice") // a write, so the WAL exists
	for path, want := range map[string]fs.FileMode{
		dir:                                  0o700,
		filepath.Join(dir, "blobs"):          0o700,
		filepath.Join(dir, "blobs", ref[:2]): 0o700,
		filepath.Join(dir, "blobs", ref[:2], ref): 0o600,
		filepath.Join(dir, store.DBFile):          0o600,
		filepath.Join(dir, store.DBFile+"-wal"):   0o600,
	} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s: mode %o, want %o", strings.TrimPrefix(path, dir), got, want)
		}
	}
}

// TestReadOnlyDataDirIsAClearError: a data directory that cannot be written
// fails Open with a message naming the path and the problem, not a SQLite
// code, whether it is new, holds a database already, or only its image
// folder is read-only.
func TestReadOnlyDataDirIsAClearError(t *testing.T) {
	storetest.SkipOnPostgres(t, "the data directory")
	if storetest.Unprivileged(t) {
		return
	}
	ctx := context.Background()
	tests := []struct {
		name    string
		problem string
		setup   func(t *testing.T, dir string) (readOnly string)
	}{
		{"new data dir under a read-only folder", "cannot be created", func(t *testing.T, dir string) string {
			return dir
		}},
		{"existing data dir made read-only", "is not writable", func(t *testing.T, dir string) string {
			data := filepath.Join(dir, "data")
			s, err := store.Open(ctx, data, store.Options{Logger: quietLogger})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return data
		}},
		{"image folder read-only", "is not writable", func(t *testing.T, dir string) string {
			data := filepath.Join(dir, "data")
			if err := os.MkdirAll(filepath.Join(data, "blobs"), 0o700); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(data, "blobs")
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ro := tc.setup(t, dir)
			if err := os.Chmod(ro, 0o500); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.Chmod(ro, 0o700) })
			s, err := store.Open(ctx, filepath.Join(dir, "data"), store.Options{Logger: quietLogger})
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded on a read-only data dir")
			}
			var de *store.DataDirError
			if !errors.As(err, &de) || !errors.Is(err, fs.ErrPermission) {
				t.Fatalf("error %T %v, want a DataDirError wrapping permission denied", err, err)
			}
			msg := err.Error()
			for _, want := range []string{ro, tc.problem, "permission denied", "--data"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not say %q", msg, want)
				}
			}
			for _, leak := range []string{"SQLITE", "sqlite", "(code", "goroutine"} {
				if strings.Contains(msg, leak) {
					t.Errorf("message %q leaks %q", msg, leak)
				}
			}
		})
	}
}

// TestUnwritableBlobFolderIsUnavailable: when the image folder stops being
// writable under a running store, storing an image fails as a full disk
// does (KindUnavailable: the API answers 503), with no internal detail in
// its message, and works again once the folder is fixed.
func TestUnwritableBlobFolderIsUnavailable(t *testing.T) {
	storetest.SkipOnPostgres(t, "the data directory")
	if storetest.Unprivileged(t) {
		return
	}
	ctx := context.Background()
	s := mustOpen(t)
	blobs := filepath.Join(s.Dir(), "blobs")
	if err := os.Chmod(blobs, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(blobs, 0o700) })
	_, err := s.PutBlob(ctx, []byte("an image"))
	wantKind(t, err, horde.KindUnavailable, fs.ErrPermission)
	var he *horde.Error
	if !errors.As(err, &he) || strings.Contains(he.Message, blobs) {
		t.Fatalf("message %q names the folder", he.Message)
	}
	if err := os.Chmod(blobs, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutBlob(ctx, []byte("an image")); err != nil {
		t.Fatalf("after the folder was fixed: %v", err)
	}
}

// TestDataQuotaCountsImages: data_max_mib (MaxDBBytes) covers the images
// too: images are refused once the database and the images reach it, the
// database cannot grow into the images' share, deleting images makes room
// again, and a reopened store counts the images already there.
func TestDataQuotaCountsImages(t *testing.T) {
	storetest.SkipOnPostgres(t, "the data directory")
	ctx := context.Background()
	dir := t.TempDir()
	const quota = 2 << 20
	clk := newFakeClock()
	open := func() *store.Store {
		s, err := store.Open(ctx, dir, store.Options{Clock: clk, Logger: quietLogger, MaxDBBytes: quota})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	s := open()
	u := mustUser(t, s, "alice")
	mustRequest(t, s, "r", u.ID, 1)
	mustStart(t, s, "j", "r", 0, "w")

	// One image is j's upload; the others are orphans (PutBlobs whose rows never came).
	image := func(i int) []byte { return []byte(fmt.Sprintf("%04d", i) + strings.Repeat("x", 256<<10)) }
	mustUpload(t, s, "j", string(image(0)))
	var full error
	for i := 1; i < 20 && full == nil; i++ {
		_, full = s.PutBlob(ctx, image(i))
	}
	if full == nil {
		t.Fatalf("20 images of 256 KiB fit in a quota of 2 MiB")
	}
	wantKind(t, full, horde.KindUnavailable, nil)
	used, err := s.DataBytes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if used > quota {
		t.Fatalf("data grew to %d bytes past its quota of %d", used, quota)
	}
	_, imgBytes := blobFiles(t, s)
	if imgBytes < quota/2 {
		t.Fatalf("only %d bytes of images stored before the quota refused one", imgBytes)
	}
	// The database cannot grow into the images' share.
	r := imageRequest("big", u.ID, 4)
	r.Prompt = bigPrompt
	for i := 0; i < 200; i++ {
		r.ID = fmt.Sprintf("big-%d", i)
		if err = s.CreateRequest(ctx, r); err != nil {
			break
		}
	}
	wantKind(t, err, horde.KindUnavailable, nil)
	if pages, size := dbPages(t, dir); pages*size+imgBytes > quota {
		t.Fatalf("database %d + images %d bytes exceed the quota of %d", pages*size, imgBytes, quota)
	}

	// Reopened, the store counts the images already on disk.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open()
	_, err = s.PutBlob(ctx, image(99))
	wantKind(t, err, horde.KindUnavailable, nil)

	// Hours later the sweep deletes the orphans: there is room again.
	clk.Set(time.Now().Add(3 * time.Hour))
	if _, err := s.SweepBlobs(ctx, time.Hour); err != nil {
		t.Fatal(err)
	}
	if refs, _ := blobFiles(t, s); len(refs) != 1 {
		t.Fatalf("images after the sweep = %d, want the one upload", len(refs))
	}
	if _, err := s.PutBlob(ctx, image(99)); err != nil {
		t.Fatalf("an image after the sweep freed room: %v", err)
	}
	r.ID = "after-sweep"
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatalf("a request after the sweep freed room: %v", err)
	}
}

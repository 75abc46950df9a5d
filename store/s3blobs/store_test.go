package s3blobs_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/s3blobs/s3test"
	"github.com/hordebot/hordebot/store/storetest"
)

// openStore opens a SQLite store whose blobs live in a fresh bucket of srv.
func openStore(t *testing.T, srv *s3test.Server, clock horde.Clock) *store.Store {
	t.Helper()
	b := srv.Open(t, "results")
	st, err := store.Open(context.Background(), storetest.Database(t, t.TempDir()), store.Options{Clock: clock, Logger: slog.New(slog.DiscardHandler), Blobs: b, MaxConns: storetest.TestMaxConns})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestStoreKeepsBlobsInTheBucket: with an S3 backend the store writes,
// reads and deduplicates blobs in the bucket, and its data folder holds no
// image.
func TestStoreKeepsBlobsInTheBucket(t *testing.T) {
	srv := s3test.New(t, nil)
	st := openStore(t, srv, nil)
	ctx := context.Background()
	img := []byte("an image in a bucket")
	ref, err := st.PutBlob(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	ref2, n, err := st.PutBlobFrom(ctx, bytes.NewReader(img), 1<<20)
	if err != nil || ref2 != ref || n != int64(len(img)) {
		t.Fatalf("put from a reader: %s %d %v", ref2, n, err)
	}
	if keys := srv.Keys(t, "results", ""); len(keys) != 1 || keys[0] != ref {
		t.Fatalf("bucket holds %v, want [%s]", keys, ref)
	}
	got, err := st.Blob(ctx, ref)
	if err != nil || !bytes.Equal(got, img) {
		t.Fatalf("read back: %q %v", got, err)
	}
	if _, err := st.Blob(ctx, refOf([]byte("never stored"))); !errors.Is(err, horde.ErrNotFound) {
		t.Fatalf("a blob never stored: %v, want not found", err)
	}
	if _, err := st.Blob(ctx, "../../etc/passwd"); !horde.IsKind(err, horde.KindInvalid) {
		t.Fatalf("a ref that is not a digest: %v, want invalid", err)
	}
	if _, _, err := st.PutBlobFrom(ctx, bytes.NewReader(make([]byte, 2048)), 1024); !horde.IsKind(err, horde.KindInvalid) {
		t.Fatalf("oversize: %v, want invalid", err)
	}
	entries, _ := os.ReadDir(filepath.Join(st.Dir(), "blobs"))
	if len(entries) != 0 {
		t.Fatalf("the data folder's blobs/ holds %d entries with an S3 backend", len(entries))
	}
}

// TestSweepDeletesUnreferencedObjects: an object no row names is deleted
// from the bucket once older than the grace period and its pin has lapsed;
// a younger one is kept.
func TestSweepDeletesUnreferencedObjects(t *testing.T) {
	clock := storetest.NewClock(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC))
	srv := s3test.New(t, clock)
	st := openStore(t, srv, clock)
	ctx := context.Background()
	old, err := st.PutBlob(ctx, []byte("an abandoned upload"))
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour) // past the grace and the put's pin
	young, err := st.PutBlob(ctx, []byte("just written"))
	if err != nil {
		t.Fatal(err)
	}
	sw, err := st.SweepBlobs(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Deleted != 1 || sw.Kept != 1 {
		t.Fatalf("sweep %+v, want 1 deleted and 1 kept", sw)
	}
	if keys := srv.Keys(t, "results", ""); len(keys) != 1 || keys[0] != young {
		t.Fatalf("bucket holds %v, want only the young %s (the old %s gone)", keys, young, old)
	}
}

// TestDirectUploadsNeedABucket: the folder store takes no direct uploads,
// and says so with KindDisabled.
func TestDirectUploadsNeedABucket(t *testing.T) {
	st := storetest.MustOpen(t, t.TempDir(), nil)
	if st.DirectUploads() {
		t.Fatal("the folder store says it takes direct uploads")
	}
	if _, err := st.UploadURL(context.Background(), "job", time.Minute); !horde.IsKind(err, horde.KindDisabled) {
		t.Fatalf("upload URL from the folder store: %v, want disabled", err)
	}
	if u, err := st.ResultURL(context.Background(), refOf([]byte("x"))); u != "" || err != nil {
		t.Fatalf("result link from the folder store: %q %v, want none", u, err)
	}
}

// BenchmarkBucketBlobPutFrom: streaming a new 256 KiB image through the
// store into the in-process S3 server (spooled, hashed, HEAD, PUT).
func BenchmarkBucketBlobPutFrom(b *testing.B) {
	srv := s3test.New(b, nil)
	bucket := srv.Open(b, "results")
	st, err := store.Open(context.Background(), b.TempDir(), store.Options{Logger: slog.New(slog.DiscardHandler), Blobs: bucket})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	data := make([]byte, 256<<10)
	b.SetBytes(int64(len(data)))
	for i := 0; b.Loop(); i++ {
		data[0], data[1], data[2] = byte(i), byte(i>>8), byte(i>>16)
		if _, _, err := st.PutBlobFrom(ctx, bytes.NewReader(data), 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

func TestPutBlobIsContentAddressedAndIdempotent(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	data := []byte("\x89PNG not really")
	ref, err := s.PutBlob(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if ref != hex.EncodeToString(sum[:]) {
		t.Fatalf("ref = %s, want the sha256 of the data", ref)
	}
	if !blobExists(t, s, ref) {
		t.Fatal("the blob is not stored")
	}
	again, err := s.PutBlob(ctx, data)
	if err != nil || again != ref {
		t.Fatalf("second put = %s, %v", again, err)
	}
	got, err := s.Blob(ctx, ref)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("blob = %q, %v", got, err)
	}
	// No temporary files are left behind.
	left, err := filepath.Glob(filepath.Join(s.Dir(), "blobs", ref[:2], ".tmp-*"))
	if err != nil || len(left) != 0 {
		t.Fatalf("temporary files left: %v %v", left, err)
	}
	empty, err := s.PutBlob(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Blob(ctx, empty); err != nil || len(got) != 0 {
		t.Fatalf("empty blob = %q, %v", got, err)
	}
}

func TestBlobRefusals(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	missing := hex.EncodeToString(make([]byte, 32))
	tests := []struct {
		name string
		ref  string
		kind horde.Kind
	}{
		{"missing", missing, horde.KindNotFound},
		{"traversal", "../../../../etc/passwd", horde.KindInvalid},
		{"traversal of hex length", "../" + missing[3:], horde.KindInvalid},
		{"uppercase", "AB" + missing[2:], horde.KindInvalid},
		{"short", "abcd", horde.KindInvalid},
		{"empty", "", horde.KindInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Blob(ctx, tc.ref)
			wantKind(t, err, tc.kind, nil)
		})
	}
}

func TestBlobDetectsCorruption(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	ref, err := s.PutBlob(ctx, []byte("original"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.TamperBlob(ctx, s, ref, []byte("tampered")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Blob(ctx, ref); err == nil {
		t.Fatal("a tampered blob was returned")
	}
	// Putting the content again repairs it.
	if _, err := s.PutBlob(ctx, []byte("original")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Blob(ctx, ref); err != nil || string(got) != "original" {
		t.Fatalf("repaired blob = %q, %v", got, err)
	}
}

// patternReader yields n bytes of a repeating pattern without holding them.
type patternReader struct{ left int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), r.left)
	for i := range p[:n] {
		p[i] = byte(r.left - int64(i))
	}
	r.left -= n
	return int(n), nil
}

// TestPutBlobFromStreams: a 64 MiB blob is stored with a few hundred KiB
// of allocations (the stream is never held whole in memory), under the
// SHA-256 of its bytes; more than max bytes stores nothing and leaves no
// temporary file.
func TestPutBlobFromStreams(t *testing.T) {
	storetest.SkipOnPostgres(t, "the blobs folder streams a blob to its file; the blobs table holds it in memory while it is written")
	ctx := context.Background()
	s := mustOpen(t)
	const size = 64 << 20
	want := sha256.New()
	_, _ = io.Copy(want, &patternReader{left: size})

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	ref, n, err := s.PutBlobFrom(ctx, &patternReader{left: size}, size)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if n != size || ref != hex.EncodeToString(want.Sum(nil)) {
		t.Fatalf("stored %d bytes as %s, want %d as the sha256 of the stream", n, ref, size)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
		t.Errorf("streaming %d MiB allocated %d bytes: the blob was held in memory", size>>20, alloc)
	}
	fi, err := os.Stat(filepath.Join(s.Dir(), "blobs", ref[:2], ref))
	if err != nil || fi.Size() != size {
		t.Fatalf("blob file: %v, %v", fi, err)
	}

	_, _, err = s.PutBlobFrom(ctx, &patternReader{left: 1 << 20}, 1<<20-1)
	if !horde.IsKind(err, horde.KindInvalid) {
		t.Fatalf("over max: %v, want KindInvalid", err)
	}
	left, _ := filepath.Glob(filepath.Join(s.Dir(), "blobs", ".tmp-*"))
	if len(left) != 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

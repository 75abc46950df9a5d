package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/hordebot/hordebot/horde"
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
	if _, err := os.Stat(filepath.Join(s.Dir(), "blobs", ref[:2], ref)); err != nil {
		t.Fatalf("blob file: %v", err)
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
	path := filepath.Join(s.Dir(), "blobs", ref[:2], ref)
	if err := os.WriteFile(path, []byte("tampered"), 0o640); err != nil {
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

package store_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
)

// benchImage is a 256 KiB blob made distinct by i.
func benchImage(i int) []byte {
	data := make([]byte, 256<<10)
	binary.LittleEndian.PutUint64(data, uint64(i))
	return data
}

// BenchmarkBlobPutFrom: streaming a new 256 KiB image into the blob folder
// (hashed, fsynced, renamed), as an r2 upload does.
func BenchmarkBlobPutFrom(b *testing.B) {
	ctx := context.Background()
	s := mustOpenDir(b, b.TempDir(), newFakeClock())
	b.SetBytes(256 << 10)
	for i := 0; b.Loop(); i++ {
		if _, _, err := s.PutBlobFrom(ctx, bytes.NewReader(benchImage(i)), 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBlobRead: reading a stored 256 KiB image back (hash checked).
func BenchmarkBlobRead(b *testing.B) {
	ctx := context.Background()
	s := mustOpenDir(b, b.TempDir(), newFakeClock())
	ref, err := s.PutBlob(ctx, benchImage(0))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(256 << 10)
	for b.Loop() {
		if _, err := s.Blob(ctx, ref); err != nil {
			b.Fatal(err)
		}
	}
}

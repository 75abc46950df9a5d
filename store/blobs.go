package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/hordebot/hordebot/horde"
)

// PutBlob stores data durably under its SHA-256 (blobs/ab/abcdef...) and
// returns that hex digest as its ref. Storing the same content again is a
// no-op (a damaged copy is rewritten). The file is written to a temporary
// name, fsynced, renamed and its folder fsynced, so a crash leaves either no
// blob or the whole blob. The blob is pinned (kept from deletion) until the
// row naming it commits, and counted against the data quota (blobs_gc.go).
func (s *Store) PutBlob(ctx context.Context, data []byte) (_ string, err error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if s.remote != nil {
		ref, _, err := s.putRemote(ctx, bytes.NewReader(data), int64(len(data)))
		return ref, err
	}
	sum := sha256.Sum256(data)
	ref := hex.EncodeToString(sum[:])
	s.pinBlob(ref) // before looking for the file: see blobs_gc.go
	defer func() {
		if err != nil {
			s.unpinBlob(ref)
		}
	}()
	dir := filepath.Join(s.blobs, ref[:2])
	path := filepath.Join(dir, ref)
	// The same content already stored intact: nothing to do. A damaged copy is replaced.
	fi, statErr := os.Stat(path)
	if statErr == nil && fi.Size() == int64(len(data)) {
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
			return ref, nil
		}
	}
	n := int64(len(data))
	if err := s.reserveBlob(ctx, n); err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, privateDirMode); err != nil {
		s.releaseBlob(n)
		return "", diskError(fmt.Errorf("blob folder %s: %w", dir, err))
	}
	if err := writeFileAtomic(dir, path, data); err != nil {
		s.releaseBlob(n)
		return "", diskError(fmt.Errorf("put blob %s: %w", ref, err))
	}
	if statErr == nil {
		s.releaseBlob(fi.Size()) // the damaged copy it replaced
	}
	return ref, nil
}

// PutBlobFrom streams r into the blob store, at most max bytes, and returns
// the content address and the size of what it stored. The bytes go to a
// temporary file in the blob folder, hashed while they are written, then
// the file is fsynced and renamed to its content address (replacing a copy
// of the same content, so a damaged copy is rewritten), and the folder is
// fsynced: memory use does not grow with the size of the blob, and a crash
// or a broken upload leaves no partial blob. A reader holding more than max
// bytes is a KindInvalid error (field "image"); an error reading r is returned wrapped as it is
// (a client's broken upload, a *http.MaxBytesError) and stores nothing; a
// full or read-only disk is KindUnavailable.
func (s *Store) PutBlobFrom(ctx context.Context, r io.Reader, max int64) (ref string, n int64, err error) {
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	if s.remote != nil {
		return s.putRemote(ctx, r, max)
	}
	f, err := os.CreateTemp(s.blobs, ".tmp-*")
	if err != nil {
		return "", 0, diskError(fmt.Errorf("blob folder %s: %w", s.blobs, err))
	}
	tmp := f.Name()
	defer func() {
		if f != nil {
			f.Close()
		}
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	h := sha256.New()
	buf := make([]byte, 64<<10)
	for {
		if err := ctx.Err(); err != nil {
			return "", 0, err
		}
		m, rerr := r.Read(buf)
		if m > 0 {
			if n+int64(m) > max {
				return "", 0, horde.Invalidf("image", "the upload is larger than %d bytes", max)
			}
			h.Write(buf[:m]) // a hash.Hash never fails
			if _, werr := f.Write(buf[:m]); werr != nil {
				return "", 0, diskError(fmt.Errorf("put blob: %w", werr))
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			break
		}
		if rerr != nil {
			return "", 0, fmt.Errorf("put blob: read: %w", rerr)
		}
	}
	if err := f.Sync(); err != nil {
		return "", 0, diskError(fmt.Errorf("put blob: sync: %w", err))
	}
	cerr := f.Close()
	f = nil
	if cerr != nil {
		return "", 0, diskError(fmt.Errorf("put blob: close: %w", cerr))
	}
	if err := os.Chmod(tmp, privateFileMode); err != nil {
		return "", 0, diskError(fmt.Errorf("put blob: %w", err))
	}
	ref = hex.EncodeToString(h.Sum(nil))
	s.pinBlob(ref) // before the file is in place: see blobs_gc.go
	defer func() {
		if err != nil {
			s.unpinBlob(ref)
		}
	}()
	dir := filepath.Join(s.blobs, ref[:2])
	path := filepath.Join(dir, ref)
	if err := s.reserveBlob(ctx, n); err != nil {
		return "", 0, err
	}
	old, statErr := os.Stat(path)
	if err := os.MkdirAll(dir, privateDirMode); err != nil {
		s.releaseBlob(n)
		return "", 0, diskError(fmt.Errorf("blob folder %s: %w", dir, err))
	}
	if err := os.Rename(tmp, path); err != nil {
		s.releaseBlob(n)
		return "", 0, diskError(fmt.Errorf("put blob %s: %w", ref, err))
	}
	if statErr == nil {
		s.releaseBlob(old.Size()) // the copy of the same content it replaced
	}
	if err := syncDir(dir); err != nil {
		return "", 0, diskError(fmt.Errorf("put blob %s: sync folder: %w", ref, err))
	}
	return ref, n, nil
}

// syncDir fsyncs a folder, so that a rename into it is durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// writeFileAtomic writes data to path through a fsynced temporary file in
// dir, then fsyncs dir so that the rename itself is durable.
func writeFileAtomic(dir, path string, data []byte) (err error) {
	f, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp, privateFileMode); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// Blob returns the data stored at ref; ErrNotFound if none. A ref that is
// not a SHA-256 hex digest is KindInvalid (so no path can be smuggled in).
func (s *Store) Blob(ctx context.Context, ref string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if !validRef(ref) {
		return nil, horde.Invalidf("blob", "invalid blob reference")
	}
	if s.remote != nil {
		return s.remoteBlob(ctx, ref)
	}
	data, err := os.ReadFile(filepath.Join(s.blobs, ref[:2], ref))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("blob %s: %w", ref, horde.ErrNotFound)
	}
	if err != nil {
		return nil, diskError(fmt.Errorf("read blob %s: %w", ref, err))
	}
	if sum := sha256.Sum256(data); !bytes.Equal(sum[:], mustHex(ref)) {
		return nil, fmt.Errorf("blob %s is corrupt (content hash differs)", ref)
	}
	return data, nil
}

// validRef reports whether ref is a lowercase hex SHA-256 digest.
func validRef(ref string) bool {
	if len(ref) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(ref); i++ {
		c := ref[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// mustHex decodes a ref already checked by validRef.
func mustHex(ref string) []byte {
	b, _ := hex.DecodeString(ref) // validRef guarantees it decodes
	return b
}

// diskError marks a full or read-only disk, and a blob folder this process
// may not write (permissions changed under it), as KindUnavailable: the
// client can do nothing about it but try again once an admin has.
func diskError(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.EDQUOT) ||
		errors.Is(err, fs.ErrPermission) {
		return &horde.Error{Kind: horde.KindUnavailable, Code: "StoreUnavailable", Message: "storage is unavailable; try again later", Err: err}
	}
	return err
}

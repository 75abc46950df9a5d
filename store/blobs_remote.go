package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// The blob methods when Options.Blobs names a backend other than the
// folder (blobbackend.go). The folder's own code (blobs.go, blobs_gc.go)
// is not involved; the pins, the references and the sweep's rules are the
// same. The data quota counts the folder's blobs only: a bucket's usage is
// the bucket's business.

// putRemote stores what r holds (at most max bytes) in the backend, pinned
// until the row naming it commits.
func (s *Store) putRemote(ctx context.Context, r io.Reader, max int64) (ref string, n int64, err error) {
	pinned := ""
	ref, n, err = s.remote.PutBlob(ctx, r, max, func(ref string) {
		s.pinBlob(ref)
		pinned = ref
	})
	if err != nil {
		if pinned != "" {
			s.unpinBlob(pinned)
		}
		return "", 0, err
	}
	return ref, n, nil
}

// remoteBlob reads ref from the backend and checks its content hash.
func (s *Store) remoteBlob(ctx context.Context, ref string) ([]byte, error) {
	data, err := s.remote.GetBlob(ctx, ref)
	if err != nil {
		return nil, fmt.Errorf("blob %s: %w", ref, err)
	}
	if sum := sha256.Sum256(data); !bytes.Equal(sum[:], mustHex(ref)) {
		return nil, fmt.Errorf("blob %s is corrupt (content hash differs)", ref)
	}
	return data, nil
}

// dropRemoteBlob is dropBlob for the backend: it deletes ref if no row
// names it, no write is about to, and (when olderThan is set) it was
// written before olderThan. info is the blob's, when the caller listed it.
func (s *Store) dropRemoteBlob(ctx context.Context, ref string, olderThan time.Time, info *BlobInfo) (deleted bool, freed int64, err error) {
	if info == nil {
		fi, err := s.remote.StatBlob(ctx, ref)
		if errors.Is(err, horde.ErrNotFound) {
			return false, 0, nil
		}
		if err != nil {
			return false, 0, fmt.Errorf("stat blob %s: %w", ref, err)
		}
		info = &fi
	}
	if !olderThan.IsZero() && !info.ModTime.Before(olderThan) {
		return false, 0, nil
	}
	// The pin check, the reference check and the deletion hold the pin lock,
	// so a put that found the blob already there keeps it (see blobs_gc.go).
	s.gc.mu.Lock()
	defer s.gc.mu.Unlock()
	if s.pinnedLocked(ref, s.clock.Now()) {
		return false, 0, nil
	}
	if used, err := s.blobReferenced(ctx, ref); err != nil || used {
		return false, 0, err
	}
	if err := s.remote.DeleteBlob(ctx, ref); err != nil {
		return false, 0, fmt.Errorf("delete blob %s: %w", ref, err)
	}
	return true, info.Size, nil
}

// sweepRemote is SweepBlobs for the backend: blobs no row names, written
// before before, are deleted; so are the uploads of jobs that are no
// longer processing (UploadArea), once as old.
func (s *Store) sweepRemote(ctx context.Context, before time.Time) (BlobSweep, error) {
	var res BlobSweep
	var errs []error
	var group string
	var named map[string]bool
	err := s.remote.ListBlobs(ctx, func(b BlobInfo) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		// The listing is in key order: one indexed range read per two-digit
		// group tells the blobs rows name, as for the folder.
		if b.Ref[:2] != group {
			group = b.Ref[:2]
			var err error
			if named, err = s.blobsNamedWithPrefix(ctx, group); err != nil {
				return err
			}
		}
		deleted, freed := false, int64(0)
		var err error
		if !named[b.Ref] {
			deleted, freed, err = s.dropRemoteBlob(ctx, b.Ref, before, &b)
		}
		switch {
		case err != nil:
			errs = append(errs, err)
		case deleted:
			res.Deleted++
			res.Freed += freed
		default:
			res.Kept++
			res.KeptBytes += b.Size
		}
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("sweep blobs: %w", err))
	}
	if ua, ok := s.remote.(UploadArea); ok {
		errs = append(errs, s.sweepUploads(ctx, ua, before, &res))
	}
	return res, errors.Join(errs...)
}

// sweepUploads deletes the job objects that workers PUT and nobody took,
// once they are older than before and their job no longer processes (it
// was aborted, faulted or cancelled): they count as Temps.
func (s *Store) sweepUploads(ctx context.Context, ua UploadArea, before time.Time, res *BlobSweep) error {
	var errs []error
	err := ua.ListUploads(ctx, func(jobID string, mod time.Time) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !mod.Before(before) {
			return nil
		}
		var state string
		err := s.r.QueryRowContext(ctx, qJobState, jobID).Scan(&state)
		if err == nil && state == string(horde.JobProcessing) {
			return nil
		}
		if err := ua.DeleteUpload(ctx, jobID); err != nil {
			errs = append(errs, err)
			return nil
		}
		res.Temps++
		return nil
	})
	if err != nil {
		errs = append(errs, fmt.Errorf("sweep uploads: %w", err))
	}
	return errors.Join(errs...)
}

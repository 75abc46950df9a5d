package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// Blob garbage collection and accounting.
//
// Blobs are content-addressed, so one file may back several rows: two jobs
// that produced the same bytes, an upload and the generation made from it.
// A blob file is deleted only when no row names it (blobRefQueries) and no
// write is about to name it. PutBlob pins its ref before it looks for the
// file; SetUpload unpins it once the uploads row naming it has committed, and
// other pins lapse after blobPinTTL. The check and the deletion happen under
// the lock that pinning takes, so a PutBlob that found the file already there
// (and skipped writing it) never sees it vanish before its row commits.
//
// Deletions happen right after the write that dropped the last reference (a
// re-upload, a job faulted, aborted or cancelled, a request purged), and the
// periodic SweepBlobs catches what those missed (a crash between the commit
// and the deletion, a PutBlob whose row never came): it deletes files no row
// names once they are older than a grace period.

// blobPinTTL is how long a PutBlob's pin protects its blob without the row
// that names it: far longer than any write takes to commit.
const blobPinTTL = 10 * time.Minute

// maxPins bounds the pins kept before lapsed ones are pruned.
const maxPins = 4096

// blobRefQueries each report whether some row names the blob ?1. Every
// column that holds a blob ref must be listed here and in
// blobRefRangeQueries, or its blobs would be deleted under it.
var blobRefQueries = []string{
	`SELECT EXISTS (SELECT 1 FROM generations WHERE blob_ref = ?1 AND blob_ref != '')`,
	`SELECT EXISTS (SELECT 1 FROM uploads WHERE blob_ref = ?1)`,
	`SELECT EXISTS (SELECT 1 FROM interrogations WHERE source_ref = ?1)`,
	`SELECT EXISTS (SELECT 1 FROM interrogation_forms WHERE blob_ref = ?1 AND blob_ref != '')`,
	`SELECT EXISTS (SELECT 1 FROM interrogation_forms WHERE upload_ref = ?1 AND upload_ref != '')`,
}

// blobKeeper holds the pins and the bytes the blob files take.
type blobKeeper struct {
	mu   sync.Mutex
	pins map[string]blobPin
	// used is the bytes of the blob files: counted at Open when there is a
	// quota, then kept up to date by puts and deletions.
	used atomic.Int64
	// limitDirty says the database's page limit must be recomputed from used
	// (the writer does it before its next transaction, applyDBLimit).
	limitDirty atomic.Bool
}

// blobPin is a blob some PutBlob stored whose row has not committed yet.
type blobPin struct {
	n  int       // PutBlobs not yet followed by their row
	at time.Time // the latest
}

// pinBlob protects ref from deletion until unpinBlob or blobPinTTL.
// PutBlob calls it before it looks for the file.
func (s *Store) pinBlob(ref string) {
	now := s.clock.Now()
	s.gc.mu.Lock()
	defer s.gc.mu.Unlock()
	if s.gc.pins == nil {
		s.gc.pins = make(map[string]blobPin)
	}
	if len(s.gc.pins) >= maxPins {
		for r, p := range s.gc.pins {
			if now.Sub(p.at) >= blobPinTTL {
				delete(s.gc.pins, r)
			}
		}
	}
	p := s.gc.pins[ref]
	p.n++
	p.at = now
	s.gc.pins[ref] = p
}

// unpinBlob releases one pin of ref, once the row naming it has committed
// (or will never be written).
func (s *Store) unpinBlob(ref string) {
	s.gc.mu.Lock()
	defer s.gc.mu.Unlock()
	p, ok := s.gc.pins[ref]
	if !ok {
		return
	}
	if p.n--; p.n <= 0 {
		delete(s.gc.pins, ref)
		return
	}
	s.gc.pins[ref] = p
}

// pinnedLocked reports whether ref is pinned; the caller holds s.gc.mu.
func (s *Store) pinnedLocked(ref string, now time.Time) bool {
	p, ok := s.gc.pins[ref]
	return ok && p.n > 0 && now.Sub(p.at) < blobPinTTL
}

// blobReferenced reports whether a committed row names ref.
func (s *Store) blobReferenced(ctx context.Context, ref string) (bool, error) {
	for _, q := range blobRefQueries {
		var yes bool
		if err := s.r.QueryRowContext(ctx, q, ref).Scan(&yes); err != nil {
			return true, fmt.Errorf("references to blob %s: %w", ref, err)
		}
		if yes {
			return true, nil
		}
	}
	return false, nil
}

// dropBlobs deletes the files of refs that no committed row names and no
// write is about to name, and returns how many it deleted and the bytes
// freed. Call it after the write that dropped a reference has committed. A
// failure is logged, not returned: the write it follows succeeded, and
// SweepBlobs deletes what is left.
func (s *Store) dropBlobs(ctx context.Context, refs ...string) (deleted int, freed int64) {
	ctx = context.WithoutCancel(ctx)
	seen := make(map[string]bool, len(refs))
	for _, ref := range refs {
		if ref == "" || seen[ref] || !validRef(ref) {
			continue
		}
		seen[ref] = true
		gone, n, err := s.dropBlob(ctx, ref, time.Time{})
		if err != nil {
			s.log.Warn("delete unreferenced blob", "blob", ref, "err", err)
		}
		if gone {
			deleted++
			freed += n
		}
	}
	return deleted, freed
}

// dropBlob deletes the file of ref if no row names it, no write is about to,
// and (when olderThan is set) it was last written before olderThan. It
// reports whether it deleted the file and the bytes that freed.
func (s *Store) dropBlob(ctx context.Context, ref string, olderThan time.Time) (deleted bool, freed int64, err error) {
	if s.remote != nil {
		return s.dropRemoteBlob(ctx, ref, olderThan, nil)
	}
	s.gc.mu.Lock()
	defer s.gc.mu.Unlock()
	if s.pinnedLocked(ref, s.clock.Now()) {
		return false, 0, nil
	}
	path := s.blobPath(ref)
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, 0, nil
	}
	if err != nil {
		return false, 0, fmt.Errorf("stat blob %s: %w", ref, err)
	}
	if !olderThan.IsZero() && !fi.ModTime().Before(olderThan) {
		return false, 0, nil
	}
	if used, err := s.blobReferenced(ctx, ref); err != nil || used {
		return false, 0, err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, 0, fmt.Errorf("delete blob %s: %w", ref, err)
	}
	s.blobBytesChanged(-fi.Size())
	return true, fi.Size(), nil
}

// blobPath is where the blob ref lives (ref already validated).
func (s *Store) blobPath(ref string) string {
	return filepath.Join(s.blobs, ref[:2], ref)
}

// BlobSweep is what SweepBlobs did.
type BlobSweep struct {
	Deleted   int   // blob files no row named
	Freed     int64 // bytes they took
	Temps     int   // temporary files left by interrupted writes
	Kept      int   // blob files still named by a row (or too new to judge)
	KeptBytes int64
}

// SweepBlobs deletes the blob files that no row names and that were last
// written more than grace before the store's clock, and the temporary files
// (".tmp-*") of writes interrupted as long ago. The grace period protects a
// blob written just before the row naming it commits. It carries on past a
// file it cannot delete and returns the errors joined.
func (s *Store) SweepBlobs(ctx context.Context, grace time.Duration) (BlobSweep, error) {
	var res BlobSweep
	before := s.clock.Now().Add(-grace)
	if s.remote != nil {
		return s.sweepRemote(ctx, before)
	}
	var errs []error
	dirs, err := os.ReadDir(s.blobs)
	if err != nil {
		return res, diskError(fmt.Errorf("list blob folder %s: %w", s.blobs, err))
	}
	errs = append(errs, s.sweepTemps(s.blobs, dirs, before, &res))
	for _, d := range dirs {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if !d.IsDir() || len(d.Name()) != 2 {
			continue
		}
		dir := filepath.Join(s.blobs, d.Name())
		files, err := os.ReadDir(dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("list blob folder %s: %w", dir, err))
			continue
		}
		errs = append(errs, s.sweepTemps(dir, files, before, &res))
		// One indexed range read per folder tells the blobs rows name; the
		// others are checked again, one by one, under the pin lock.
		named, err := s.blobsNamedWithPrefix(ctx, d.Name())
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, f := range files {
			ref := f.Name()
			if !f.Type().IsRegular() || !validRef(ref) || ref[:2] != d.Name() {
				continue
			}
			deleted, freed := false, int64(0)
			if !named[ref] {
				deleted, freed, err = s.dropBlob(ctx, ref, before)
			}
			switch {
			case err != nil:
				errs = append(errs, err)
			case deleted:
				res.Deleted++
				res.Freed += freed
			default:
				res.Kept++
				if fi, err := f.Info(); err == nil {
					res.KeptBytes += fi.Size()
				}
			}
		}
	}
	return res, errors.Join(errs...)
}

// blobRefRangeQueries each list the blob refs in [?1, ?2) that rows of one
// table name: blobRefQueries, by range.
var blobRefRangeQueries = []string{
	`SELECT DISTINCT blob_ref FROM generations WHERE blob_ref >= ?1 AND blob_ref < ?2 AND blob_ref != ''`,
	`SELECT DISTINCT blob_ref FROM uploads WHERE blob_ref >= ?1 AND blob_ref < ?2`,
	`SELECT DISTINCT source_ref FROM interrogations WHERE source_ref >= ?1 AND source_ref < ?2`,
	`SELECT DISTINCT blob_ref FROM interrogation_forms WHERE blob_ref >= ?1 AND blob_ref < ?2 AND blob_ref != ''`,
	`SELECT DISTINCT upload_ref FROM interrogation_forms WHERE upload_ref >= ?1 AND upload_ref < ?2 AND upload_ref != ''`,
}

// blobsNamedWithPrefix is the set of blob refs starting with the two hex
// digits prefix that some row names.
func (s *Store) blobsNamedWithPrefix(ctx context.Context, prefix string) (map[string]bool, error) {
	hi := prefix + "g" // every lowercase hex ref with this prefix sorts below it
	named := make(map[string]bool)
	for _, q := range blobRefRangeQueries {
		refs, err := queryRows(ctx, s.r, "blobs named under "+prefix, scanString, q, prefix, hi)
		if err != nil {
			return nil, err
		}
		for _, r := range refs {
			named[r] = true
		}
	}
	return named, nil
}

// sweepTemps deletes the temporary files among entries of dir last written
// before before.
func (s *Store) sweepTemps(dir string, entries []fs.DirEntry, before time.Time, res *BlobSweep) error {
	var errs []error
	for _, e := range entries {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), ".tmp") {
			continue
		}
		fi, err := e.Info()
		if err != nil || !fi.ModTime().Before(before) {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("delete temporary file %s: %w", path, err))
			continue
		}
		res.Temps++
	}
	return errors.Join(errs...)
}

// blobUsage is the bytes of the files under the blob folder.
func blobUsage(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			total += fi.Size()
		}
		return nil
	})
	return total, err
}

// DataBytes is what the data quota (Options.MaxDBBytes) counts: the
// database's pages plus the blob files (counted at Open when there is a
// quota, then followed).
func (s *Store) DataBytes(ctx context.Context) (int64, error) {
	db, err := s.dbBytes(ctx)
	if err != nil {
		return 0, err
	}
	return db + s.gc.used.Load(), nil
}

// reserveBlob counts n more bytes of blobs against the data quota before
// they are written, or fails with KindUnavailable (as a full disk does) when
// the database and the blobs would then exceed it. Call releaseBlob(n) if
// the bytes are not stored after all.
func (s *Store) reserveBlob(ctx context.Context, n int64) error {
	if s.quota <= 0 {
		s.blobBytesChanged(n)
		return nil
	}
	db, err := s.dbBytes(ctx)
	if err != nil {
		return err
	}
	if used := s.gc.used.Add(n); db+used > s.quota {
		s.gc.used.Add(-n)
		return &horde.Error{Kind: horde.KindUnavailable, Code: "StoreUnavailable", Message: "storage is unavailable; try again later",
			Err: fmt.Errorf("data quota of %d bytes: the database takes %d and the images %d, %d more do not fit", s.quota, db, used-n, n)}
	}
	s.gc.limitDirty.Store(true)
	return nil
}

// releaseBlob gives back bytes reserved by reserveBlob and not stored.
func (s *Store) releaseBlob(n int64) { s.blobBytesChanged(-n) }

// blobBytesChanged follows the blob files' size; with a quota, the
// database's page limit follows it too.
func (s *Store) blobBytesChanged(delta int64) {
	s.gc.used.Add(delta)
	if s.quota > 0 {
		s.gc.limitDirty.Store(true)
	}
}

// dbPageLimit is the database's page limit under the data quota: what the
// blobs leave, at least one page (SQLite keeps the limit at or above the
// database's current size).
func (s *Store) dbPageLimit() int64 {
	return max((s.quota-s.gc.used.Load())/s.pageSize, 1)
}

// applyDBLimit sets the writer connection's max_page_count from the data
// quota when the blobs' size changed. The writer goroutine calls it between
// transactions, where it is the connection's only user.
func (s *Store) applyDBLimit() {
	if s.quota <= 0 || !s.gc.limitDirty.Swap(false) {
		return
	}
	var got int64
	if err := s.w.QueryRowContext(context.Background(), fmt.Sprintf("PRAGMA max_page_count = %d", s.dbPageLimit())).Scan(&got); err != nil {
		s.gc.limitDirty.Store(true)
		s.log.Warn("set the database page limit", "err", err)
	}
}

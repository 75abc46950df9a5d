package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/hordebot/hordebot/horde"
)

// pgBlobs is the BlobBackend of a store on PostgreSQL without
// Options.Blobs: result images in the database's blobs table (BYTEA, keyed
// by their SHA-256 hex digest), where every process on the database reads
// them. Its writes go straight to the pool, outside the writer's
// transactions: a blob is committed before the row naming it, as a file is
// fsynced before its row on SQLite, and the store's pins keep it from the
// sweep until then.
type pgBlobs struct {
	db    *sql.DB
	clock horde.Clock
}

var _ BlobBackend = (*pgBlobs)(nil)

// listBlobsPage is how many blobs ListBlobs reads per query.
const listBlobsPage = 500

func (b *pgBlobs) PutBlob(ctx context.Context, r io.Reader, max int64, pin func(ref string)) (string, int64, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return "", 0, fmt.Errorf("put blob: read: %w", err)
	}
	if int64(len(data)) > max {
		return "", 0, horde.Invalidf("image", "the upload is larger than %d bytes", max)
	}
	sum := sha256.Sum256(data)
	ref := hex.EncodeToString(sum[:])
	pin(ref)
	// The same content again is written again (a damaged copy is repaired)
	// and its time refreshed (the sweep's grace).
	if _, err := b.db.ExecContext(ctx, `INSERT INTO blobs (ref, data, size, at) VALUES (?, ?, ?, ?)
ON CONFLICT (ref) DO UPDATE SET data = excluded.data, size = excluded.size, at = excluded.at`, ref, data, len(data), nanos(b.clock.Now())); err != nil {
		return "", 0, unavailable(fmt.Errorf("put blob %s: %w", ref, err))
	}
	return ref, int64(len(data)), nil
}

func (b *pgBlobs) GetBlob(ctx context.Context, ref string) ([]byte, error) {
	var data []byte
	err := b.db.QueryRowContext(ctx, `SELECT data FROM blobs WHERE ref = ?`, ref).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, horde.ErrNotFound
	}
	if err != nil {
		return nil, unavailable(fmt.Errorf("read blob: %w", err))
	}
	return bytes.Clone(data), nil
}

func (b *pgBlobs) StatBlob(ctx context.Context, ref string) (BlobInfo, error) {
	info := BlobInfo{Ref: ref}
	var at int64
	err := b.db.QueryRowContext(ctx, `SELECT size, at FROM blobs WHERE ref = ?`, ref).Scan(&info.Size, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return BlobInfo{}, horde.ErrNotFound
	}
	if err != nil {
		return BlobInfo{}, unavailable(fmt.Errorf("stat blob: %w", err))
	}
	info.ModTime = fromNanos(at)
	return info, nil
}

func (b *pgBlobs) DeleteBlob(ctx context.Context, ref string) error {
	if _, err := b.db.ExecContext(ctx, `DELETE FROM blobs WHERE ref = ?`, ref); err != nil {
		return unavailable(fmt.Errorf("delete blob: %w", err))
	}
	return nil
}

// ListBlobs reads the blobs a page at a time, so that fn (which may query
// the database) never waits behind an open listing.
func (b *pgBlobs) ListBlobs(ctx context.Context, fn func(BlobInfo) error) error {
	after := ""
	for {
		page, err := queryRows(ctx, b.db, "list blobs", func(row scanner) (BlobInfo, error) {
			var info BlobInfo
			var at int64
			err := row.Scan(&info.Ref, &info.Size, &at)
			info.ModTime = fromNanos(at)
			return info, err
		}, `SELECT ref, size, at FROM blobs WHERE ref > ? ORDER BY ref LIMIT ?`, after, listBlobsPage)
		if err != nil {
			return unavailable(err)
		}
		for _, info := range page {
			if err := fn(info); err != nil {
				return err
			}
		}
		if len(page) < listBlobsPage {
			return nil
		}
		after = page[len(page)-1].Ref
	}
}

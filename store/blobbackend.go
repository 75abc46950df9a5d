package store

import (
	"context"
	"io"
	"time"
)

// Where result images live. By default the store keeps them in its own
// content-addressed folder (blobs.go: blobs/ab/<sha256 hex>, fsynced, counted
// against the data quota). Options.Blobs replaces the folder with another
// BlobBackend, such as an S3-compatible bucket (store/s3blobs), that every
// hordebot process can read. Whatever the backend, the store keeps the
// rules: content addressing (the same image twice is stored once), pins
// that keep a blob whose row has not committed from being swept, deletion
// once no row names a blob, retention.

// BlobBackend is a place that keeps blobs under their SHA-256 hex digest.
// Refs handed to it are always valid lowercase hex digests. Errors are
// horde errors: a missing blob is horde.ErrNotFound (KindNotFound); a
// backend that cannot be reached is KindUnavailable.
type BlobBackend interface {
	// PutBlob stores what r holds, at most max bytes, under its SHA-256 hex
	// digest and returns that ref and the size. It reads r to its end
	// before it stores anything, so more than max bytes is KindInvalid
	// (field "image") and stores nothing, and so is an error reading r
	// (returned wrapped). pin is called with the ref once it is known and
	// before the blob can be seen at it (or before the backend looks
	// whether it is already there), so that the store's sweep spares it.
	// Storing content that is already there stores it once.
	PutBlob(ctx context.Context, r io.Reader, max int64, pin func(ref string)) (ref string, n int64, err error)
	// GetBlob returns the bytes at ref; horde.ErrNotFound if none.
	GetBlob(ctx context.Context, ref string) ([]byte, error)
	// StatBlob returns the size and time of the blob at ref;
	// horde.ErrNotFound if none.
	StatBlob(ctx context.Context, ref string) (BlobInfo, error)
	// DeleteBlob deletes the blob at ref; deleting a missing blob is not an
	// error.
	DeleteBlob(ctx context.Context, ref string) error
	// ListBlobs calls fn with every blob, in ascending order of ref, until
	// fn returns an error (which ListBlobs returns).
	ListBlobs(ctx context.Context, fn func(BlobInfo) error) error
}

// BlobInfo describes a stored blob.
type BlobInfo struct {
	Ref     string
	Size    int64
	ModTime time.Time // when it was last written
}

// UploadArea is a BlobBackend that workers may write to themselves,
// through presigned URLs, as AI Horde workers PUT their results into the
// AI Horde's R2 bucket: each job has its own object, which the store moves
// into the content-addressed blobs when the worker submits (TakeUpload).
// Job ids handed to it are checked by the store (validJobKey).
type UploadArea interface {
	BlobBackend
	// PresignUpload returns a URL that takes one HTTP PUT of the result of
	// job jobID for ttl.
	PresignUpload(ctx context.Context, jobID string, ttl time.Duration) (string, error)
	// OpenUpload opens what a worker PUT for jobID and returns its size as
	// the backend reports it; horde.ErrNotFound if nothing was PUT yet.
	OpenUpload(ctx context.Context, jobID string) (io.ReadCloser, int64, error)
	// DeleteUpload deletes jobID's object; a missing one is not an error.
	DeleteUpload(ctx context.Context, jobID string) error
	// ListUploads calls fn with the job id and time of every job object
	// until fn returns an error (which ListUploads returns).
	ListUploads(ctx context.Context, fn func(jobID string, modTime time.Time) error) error
}

// ResultLinker is a BlobBackend that can hand out links to its blobs that
// clients fetch from it directly (a presigned GET of a bucket).
type ResultLinker interface {
	// PresignBlob returns a URL that serves the blob at ref for ttl.
	PresignBlob(ctx context.Context, ref string, ttl time.Duration) (string, error)
}

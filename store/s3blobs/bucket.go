// Package s3blobs keeps result images in an S3-compatible bucket (AWS S3,
// MinIO, Garage, Cloudflare R2, Backblaze B2...), so that every hordebot
// process reads the same images. It is a store.BlobBackend and a
// store.UploadArea: blobs are objects named prefix + sha256 hex (the same
// image twice is one object), and workers may PUT their results straight
// into the bucket through presigned URLs, one object per job
// (prefix + "uploads/" + job id + ".webp"), as AI Horde workers do into the
// AI Horde's R2 bucket.
//
// It speaks to the bucket with the AWS SDK for Go v2 (service/s3 only),
// path-style or virtual-hosted, at a custom endpoint.
package s3blobs

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
)

var (
	_ store.BlobBackend  = (*Bucket)(nil)
	_ store.UploadArea   = (*Bucket)(nil)
	_ store.ResultLinker = (*Bucket)(nil)
)

// Config says which bucket to use and how to reach it.
type Config struct {
	// Endpoint is the S3 API's base URL, e.g. http://127.0.0.1:9000 for
	// MinIO or https://<account>.r2.cloudflarestorage.com; empty: AWS's.
	Endpoint string
	Bucket   string
	// Region signs the requests (default "us-east-1"; R2 takes "auto").
	Region string
	// Prefix is put before every key (e.g. "hordebot/"), so that one bucket
	// can hold other things too.
	Prefix string
	// PathStyle addresses the bucket as endpoint/bucket/key rather than
	// bucket.endpoint/key: MinIO, Garage and most self-hosted servers want it.
	PathStyle bool
	// AccessKeyID, SecretAccessKey and SessionToken are the credentials
	// (from the environment, never from a config file).
	AccessKeyID, SecretAccessKey, SessionToken string
	// SpoolDir is where a blob being stored is written (and hashed) before
	// it goes to the bucket, so that memory does not grow with its size;
	// empty: os.TempDir().
	SpoolDir string
	// HTTPClient, if set, makes the requests (tests).
	HTTPClient *http.Client
	// MaxAttempts is how many times a failed request is tried (default 3).
	MaxAttempts int
}

// Bucket is an S3-compatible bucket holding blobs. It is safe for
// concurrent use.
type Bucket struct {
	c       *s3.Client
	presign *s3.PresignClient
	bucket  string
	prefix  string
	spool   string
	where   string // endpoint and bucket, for messages
}

// maxBlobBytes bounds what one read of a blob takes into memory: far above
// any result (horde.MaxUploadBytes), so that a strange object in the bucket
// cannot exhaust memory.
const maxBlobBytes = 2 * horde.MaxUploadBytes

// openTimeout bounds the check that the bucket is reachable at Open.
const openTimeout = 15 * time.Second

// Open connects to the bucket and checks that it exists and that the
// credentials may use it. The errors say which of those failed.
func Open(ctx context.Context, cfg Config) (*Bucket, error) {
	if cfg.Bucket == "" {
		return nil, errors.New("s3: no bucket named")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 3
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = os.TempDir()
	}
	opt := s3.Options{
		Region:       cfg.Region,
		UsePathStyle: cfg.PathStyle,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey, SessionToken: cfg.SessionToken, Source: "hordebot"}, nil
		}),
		RetryMaxAttempts: cfg.MaxAttempts,
		// Checksums only where the API requires them: several S3-compatible
		// servers refuse the newer default trailing checksums.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if cfg.Endpoint != "" {
		opt.BaseEndpoint = aws.String(strings.TrimRight(cfg.Endpoint, "/"))
	}
	if cfg.HTTPClient != nil {
		opt.HTTPClient = cfg.HTTPClient
	}
	c := s3.New(opt)
	where := cfg.Bucket
	if cfg.Endpoint != "" {
		where = fmt.Sprintf("%s at %s", cfg.Bucket, cfg.Endpoint)
	}
	b := &Bucket{c: c, presign: s3.NewPresignClient(c), bucket: cfg.Bucket, prefix: cfg.Prefix, spool: cfg.SpoolDir, where: where}
	hctx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	if _, err := c.HeadBucket(hctx, &s3.HeadBucketInput{Bucket: aws.String(cfg.Bucket)}); err != nil {
		switch status(err) {
		case http.StatusNotFound:
			return nil, fmt.Errorf("s3: bucket %s does not exist: create it, or fix results.s3.bucket", where)
		case http.StatusForbidden, http.StatusUnauthorized:
			return nil, fmt.Errorf("s3: bucket %s refuses these credentials (HORDEBOT_S3_ACCESS_KEY_ID, HORDEBOT_S3_SECRET_ACCESS_KEY): %w", where, err)
		case 0:
			return nil, fmt.Errorf("s3: cannot reach bucket %s: %w", where, err)
		default:
			return nil, fmt.Errorf("s3: bucket %s: %w", where, err)
		}
	}
	fi, err := os.Stat(cfg.SpoolDir)
	if err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("s3: spool folder %s: not a folder (%v)", cfg.SpoolDir, err)
	}
	return b, nil
}

// blobKey is the object name of a blob.
func (b *Bucket) blobKey(ref string) string { return b.prefix + ref }

// uploadsPrefix starts the object names of the jobs' uploads.
func (b *Bucket) uploadsPrefix() string { return b.prefix + "uploads/" }

// uploadKey is the object name a worker PUTs the result of jobID to.
func (b *Bucket) uploadKey(jobID string) string { return b.uploadsPrefix() + jobID + ".webp" }

// PutBlob spools r to a temporary file while hashing it, then PUTs it to
// the bucket under its digest, unless an object of that size is already
// there.
func (b *Bucket) PutBlob(ctx context.Context, r io.Reader, max int64, pin func(ref string)) (_ string, _ int64, err error) {
	if err := ctx.Err(); err != nil {
		return "", 0, err
	}
	f, err := os.CreateTemp(b.spool, ".hordebot-s3-*")
	if err != nil {
		return "", 0, unavailable(fmt.Errorf("spool for s3: %w", err))
	}
	defer func() {
		f.Close()
		_ = os.Remove(f.Name())
	}()
	h := sha256.New()
	var head [512]byte
	n, err := copyMax(io.MultiWriter(f, h), r, max, head[:])
	if err != nil {
		return "", 0, err
	}
	ref := hex.EncodeToString(h.Sum(nil))
	pin(ref) // before looking whether it is there: the sweep spares it from now on
	key := b.blobKey(ref)
	if ho, err := b.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.bucket, Key: &key}); err == nil && aws.ToInt64(ho.ContentLength) == n {
		return ref, n, nil
	} else if err != nil && status(err) != http.StatusNotFound {
		return "", 0, b.fail("look up blob "+ref, err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", 0, unavailable(fmt.Errorf("spool for s3: %w", err))
	}
	ctype := http.DetectContentType(head[:min(n, int64(len(head)))])
	if _, err := b.c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &b.bucket, Key: &key, Body: f, ContentLength: aws.Int64(n), ContentType: &ctype,
	}); err != nil {
		return "", 0, b.fail("put blob "+ref, err)
	}
	return ref, n, nil
}

// copyMax copies r to w, at most max bytes, and keeps the first bytes in
// head. More than max is KindInvalid; a failing r is returned wrapped.
func copyMax(w io.Writer, r io.Reader, max int64, head []byte) (int64, error) {
	buf := make([]byte, 64<<10)
	var n int64
	for {
		m, rerr := r.Read(buf)
		if m > 0 {
			if n+int64(m) > max {
				return 0, horde.Invalidf("image", "the upload is larger than %d bytes", max)
			}
			if n < int64(len(head)) {
				copy(head[n:], buf[:m])
			}
			if _, err := w.Write(buf[:m]); err != nil {
				return 0, unavailable(fmt.Errorf("spool for s3: %w", err))
			}
			n += int64(m)
		}
		if rerr == io.EOF {
			return n, nil
		}
		if rerr != nil {
			return 0, fmt.Errorf("put blob: read: %w", rerr)
		}
	}
}

// GetBlob reads the blob at ref.
func (b *Bucket) GetBlob(ctx context.Context, ref string) ([]byte, error) {
	key := b.blobKey(ref)
	out, err := b.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.bucket, Key: &key})
	if err != nil {
		return nil, b.fail("get blob "+ref, err)
	}
	defer out.Body.Close()
	var buf bytes.Buffer
	if n := aws.ToInt64(out.ContentLength); n > 0 && n <= maxBlobBytes {
		buf.Grow(int(n))
	}
	if _, err := buf.ReadFrom(io.LimitReader(out.Body, maxBlobBytes+1)); err != nil {
		return nil, b.fail("read blob "+ref, err)
	}
	if buf.Len() > maxBlobBytes {
		return nil, fmt.Errorf("blob %s in %s is larger than %d bytes", ref, b.where, maxBlobBytes)
	}
	return buf.Bytes(), nil
}

// StatBlob reports the size and time of the blob at ref.
func (b *Bucket) StatBlob(ctx context.Context, ref string) (store.BlobInfo, error) {
	key := b.blobKey(ref)
	out, err := b.c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &b.bucket, Key: &key})
	if err != nil {
		return store.BlobInfo{}, b.fail("stat blob "+ref, err)
	}
	return store.BlobInfo{Ref: ref, Size: aws.ToInt64(out.ContentLength), ModTime: aws.ToTime(out.LastModified)}, nil
}

// DeleteBlob deletes the blob at ref.
func (b *Bucket) DeleteBlob(ctx context.Context, ref string) error {
	return b.delete(ctx, b.blobKey(ref), "blob "+ref)
}

func (b *Bucket) delete(ctx context.Context, key, what string) error {
	if _, err := b.c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &b.bucket, Key: &key}); err != nil && status(err) != http.StatusNotFound {
		return b.fail("delete "+what, err)
	}
	return nil
}

// ListBlobs lists the blobs, page by page, in key order. Objects under the
// prefix that are not blobs (uploads/, anything else) are skipped.
func (b *Bucket) ListBlobs(ctx context.Context, fn func(store.BlobInfo) error) error {
	return b.list(ctx, b.prefix, func(name string, o types.Object) error {
		if !validRef(name) {
			return nil
		}
		return fn(store.BlobInfo{Ref: name, Size: aws.ToInt64(o.Size), ModTime: aws.ToTime(o.LastModified)})
	})
}

// list calls fn with the objects directly under prefix (not in its
// "folders") and their names less prefix.
func (b *Bucket) list(ctx context.Context, prefix string, fn func(name string, o types.Object) error) error {
	p := s3.NewListObjectsV2Paginator(b.c, &s3.ListObjectsV2Input{Bucket: &b.bucket, Prefix: &prefix, Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return b.fail("list "+prefix, err)
		}
		for _, o := range page.Contents {
			name, ok := strings.CutPrefix(aws.ToString(o.Key), prefix)
			if !ok {
				continue
			}
			if err := fn(name, o); err != nil {
				return err
			}
		}
	}
	return nil
}

// PresignUpload returns a presigned PUT of jobID's object. The signature
// cannot bound the body's size (a presigned PUT signs no length range), so
// the size is checked when the store takes the upload.
func (b *Bucket) PresignUpload(ctx context.Context, jobID string, ttl time.Duration) (string, error) {
	key := b.uploadKey(jobID)
	req, err := b.presign.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: &b.bucket, Key: &key}, s3.WithPresignExpires(presignTTL(ttl)))
	if err != nil {
		return "", fmt.Errorf("presign upload of job %s: %w", jobID, err)
	}
	return req.URL, nil
}

// PresignBlob returns a presigned GET of the blob at ref.
func (b *Bucket) PresignBlob(ctx context.Context, ref string, ttl time.Duration) (string, error) {
	key := b.blobKey(ref)
	req, err := b.presign.PresignGetObject(ctx, &s3.GetObjectInput{Bucket: &b.bucket, Key: &key}, s3.WithPresignExpires(presignTTL(ttl)))
	if err != nil {
		return "", fmt.Errorf("presign blob %s: %w", ref, err)
	}
	return req.URL, nil
}

// presignTTL keeps a presigned URL's lifetime within what SigV4 allows
// (one second to seven days).
func presignTTL(ttl time.Duration) time.Duration {
	return min(max(ttl, time.Second), 7*24*time.Hour)
}

// OpenUpload opens jobID's object.
func (b *Bucket) OpenUpload(ctx context.Context, jobID string) (io.ReadCloser, int64, error) {
	key := b.uploadKey(jobID)
	out, err := b.c.GetObject(ctx, &s3.GetObjectInput{Bucket: &b.bucket, Key: &key})
	if err != nil {
		return nil, 0, b.fail("get upload of job "+jobID, err)
	}
	return out.Body, aws.ToInt64(out.ContentLength), nil
}

// DeleteUpload deletes jobID's object.
func (b *Bucket) DeleteUpload(ctx context.Context, jobID string) error {
	return b.delete(ctx, b.uploadKey(jobID), "upload of job "+jobID)
}

// ListUploads lists the jobs' objects.
func (b *Bucket) ListUploads(ctx context.Context, fn func(jobID string, modTime time.Time) error) error {
	return b.list(ctx, b.uploadsPrefix(), func(name string, o types.Object) error {
		id, ok := strings.CutSuffix(name, ".webp")
		if !ok || id == "" {
			return nil
		}
		return fn(id, aws.ToTime(o.LastModified))
	})
}

// fail turns an S3 error into the store's: a missing object is
// horde.ErrNotFound; a cancelled context stays itself; anything else (a
// bucket that cannot be reached or refuses) is KindUnavailable.
func (b *Bucket) fail(what string, err error) error {
	switch {
	case status(err) == http.StatusNotFound:
		return fmt.Errorf("%s in %s: %w", what, b.where, horde.ErrNotFound)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s in %s: %w", what, b.where, err)
	}
	return unavailable(fmt.Errorf("%s in %s: %w", what, b.where, err))
}

// status is the HTTP status of a failed S3 call, 0 when no answer came.
func status(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	var nk *types.NoSuchKey
	var nf *types.NotFound
	var nb *types.NoSuchBucket
	if errors.As(err, &nk) || errors.As(err, &nf) || errors.As(err, &nb) {
		return http.StatusNotFound
	}
	return 0
}

// unavailable marks err as the storage being unavailable: the client can
// do nothing about it but try again later.
func unavailable(err error) error {
	return &horde.Error{Kind: horde.KindUnavailable, Code: "StoreUnavailable", Message: "storage is unavailable; try again later", Err: err}
}

// validRef reports whether name is a lowercase hex SHA-256 digest.
func validRef(name string) bool {
	if len(name) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

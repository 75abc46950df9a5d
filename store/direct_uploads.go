package store

import (
	"context"
	"fmt"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// Direct uploads: with a backend that is an UploadArea (an S3 bucket), a
// worker PUTs its result through a presigned URL into the job's own object,
// and the store moves it into the content-addressed blobs when the worker
// submits generation "R2" (horde.UploadBucket). The job object is deleted
// only after the uploads row naming the blob has committed, so a crash in
// between loses nothing: the next submit or poll takes it again.

// resultLinkTTL is how long a presigned link to a result image lasts: the
// AI Horde's presigned R2 download links last 1800 s.
const resultLinkTTL = 30 * time.Minute

// DirectUploads reports whether workers can upload to the backend
// themselves (it is an UploadArea).
func (s *Store) DirectUploads() bool {
	_, ok := s.remote.(UploadArea)
	return ok
}

// UploadURL returns a presigned URL that takes the worker's PUT of jobID's
// result for ttl. Without an UploadArea it is KindDisabled.
func (s *Store) UploadURL(ctx context.Context, jobID string, ttl time.Duration) (string, error) {
	ua, ok := s.remote.(UploadArea)
	if !ok {
		return "", horde.Errorf(horde.KindDisabled, "DirectUploadsDisabled", "results are not uploaded to a bucket")
	}
	if !validJobKey(jobID) {
		return "", horde.Invalidf("id", "job id %s cannot name an upload", horde.QuoteInput(jobID))
	}
	return ua.PresignUpload(ctx, jobID, ttl)
}

// TakeUpload moves what the worker PUT for jobID (at most max bytes) into
// the blobs and records it as the job's upload (SetUpload), then deletes the
// job object; it returns the size. Nothing PUT yet is ErrNotFound. An object
// larger than max is KindInvalid and is deleted (the worker may PUT again
// until the job's deadline), as is an empty one. Errors of SetUpload as
// they are.
func (s *Store) TakeUpload(ctx context.Context, jobID string, max int64) (int64, error) {
	ua, ok := s.remote.(UploadArea)
	if !ok {
		return 0, horde.Errorf(horde.KindDisabled, "DirectUploadsDisabled", "results are not uploaded to a bucket")
	}
	if !validJobKey(jobID) {
		return 0, fmt.Errorf("upload of job %s: %w", jobID, horde.ErrNotFound)
	}
	body, size, err := ua.OpenUpload(ctx, jobID)
	if err != nil {
		return 0, err
	}
	refuse := func(err error) (int64, error) {
		if derr := ua.DeleteUpload(context.WithoutCancel(ctx), jobID); derr != nil {
			s.log.Warn("delete refused upload", "job", jobID, "err", derr)
		}
		return 0, err
	}
	if size > max {
		body.Close()
		return refuse(horde.Invalidf("image", "the upload is larger than %d bytes", max))
	}
	ref, n, err := s.PutBlobFrom(ctx, body, max)
	body.Close()
	if horde.IsKind(err, horde.KindInvalid) {
		return refuse(err)
	}
	if err != nil {
		return 0, fmt.Errorf("take upload of job %s: %w", jobID, err)
	}
	if n == 0 {
		s.unpinBlob(ref)
		return refuse(horde.Invalidf("image", "the upload is empty"))
	}
	if err := s.SetUpload(ctx, jobID, ref); err != nil {
		return 0, err
	}
	if err := ua.DeleteUpload(context.WithoutCancel(ctx), jobID); err != nil {
		// Taken again (the same bytes) by a later submit, or swept.
		s.log.Warn("delete taken upload", "job", jobID, "err", err)
	}
	return n, nil
}

// ResultURL returns a link that serves the blob at ref straight from the
// backend (a presigned GET, valid for 30 minutes as the AI Horde's are), or
// "" when the backend cannot make one (the folder).
func (s *Store) ResultURL(ctx context.Context, ref string) (string, error) {
	rl, ok := s.remote.(ResultLinker)
	if !ok {
		return "", nil
	}
	if !validRef(ref) {
		return "", horde.Invalidf("blob", "invalid blob reference")
	}
	u, err := rl.PresignBlob(ctx, ref, resultLinkTTL)
	if err != nil {
		return "", fmt.Errorf("link to blob %s: %w", ref, err)
	}
	return u, nil
}

// validJobKey reports whether a job id may be part of an object name:
// letters, digits, '-' and '_' only, so that no key can be smuggled in.
func validJobKey(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '-' && c != '_' {
			return false
		}
	}
	return true
}

var (
	_ horde.UploadBucket = (*Store)(nil)
	_ horde.ResultLinks  = (*Store)(nil)
)

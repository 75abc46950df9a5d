package s3blobs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/s3blobs"
	"github.com/hordebot/hordebot/store/s3blobs/s3test"
)

func refOf(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// put stores data with a pin that records the refs it was called with.
func put(t *testing.T, b *s3blobs.Bucket, data io.Reader, max int64) (string, int64, []string, error) {
	t.Helper()
	var pins []string
	ref, n, err := b.PutBlob(context.Background(), data, max, func(ref string) { pins = append(pins, ref) })
	return ref, n, pins, err
}

// TestBucketContract is the BlobBackend contract on a real S3 wire: what is
// put comes back, the same content twice is one object, missing refs are
// not found, deletes are idempotent, the listing names blobs only, and an
// oversize or broken body stores nothing.
func TestBucketContract(t *testing.T) {
	srv := s3test.New(t, nil)
	b := srv.Open(t, "results")
	ctx := context.Background()
	img := bytes.Repeat([]byte("RIFF-image-"), 1000)
	other := []byte("another image")

	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"put returns the content address and pins it", func(t *testing.T) {
			ref, n, pins, err := put(t, b, bytes.NewReader(img), 1<<20)
			if err != nil || ref != refOf(img) || n != int64(len(img)) {
				t.Fatalf("put: %s %d %v, want %s %d", ref, n, err, refOf(img), len(img))
			}
			if len(pins) != 1 || pins[0] != ref {
				t.Fatalf("pins %v, want [%s]", pins, ref)
			}
			if keys := srv.Keys(t, "results", ""); len(keys) != 1 || keys[0] != ref {
				t.Fatalf("bucket holds %v, want the one object %s", keys, ref)
			}
		}},
		{"the same content twice is one object", func(t *testing.T) {
			ref, _, _, err := put(t, b, bytes.NewReader(img), 1<<20)
			if err != nil || ref != refOf(img) {
				t.Fatalf("second put: %s %v", ref, err)
			}
			if keys := srv.Keys(t, "results", ""); len(keys) != 1 {
				t.Fatalf("bucket holds %v after the same image twice, want one object", keys)
			}
		}},
		{"get returns what was put", func(t *testing.T) {
			got, err := b.GetBlob(ctx, refOf(img))
			if err != nil || !bytes.Equal(got, img) {
				t.Fatalf("get: %d bytes, %v", len(got), err)
			}
			info, err := b.StatBlob(ctx, refOf(img))
			if err != nil || info.Size != int64(len(img)) || info.ModTime.IsZero() {
				t.Fatalf("stat: %+v %v", info, err)
			}
		}},
		{"a missing ref is not found", func(t *testing.T) {
			if _, err := b.GetBlob(ctx, refOf(other)); !errors.Is(err, horde.ErrNotFound) {
				t.Fatalf("get of a missing blob: %v, want not found", err)
			}
			if _, err := b.StatBlob(ctx, refOf(other)); !errors.Is(err, horde.ErrNotFound) {
				t.Fatalf("stat of a missing blob: %v, want not found", err)
			}
		}},
		{"oversize is refused before anything is stored", func(t *testing.T) {
			_, _, pins, err := put(t, b, bytes.NewReader(other), int64(len(other)-1))
			if !horde.IsKind(err, horde.KindInvalid) {
				t.Fatalf("oversize put: %v, want invalid", err)
			}
			if len(pins) != 0 {
				t.Fatalf("an oversize put pinned %v", pins)
			}
			if keys := srv.Keys(t, "results", ""); len(keys) != 1 {
				t.Fatalf("bucket holds %v after an oversize put", keys)
			}
		}},
		{"a broken body stores nothing", func(t *testing.T) {
			broken := io.MultiReader(strings.NewReader("half an im"), errReader{})
			if _, _, _, err := put(t, b, broken, 1<<20); err == nil || !errors.Is(err, errBroken) {
				t.Fatalf("broken body: %v, want its error", err)
			}
			if keys := srv.Keys(t, "results", ""); len(keys) != 1 {
				t.Fatalf("bucket holds %v after a broken put", keys)
			}
		}},
		{"list names the blobs, not the uploads", func(t *testing.T) {
			if _, _, _, err := put(t, b, bytes.NewReader(other), 1<<20); err != nil {
				t.Fatal(err)
			}
			putUpload(t, b, "job-1", []byte("uploaded"))
			var refs []string
			if err := b.ListBlobs(ctx, func(i store.BlobInfo) error { refs = append(refs, i.Ref); return nil }); err != nil {
				t.Fatal(err)
			}
			want := []string{refOf(img), refOf(other)}
			if want[0] > want[1] {
				want[0], want[1] = want[1], want[0]
			}
			if len(refs) != 2 || refs[0] != want[0] || refs[1] != want[1] {
				t.Fatalf("listed %v, want %v in order", refs, want)
			}
			var jobs []string
			if err := b.ListUploads(ctx, func(id string, _ time.Time) error { jobs = append(jobs, id); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(jobs) != 1 || jobs[0] != "job-1" {
				t.Fatalf("uploads listed %v, want [job-1]", jobs)
			}
		}},
		{"delete removes the object, twice is fine", func(t *testing.T) {
			for range 2 {
				if err := b.DeleteBlob(ctx, refOf(other)); err != nil {
					t.Fatalf("delete: %v", err)
				}
			}
			if _, err := b.GetBlob(ctx, refOf(other)); !errors.Is(err, horde.ErrNotFound) {
				t.Fatalf("get after delete: %v", err)
			}
		}},
	}
	for _, tt := range tests {
		if !t.Run(tt.name, tt.run) {
			return // the steps build on each other
		}
	}
}

var errBroken = errors.New("connection reset")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errBroken }

// putUpload PUTs data to jobID's presigned URL with a plain HTTP client, as
// horde-worker-reGen does.
func putUpload(t *testing.T, b *s3blobs.Bucket, jobID string, data []byte) {
	t.Helper()
	u, err := b.PresignUpload(context.Background(), jobID, time.Minute)
	if err != nil {
		t.Fatalf("presign: %v", err)
	}
	req, err := http.NewRequest(http.MethodPut, u, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT to the presigned URL: %v", err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("PUT to the presigned URL: %s", res.Status)
	}
}

// TestPresignedUploadRoundTrip: a presigned PUT URL names the job's own
// object, carries a signature with the asked lifetime, and what a plain
// client PUT there is what OpenUpload reads.
func TestPresignedUploadRoundTrip(t *testing.T) {
	srv := s3test.New(t, nil)
	b := srv.Open(t, "results")
	ctx := context.Background()
	u, err := b.PresignUpload(ctx, "0f3c-job", 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u, srv.URL+"/results/uploads/0f3c-job.webp?") || !strings.Contains(u, "X-Amz-Expires=600") || !strings.Contains(u, "X-Amz-Signature=") {
		t.Fatalf("presigned URL %s: want path style, the job's key, a 600 s signature", u)
	}
	if _, _, err := b.OpenUpload(ctx, "0f3c-job"); !errors.Is(err, horde.ErrNotFound) {
		t.Fatalf("open before the PUT: %v, want not found", err)
	}
	putUpload(t, b, "0f3c-job", []byte("the image"))
	rc, n, err := b.OpenUpload(ctx, "0f3c-job")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if string(got) != "the image" || n != int64(len(got)) {
		t.Fatalf("read back %q (size %d)", got, n)
	}
	if err := b.DeleteUpload(ctx, "0f3c-job"); err != nil {
		t.Fatal(err)
	}
	if keys := srv.Keys(t, "results", ""); len(keys) != 0 {
		t.Fatalf("bucket holds %v after the upload's delete", keys)
	}
}

// TestPrefixKeepsKeysApart: with a prefix, every key starts with it and
// objects outside it are not listed.
func TestPrefixKeepsKeysApart(t *testing.T) {
	srv := s3test.New(t, nil)
	srv.CreateBucket(t, "shared")
	cfg := srv.Config(t, "shared")
	cfg.Prefix = "hordebot/"
	b, err := s3blobs.Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ref, _, _, err := put(t, b, strings.NewReader("img"), 100)
	if err != nil {
		t.Fatal(err)
	}
	if keys := srv.Keys(t, "shared", ""); len(keys) != 1 || keys[0] != "hordebot/"+ref {
		t.Fatalf("keys %v, want [hordebot/%s]", keys, ref)
	}
}

// TestOpenSaysWhatIsWrong: a missing bucket and an endpoint nobody answers
// are errors at Open that name the bucket and the problem.
func TestOpenSaysWhatIsWrong(t *testing.T) {
	srv := s3test.New(t, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + l.Addr().String()
	l.Close() // nothing listens there any more

	tests := []struct {
		name string
		cfg  func() s3blobs.Config
		want string
	}{
		{"missing bucket", func() s3blobs.Config { return srv.Config(t, "nope") }, "bucket nope at " + srv.URL + " does not exist"},
		{"unreachable endpoint", func() s3blobs.Config {
			c := srv.Config(t, "results")
			c.Endpoint = dead
			return c
		}, "cannot reach bucket results at " + dead},
		{"no bucket named", func() s3blobs.Config { c := srv.Config(t, ""); return c }, "no bucket named"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s3blobs.Open(context.Background(), tt.cfg())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("open: %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

// TestUnreachableBucketIsUnavailable: once open, a bucket that goes away is
// KindUnavailable (try again later), not a missing blob.
func TestUnreachableBucketIsUnavailable(t *testing.T) {
	srv := s3test.New(t, nil)
	b := srv.Open(t, "results")
	srv.Close()
	if _, err := b.GetBlob(context.Background(), refOf([]byte("x"))); !horde.IsKind(err, horde.KindUnavailable) {
		t.Fatalf("get from a bucket gone away: %v, want unavailable", err)
	}
	if _, _, _, err := put(t, b, strings.NewReader("x"), 10); !horde.IsKind(err, horde.KindUnavailable) {
		t.Fatalf("put to a bucket gone away: %v, want unavailable", err)
	}
}

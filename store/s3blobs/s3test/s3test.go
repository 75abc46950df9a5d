// Package s3test runs an in-process S3 server for tests:
// github.com/johannesboyne/gofakes3 with its in-memory backend, on
// 127.0.0.1 through httptest. It speaks the S3 wire protocol, so the AWS SDK
// and a worker's plain HTTP PUT to a presigned URL reach it as they would
// reach MinIO or R2. It checks no signatures.
package s3test

import (
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store/s3blobs"
)

// Server is an in-process S3 server.
type Server struct {
	URL     string // its endpoint, http://127.0.0.1:port
	Backend *s3mem.Backend
	srv     *httptest.Server
}

// clockSource adapts a horde.Clock to gofakes3's time source, so that the
// objects' LastModified follow a test's fake clock.
type clockSource struct{ c horde.Clock }

func (s clockSource) Now() time.Time                  { return s.c.Now() }
func (s clockSource) Since(t time.Time) time.Duration { return s.c.Now().Sub(t) }

// New starts a server, closed when the test ends. Objects are stamped by
// clock (nil: the system's); requests are not checked for clock skew, so a
// fake clock far from the real time does not matter.
func New(tb testing.TB, clock horde.Clock) *Server {
	tb.Helper()
	if clock == nil {
		clock = horde.SystemClock{}
	}
	ts := clockSource{clock}
	be := s3mem.New(s3mem.WithTimeSource(ts))
	faker := gofakes3.New(be, gofakes3.WithTimeSource(ts), gofakes3.WithTimeSkewLimit(0))
	srv := httptest.NewServer(faker.Server())
	tb.Cleanup(srv.Close)
	return &Server{URL: srv.URL, Backend: be, srv: srv}
}

// Close stops the server (a test of a bucket that went away).
func (s *Server) Close() { s.srv.Close() }

// CreateBucket creates a bucket.
func (s *Server) CreateBucket(tb testing.TB, name string) {
	tb.Helper()
	if err := s.Backend.CreateBucket(name); err != nil {
		tb.Fatalf("create bucket %s: %v", name, err)
	}
}

// Config is the s3blobs configuration of bucket on this server: path
// style, test credentials, one attempt per request, a spool in a temporary
// folder.
func (s *Server) Config(tb testing.TB, bucket string) s3blobs.Config {
	return s3blobs.Config{
		Endpoint: s.URL, Bucket: bucket, PathStyle: true, Region: "us-east-1",
		AccessKeyID: "test-key", SecretAccessKey: "test-secret",
		SpoolDir: tb.TempDir(), MaxAttempts: 1,
	}
}

// Open creates bucket and opens it with Config.
func (s *Server) Open(tb testing.TB, bucket string) *s3blobs.Bucket {
	tb.Helper()
	s.CreateBucket(tb, bucket)
	b, err := s3blobs.Open(tb.Context(), s.Config(tb, bucket))
	if err != nil {
		tb.Fatalf("open bucket %s: %v", bucket, err)
	}
	return b
}

// Keys lists the object keys in bucket under prefix, sorted.
func (s *Server) Keys(tb testing.TB, bucket, prefix string) []string {
	tb.Helper()
	p := gofakes3.NewPrefix(&prefix, nil)
	list, err := s.Backend.ListBucket(bucket, &p, gofakes3.ListBucketPage{})
	if err != nil {
		tb.Fatalf("list bucket %s: %v", bucket, err)
	}
	keys := []string{}
	for _, c := range list.Contents {
		keys = append(keys, c.Key)
	}
	sort.Strings(keys)
	return keys
}

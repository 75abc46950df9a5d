package api_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/imagecheck"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/s3blobs"
	"github.com/hordebot/hordebot/store/s3blobs/s3test"
	"github.com/hordebot/hordebot/store/storetest"
)

// sharedDB is one PostgreSQL schema (and, with a bucket, one S3 bucket)
// that several API servers share, each with its own store, pool and horde
// on the shared queue, as several hordebot processes do. The test is
// skipped, saying so, without HORDEBOT_TEST_POSTGRES_URL.
type sharedDB struct {
	t     *testing.T
	dir   string
	clock *storetest.Clock
	s3    *s3test.Server // nil: blobs in the database
}

func newSharedDB(t *testing.T) *sharedDB {
	t.Helper()
	d := &sharedDB{t: t, dir: t.TempDir(), clock: newFakeClock()}
	storetest.PostgresDatabase(t, d.dir) // skips without a server
	return d
}

// withBucket makes the servers keep results in one bucket of an in-process
// S3 server and hand workers presigned PUTs of it (as results.s3.presign).
func (d *sharedDB) withBucket() *sharedDB {
	d.t.Helper()
	d.s3 = s3test.New(d.t, d.clock)
	d.s3.CreateBucket(d.t, "results")
	return d
}

// server starts another API server (another process) on the schema.
func (d *sharedDB) server() *env {
	t := d.t
	t.Helper()
	ctx := context.Background()
	opt := store.Options{Clock: d.clock, Logger: quietLogger(), MaxConns: storetest.TestMaxConns}
	if d.s3 != nil {
		b, err := s3blobs.Open(ctx, d.s3.Config(t, "results"))
		if err != nil {
			t.Fatalf("open bucket: %v", err)
		}
		opt.Blobs = b
	}
	st, err := store.Open(ctx, storetest.PostgresDatabase(t, d.dir), opt)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if st.Engine() != store.EnginePostgres {
		t.Fatalf("engine %s, want postgres", st.Engine())
	}
	cfg := horde.Config{Clock: d.clock, Logger: quietLogger(), CheckImage: imagecheck.ForHorde, Queue: st.SharedQueue()}
	if d.s3 != nil {
		cfg.Uploads = st
	}
	h, err := horde.New(ctx, st, cfg)
	if err != nil {
		t.Fatalf("new horde: %v", err)
	}
	srv := httptest.NewServer(api.New(h, api.Options{Logger: quietLogger(), KeyLimit: unlimited, IPLimit: unlimited, Clock: d.clock}))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, h: h, st: st, clock: d.clock}
}

// kill stops e's server and closes its store, as a process killed: what it
// kept in memory is gone.
func (e *env) kill() {
	e.t.Helper()
	e.srv.Close()
	if err := e.st.Close(); err != nil {
		e.t.Errorf("close store: %v", err)
	}
}

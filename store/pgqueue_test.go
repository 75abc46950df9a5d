package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, for a second session holding a lock

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// takeFirst is a claim's choice that takes the first waiting item of any
// request it is offered, and records the requests offered.
func takeFirst(offered *[]string) func(horde.Request, []int) []horde.Job {
	return func(r horde.Request, waiting []int) []horde.Job {
		*offered = append(*offered, r.ID)
		now := time.Now()
		return []horde.Job{{ID: fmt.Sprintf("job-%s-%d", r.ID, time.Now().UnixNano()), RequestID: r.ID, Item: waiting[0], WorkerID: "w", State: horde.JobProcessing,
			StartedAt: now, Deadline: now.Add(time.Minute)}}
	}
}

// TestSharedQueueClaims: the PostgreSQL queue offers requests in priority
// order, passes over one another session holds locked (never waits for
// it), takes a request out once no item of it waits, and puts it back
// when its job fails.
func TestSharedQueueClaims(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresDatabase(t, t.TempDir())
	s, err := store.Open(ctx, url, store.Options{Logger: quietLogger, MaxConns: storetest.TestMaxConns})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	q := s.SharedQueue()
	u := mustUser(t, s, "alice")
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, r := range []struct {
		id       string
		priority int64
		models   []string
	}{{"poor", 10, []string{"sdxl"}}, {"rich", 5000, []string{"sdxl", "flux"}}, {"any", 10, nil}} {
		req := imageRequest(r.id, u.ID, 1)
		req.Priority, req.Models, req.CreatedAt = r.priority, r.models, at
		at = at.Add(time.Second)
		if err := s.CreateRequest(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	// Migration 00028 queued the requests already waiting with this SQL
	// form of horde.PriorityScore: it must give the keys the store writes.
	var differ int
	if err := secondSession(t, url).QueryRowContext(ctx, `SELECT count(*) FROM queue_entries q JOIN requests r ON r.id = q.request_id
WHERE q.score != LEAST(GREATEST(r.priority, -1000000000000), 1000000000000) * 1000 - 5 * (r.created_at / 1000000)`).Scan(&differ); err != nil || differ != 0 {
		t.Fatalf("%d entries keyed otherwise than the migration's backfill would (err %v)", differ, err)
	}
	var lastJob string
	claim := func(models ...string) (string, []string) {
		t.Helper()
		var offered []string
		jobs, err := q.Claim(ctx, horde.ClaimTier{Query: horde.ClaimQuery{Kind: horde.KindImage, Models: models}, Budget: func() int { return 10 }, Choose: takeFirst(&offered)})
		if err != nil {
			t.Fatal(err)
		}
		if len(jobs) == 0 {
			return "", offered
		}
		lastJob = jobs[0].ID
		return jobs[0].RequestID, offered
	}

	tx, err := secondSession(t, url).BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `SELECT id FROM requests WHERE id = 'rich' FOR UPDATE`); err != nil {
		t.Fatal(err)
	}
	if got, offered := claim("sdxl", ""); got != "poor" || len(offered) != 1 {
		t.Fatalf("with rich locked elsewhere: took %q after offers %v, want poor offered first", got, offered)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if got, _ := claim("flux", ""); got != "rich" {
		t.Fatalf("once the lock is gone: took %q, want rich", got)
	}
	richJob := lastJob
	if got, offered := claim("sdxl", "flux"); got != "" || len(offered) != 0 {
		t.Fatalf("every sdxl and flux item taken: took %q after offers %v, want nothing offered", got, offered)
	}
	if err := s.FailJob(ctx, richJob, horde.JobAborted, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got, _ := claim("sdxl", ""); got != "rich" {
		t.Fatalf("after its job was aborted: took %q, want rich back first", got)
	}
	if got, _ := claim("sdxl", ""); got != "any" {
		t.Fatalf("then: took %q, want the request naming no model", got)
	}
}

// secondSession is a second session on the database at url, closed with the test.
func secondSession(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

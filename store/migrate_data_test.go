package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/bot/deferredix"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// The engines a copy test opens, whatever HORDEBOT_TEST_ENGINE says: SQLite
// in a directory of its own, PostgreSQL in a schema of its own (skipped,
// saying so, without HORDEBOT_TEST_POSTGRES_URL).
type engineOpener struct {
	name string
	open func(t *testing.T, opt store.Options) *store.Store
}

var (
	onSQLite = engineOpener{"sqlite", func(t *testing.T, opt store.Options) *store.Store {
		return openCopyStore(t, "sqlite:"+t.TempDir(), opt)
	}}
	onPostgres = engineOpener{"postgres", func(t *testing.T, opt store.Options) *store.Store {
		return openCopyStore(t, storetest.PostgresDatabase(t, t.TempDir()), opt)
	}}
)

func openCopyStore(t *testing.T, database string, opt store.Options) *store.Store {
	t.Helper()
	opt.Logger = quietLogger
	if opt.MaxConns == 0 {
		opt.MaxConns = storetest.TestMaxConns
	}
	s, err := store.Open(context.Background(), database, opt)
	if err != nil {
		t.Fatalf("open %s: %v", database, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// copyFixture is what fillEveryTable put in a store, for the checks after
// the copy.
type copyFixture struct {
	alice, bob horde.User
	image      []byte // the finished job's result
	imageRef   string
	sourceRef  string // an alchemy source image
}

// fillEveryTable puts at least one row in every table the copy writes: the
// scheduler's and the ledger's through the store's methods, the rest with
// plain INSERTs (the copy does not care how a row came). Every row holds
// what the copy must convert or keep: NULLs, bytes, floats, explicit ids
// with gaps.
func fillEveryTable(t *testing.T, s *store.Store) copyFixture {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	var fx copyFixture
	fx.alice = mustUser(t, s, "alice")
	fx.bob = mustUser(t, s, "bob")
	if err := s.SetUserKey(ctx, fx.alice.ID, horde.HashKey("alice-key")); err != nil {
		t.Fatal(err)
	}
	w := mustWorker(t, s, "w1", fx.bob.ID)
	if err := s.SetWorkerKey(ctx, w.ID, horde.HashKey("worker-key")); err != nil {
		t.Fatal(err)
	}
	// A finished request with an image, paid in the ledger.
	mustRequest(t, s, "r-done", fx.alice.ID, 1)
	j := mustStart(t, s, "j-done", "r-done", 0, w.ID)
	fx.image = bytes.Repeat([]byte("a webp image\x00\xff"), 100)
	var err error
	if fx.imageRef, err = s.PutBlob(ctx, fx.image); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUpload(ctx, j.ID, fx.imageRef); err != nil {
		t.Fatal(err)
	}
	f := finish(j, horde.RequestDone, fx.bob.ID, fx.alice.ID, 12)
	f.Generation.BlobRef = fx.imageRef
	if err := s.FinishJob(ctx, f); err != nil {
		t.Fatal(err)
	}
	// A request still waiting for one of its two items, one processing.
	mustRequest(t, s, "r-wait", fx.alice.ID, 2)
	mustStart(t, s, "j-wait", "r-wait", 0, w.ID)
	if err := s.SetUpload(ctx, "j-wait", fx.imageRef); err != nil { // PUT, not submitted yet
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx,
		kudos.Entry{UserID: fx.alice.ID, Delta: 100, Kind: kudos.KindAdmin, Reason: "welcome", Key: "admin:1", Floor: kudos.NoFloor, At: at},
		kudos.Entry{UserID: fx.bob.ID, Delta: 30, Kind: kudos.KindAwardHelpful, Key: "award:1", Floor: kudos.NoFloor, At: at.Add(24 * time.Hour)},
	); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveDiscordDelivery(ctx, "r-wait", []byte(`{"channel":"1","token":"x"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordDiscordInteraction(ctx, deferredix.Record{ID: "ix-1", GuildID: "g1", CreatedAt: at,
		Payload: []byte(`{"id":"ix-1","token":"t"}`), Owner: "p1", ClaimUntil: at.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDiscordSetting(ctx, "commands_hash", "abc"); err != nil {
		t.Fatal(err)
	}
	if fx.sourceRef, err = s.PutBlob(ctx, []byte("an alchemy source")); err != nil {
		t.Fatal(err)
	}
	n := func(d time.Duration) int64 { return at.Add(d).UnixNano() }
	for _, q := range []struct {
		sql  string
		args []any
	}{
		// A Discord member with an id past a gap, and a concurrency.
		{`INSERT INTO users (id, name, discord_id, trusted, moderator, created_at, concurrency) VALUES (7, 'carol', '424242', 1, 1, ?, 3)`, []any{n(0)}},
		{`INSERT INTO pending_submits (job_id, state, seed, metadata, at) VALUES ('j-wait', 'ok', 5, '[]', ?)`, []any{n(time.Second)}},
		{`INSERT INTO previews (request_id, job_id, content_type, image, etag, at) VALUES ('r-wait', 'j-wait', 'image/webp', ?, 'e1', ?)`, []any{[]byte{0, 1, 2, 0xff}, n(time.Second)}},
		{`INSERT INTO request_extras (request_id, shared_key_hash, webhook, style_id, collection_id, style_owner) VALUES ('r-wait', 'sk1', 'https://example.invalid/hook', 's1', 'c1', 7)`, nil},
		{`INSERT INTO result_reports (key, user_id, kind, job_id, worker_id, owner_id, trusted, live, at) VALUES ('rep1', 7, 'csam', 'j-done', 'w1', ?, 1, 1, ?)`, []any{fx.bob.ID, n(time.Minute)}},
		{`INSERT INTO ratings (user_id, generation_id, request_id, rating, artifacts, best, kudos, at) VALUES (7, 'j-done', 'r-done', 8, -1, 1, 5, ?)`, []any{n(time.Minute)}},
		{`INSERT INTO interrogations (id, user_id, source_ref, width, height, tiles, created_at) VALUES ('i1', 7, ?, 512, 512, 1, ?)`, []any{fx.sourceRef, n(time.Minute)}},
		{`INSERT INTO interrogation_forms (id, interrogation_id, idx, name, payload, state) VALUES ('f1', 'i1', 0, 'caption', '{}', 'waiting')`, nil},
		{`INSERT INTO awards (id, giver_id, receiver_id, message_id, channel_id, guild_id, category, emoji, amount, state, at, counted_at, settle_at) VALUES (40, 7, ?, 'm1', 'c1', 'g1', 'helpful', '👍', 30, 'settled', ?, ?, ?)`, []any{fx.bob.ID, n(0), n(0), n(time.Hour)}},
		{`INSERT INTO transfers (id, key, from_id, to_id, amount, at) VALUES (3, 't1', ?, ?, 5, ?)`, []any{fx.alice.ID, fx.bob.ID, n(0)}},
		{`INSERT INTO art_reactions (message_id, reactor_id, emoji, at) VALUES ('m2', 7, '🎨', ?)`, []any{n(0)}},
		{`INSERT INTO art_reactors (message_id, reactor_id, author_id, channel_id, first_at) VALUES ('m2', 7, ?, 'art', ?)`, []any{fx.alice.ID, n(0)}},
		{`INSERT INTO tally_runs (name, period, at, entries) VALUES ('art', '2026-03-04', ?, 2)`, []any{n(time.Hour)}},
		{`INSERT INTO escrow (id, key, user_id, amount, ref, at) VALUES (9, 'esc1', ?, 4, 'j-done', ?)`, []any{fx.bob.ID, n(0)}},
		{`INSERT INTO strikes (key, user_id, kind, ref, at) VALUES ('st1', ?, 'censored', 'j-done', ?)`, []any{fx.alice.ID, n(0)}},
		{`INSERT INTO strike_counts (user_id, kind, count, total, last_at) VALUES (?, 'censored', 1, 1, ?)`, []any{fx.alice.ID, n(0)}},
		{`INSERT INTO suspicions (key, worker_id, ref, rate, at) VALUES ('su1', 'w1', 'j-done', 12.75, ?)`, []any{n(0)}},
		{`INSERT INTO suspicion_counts (worker_id, count, total, last_at) VALUES ('w1', 1, 1, ?)`, []any{n(0)}},
		{`INSERT INTO shared_posts (message_id, channel_id, guild_id, discord_user_id, request_id, created_at) VALUES ('m3', 'art', 'g1', '424242', 'r-done', ?)`, []any{n(0)}},
		{`INSERT INTO worker_messages (id, worker_id, user_id, author_id, message, origin, created_at, expires_at) VALUES ('wm1', 'w1', ?, 7, 'please update', 'moderator', ?, ?)`, []any{fx.bob.ID, n(0), n(time.Hour)}},
		{`INSERT INTO worker_messages (id, worker_id, user_id, author_id, message, origin, created_at, expires_at) VALUES ('wm2', NULL, ?, 7, 'to the owner', 'moderator', ?, ?)`, []any{fx.bob.ID, n(0), n(time.Hour)}},
		{`INSERT INTO styles (id, kind, user_id, name, public, nsfw, use_count, created_at, doc, shared_key_hash) VALUES ('s1', 'image', 7, 'noir', 1, 0, 3, ?, '{"prompt":"{p}, noir"}', 'sk1')`, []any{n(0)}},
		{`INSERT INTO style_collections (id, kind, user_id, name, public, use_count, created_at, doc) VALUES ('c1', 'image', 7, 'moods', 1, 0, ?, '{"styles":["s1"]}')`, []any{n(0)}},
		{`INSERT INTO shared_keys (key_hash, user_id, name, kudos, utilized, created_at) VALUES ('sk1', 7, 'friends', 500, 12, ?)`, []any{n(0)}},
		{`INSERT INTO teams (id, name, info, owner_id) VALUES ('team1', 'Lighthouse', 'we keep the light', ?)`, []any{fx.bob.ID}},
		{`INSERT INTO team_members (worker_id, team_id) VALUES ('w1', 'team1')`, nil},
		{`INSERT INTO horde_modes (id, maintenance, invite_only, raid) VALUES (1, 0, 1, 0)`, nil},
		{`INSERT INTO ip_timeouts (ipaddr, until, created_by, created_at) VALUES ('203.0.113.9', ?, 7, ?)`, []any{n(time.Hour), n(0)}},
		{`INSERT INTO status_snapshots (at, image_queue, text_queue, image_workers, text_workers, image_finished, text_finished, median_wait_ms) VALUES (?, 3, 1, 2, 1, 10, 4, 2500)`, []any{n(0)}},
		{`INSERT INTO status_hours (hour, minutes, image_queue, image_workers, median_wait_ms) VALUES (?, 60, 180, 120, 2500)`, []any{n(0) / int64(time.Hour)}},
		{`INSERT INTO worker_uptime (worker_id, hour, minutes) VALUES ('w1', ?, 42)`, []any{n(0) / int64(time.Hour)}},
		{`INSERT INTO parties (id, key, guild_id, channel_id, host_id, theme, award, budget, spent, interval_ns, generations, starts_at, ends_at) VALUES (5, 'p1', 'g1', 'c1', 7, 'lighthouses', 10, 100, 10, ?, 1, ?, ?)`, []any{int64(10 * time.Minute), n(0), n(time.Hour)}},
		{`INSERT INTO party_generations (party_id, request_id, member_id, image_ref, at) VALUES (5, 'r-done', ?, '', ?)`, []any{fx.bob.ID, n(time.Minute)}},
		{`INSERT INTO party_awards (party_id, member_id, slot, request_id, amount, at) VALUES (5, ?, 0, 'r-done', 10, ?)`, []any{fx.bob.ID, n(time.Minute)}},
		{`INSERT INTO member_settings (user_id, doc, updated_at) VALUES (7, '{"steps":40,"sampler":"k_euler"}', ?)`, []any{n(0)}},
		// Totals that outlive their rows (a purge): copied as they are,
		// not recomputed by the trigger.
		{`INSERT INTO generation_totals (kind, model, count, units) VALUES ('text', 'koboldcpp/old', 5, 500)`, nil},
	} {
		if err := store.RawExec(ctx, s, q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	return fx
}

// tableDump is a table's rows as text, columns by name, sorted: what two
// engines hold the same when the copy kept every value.
func tableDump(t *testing.T, s *store.Store, table string) []string {
	t.Helper()
	rows, err := store.RawQuery(context.Background(), s, `SELECT * FROM "`+table+`"`)
	if err != nil {
		t.Fatalf("dump %s: %v", table, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	order := make([]int, len(cols))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(cols[a], cols[b]) })
	var out []string
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for _, i := range order {
			fmt.Fprintf(&b, "%s=%s ", cols[i], canonical(vals[i]))
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// canonical prints a value the same whichever engine returned it.
func canonical(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return strconv.Quote(x)
	case []byte:
		return strconv.Quote(string(x))
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

// TestCopyDataCopiesEveryTable: a store with rows in every table, copied to
// each engine from each, holds the same rows in every table, the same
// images, the same balances and a sound ledger; the target goes on working
// (new ids past the copied ones, a worker's key still authenticates), and
// PostgreSQL's shared queue is rebuilt from the waiting requests.
func TestCopyDataCopiesEveryTable(t *testing.T) {
	for _, tt := range []struct{ from, to engineOpener }{
		{onSQLite, onSQLite},
		{onSQLite, onPostgres},
		{onPostgres, onSQLite},
		{onPostgres, onPostgres},
	} {
		t.Run(tt.from.name+" to "+tt.to.name, func(t *testing.T) {
			ctx := context.Background()
			src := tt.from.open(t, store.Options{Clock: newFakeClock()})
			fx := fillEveryTable(t, src)
			dst := tt.to.open(t, store.Options{Clock: newFakeClock()})

			rep, err := store.CopyData(ctx, src, dst, store.CopyOptions{})
			if err != nil {
				t.Fatalf("copy: %v", err)
			}
			for _, table := range store.CopyTableNames() {
				if table == "blobs" || table == "queue_entries" || table == "queue_estimates" {
					continue
				}
				want, got := tableDump(t, src, table), tableDump(t, dst, table)
				if len(want) == 0 {
					t.Errorf("%s: empty in the source: fillEveryTable must put a row in every table", table)
				}
				if !slices.Equal(want, got) {
					t.Errorf("%s: the target holds\n%s\nwant\n%s", table, strings.Join(got, "\n"), strings.Join(want, "\n"))
				}
				if n, ok := rep.Rows(table); !ok || n != int64(len(want)) {
					t.Errorf("%s: report says %d rows (%v), want %d", table, n, ok, len(want))
				}
			}
			if rep.Blobs != 2 || len(rep.MissingBlobs) != 0 {
				t.Errorf("images copied %d, missing %v; want 2 and none", rep.Blobs, rep.MissingBlobs)
			}
			if got, err := dst.Blob(ctx, fx.imageRef); err != nil || !bytes.Equal(got, fx.image) {
				t.Errorf("the result image in the target: %d bytes, %v; want the source's %d bytes", len(got), err, len(fx.image))
			}
			n, inReport := rep.Rows("queue_entries")
			switch dst.Engine() {
			case store.EnginePostgres:
				if !inReport || n != 1 {
					t.Errorf("queue entries rebuilt: %d (%v), want 1 (r-wait's model)", n, inReport)
				}
			default:
				if inReport {
					t.Errorf("queue_entries in a SQLite target's report")
				}
			}
			for _, u := range []horde.User{fx.alice, fx.bob} {
				if a, b := mustBalance(t, src, u.ID), mustBalance(t, dst, u.ID); a != b {
					t.Errorf("%s's balance: %d in the target, %d in the source", u.Name, b, a)
				}
			}
			mustVerify(t, dst)
			cred, err := dst.Credential(ctx, horde.HashKey("worker-key"))
			if err != nil || cred.WorkerID != "w1" {
				t.Errorf("the worker's key in the target: %+v, %v", cred, err)
			}
			// New rows get ids past the copied ones.
			dave := mustUser(t, dst, "dave")
			if dave.ID != 8 {
				t.Errorf("a new user after the copy got id %d, want 8 (past carol's 7)", dave.ID)
			}
			if _, err := dst.Apply(ctx, kudos.Entry{UserID: dave.ID, Delta: 1, Kind: kudos.KindAdmin, Key: "admin:after", Floor: kudos.NoFloor}); err != nil {
				t.Errorf("a ledger entry after the copy: %v", err)
			}
			if _, err := dst.AddStrike(ctx, horde.Strike{Key: "st-after", UserID: dave.ID, Kind: horde.StrikeCensored}); err != nil {
				t.Errorf("a strike after the copy: %v", err)
			}
		})
	}
}

// TestCopyDataConvertsWhatSQLiteStoredLoosely: SQLite keeps what it is
// given in a column whatever its declared type (bytes in a TEXT column, an
// integer in a REAL one); the copy hands PostgreSQL the column's type, and
// refuses, naming the table, column and row, a value that has none (text
// in an INTEGER column), writing nothing.
func TestCopyDataConvertsWhatSQLiteStoredLoosely(t *testing.T) {
	ctx := context.Background()
	src := onSQLite.open(t, store.Options{})
	dst := onPostgres.open(t, store.Options{})
	if err := store.RawExec(ctx, src, `INSERT INTO discord_settings (key, value, updated_at) VALUES ('as-bytes', CAST('stored as a blob' AS BLOB), 1)`); err != nil {
		t.Fatal(err)
	}
	if err := store.RawExec(ctx, src, `INSERT INTO suspicion_counts (worker_id, count, total, last_at) VALUES ('w9', 1, 2, 3)`); err != nil {
		t.Fatal(err)
	}
	if _, err := store.CopyData(ctx, src, dst, store.CopyOptions{}); err != nil {
		t.Fatalf("copy: %v", err)
	}
	if v, err := dst.DiscordSetting(ctx, "as-bytes"); err != nil || v != "stored as a blob" {
		t.Errorf("text SQLite stored as bytes: %q, %v in the target", v, err)
	}

	src2 := onSQLite.open(t, store.Options{})
	dst2 := onPostgres.open(t, store.Options{})
	if err := store.RawExec(ctx, src2, `INSERT INTO status_snapshots (at, image_queue) VALUES (5, 'many')`); err != nil {
		t.Fatal(err)
	}
	_, err := store.CopyData(ctx, src2, dst2, store.CopyOptions{})
	if err == nil || !strings.Contains(err.Error(), "status_snapshots.image_queue") || !strings.Contains(err.Error(), "at is 5") {
		t.Fatalf("copy of text in an integer column: %v; want a refusal naming status_snapshots.image_queue and the row", err)
	}
	if got := tableDump(t, dst2, "users"); len(got) != 1 {
		t.Errorf("the target after a failed copy holds users %v; want only the anonymous user", got)
	}
}

// TestCopyDataRefuses: what the copy will not do, each refused with a
// sentence that says why and before anything is written.
func TestCopyDataRefuses(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup func(t *testing.T, src, dst *store.Store)
		kind  horde.Kind
		want  []string
	}{
		{"a target with data", func(t *testing.T, src, dst *store.Store) {
			mustUser(t, dst, "someone")
		}, horde.KindConflict, []string{"already holds data (in users)", "empty database only"}},
		{"a table it does not know", func(t *testing.T, src, dst *store.Store) {
			if err := store.RawExec(ctx, src, `CREATE TABLE mystery (id INTEGER PRIMARY KEY, what TEXT)`); err != nil {
				t.Fatal(err)
			}
		}, horde.KindInternal, []string{"table mystery of the source", "copyTables"}},
		{"a column only the source has", func(t *testing.T, src, dst *store.Store) {
			if err := store.RawExec(ctx, src, `ALTER TABLE teams ADD COLUMN motto TEXT NOT NULL DEFAULT ''`); err != nil {
				t.Fatal(err)
			}
		}, horde.KindInternal, []string{"column teams.motto is in the source and not in the target"}},
		{"a trigger it does not know", func(t *testing.T, src, dst *store.Store) {
			if err := store.RawExec(ctx, src, `CREATE TRIGGER count_users AFTER INSERT ON users BEGIN UPDATE horde_modes SET raid = raid + 1; END`); err != nil {
				t.Fatal(err)
			}
		}, horde.KindInternal, []string{"trigger count_users on users of the source", "copyTriggers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := onSQLite.open(t, store.Options{})
			mustUser(t, src, "alice")
			dst := onSQLite.open(t, store.Options{})
			tt.setup(t, src, dst)
			before := tableDump(t, dst, "users")
			_, err := store.CopyData(ctx, src, dst, store.CopyOptions{})
			if err == nil || horde.KindOf(err) != tt.kind {
				t.Fatalf("copy: %v (kind %v), want a %v refusal", err, horde.KindOf(err), tt.kind)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("refusal %q does not say %q", err, w)
				}
			}
			if after := tableDump(t, dst, "users"); !slices.Equal(before, after) {
				t.Errorf("the target's users changed after a refusal: %v, before %v", after, before)
			}
		})
	}
	t.Run("itself", func(t *testing.T) {
		s := onSQLite.open(t, store.Options{})
		if _, err := store.CopyData(ctx, s, s, store.CopyOptions{}); horde.KindOf(err) != horde.KindInvalid {
			t.Errorf("a copy into itself: %v, want KindInvalid", err)
		}
	})
}

// TestOpenExclusive: a SQLite store opened Exclusive is refused while
// another store (a running hordebot) has the database open, and while it
// is open nothing else can read the database; once closed, both open again.
func TestOpenExclusive(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opt := store.Options{Logger: quietLogger}
	running, err := store.Open(ctx, "sqlite:"+dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	mustUser(t, running, "alice")
	opt.Exclusive = true
	if _, err := store.Open(ctx, "sqlite:"+dir, opt); horde.KindOf(err) != horde.KindConflict || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("exclusive open beside a running store: %v, want KindConflict saying it is in use", err)
	}
	if err := running.Close(); err != nil {
		t.Fatal(err)
	}
	alone, err := store.Open(ctx, "sqlite:"+dir, opt)
	if err != nil {
		t.Fatalf("exclusive open once alone: %v", err)
	}
	if us, err := alone.UsersNamed(ctx, "alice"); err != nil || len(us) != 1 {
		t.Errorf("read on the exclusive store: %v %v", us, err)
	}
	other, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.DBFile)+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var n int
	if err := other.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err == nil {
		t.Errorf("another connection read the database while it was open exclusively")
	}
	if err := alone.Close(); err != nil {
		t.Fatal(err)
	}
	if err := other.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 2 {
		t.Errorf("after Close: %d users, %v; want 2 (the anonymous user and alice)", n, err)
	}
}

// TestCopyDataLeavesQueueEstimatesToTheTarget: the shared queue's
// estimates are a cache the target's sweeps write again; a copy neither
// carries them over nor reports them.
func TestCopyDataLeavesQueueEstimatesToTheTarget(t *testing.T) {
	if !slices.Contains(store.CopyTableNames(), "queue_estimates") {
		t.Fatal("queue_estimates is not in copyTables: migrate-data would refuse a PostgreSQL schema")
	}
}

package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/web"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

const dayNanos = int64(24 * time.Hour)

var rollupKinds = []kudos.EntryKind{
	kudos.KindGeneration, kudos.KindUptime, kudos.KindRequestCost, kudos.KindAwardHelpful,
	kudos.KindAwardArt, kudos.KindAwardModeration, kudos.KindTransfer, kudos.KindAdmin,
}

// rollupBase is the start of the mixed workload's 40 days.
var rollupBase = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// mixedLedger writes a mixed workload through every path that appends
// ledger entries: batches of random entries (some replayed keys, some
// undated, some dated before the period or before 1970, some refused by
// their floor, which rolls the whole batch back), tallies run twice, jobs
// finished, a transfer.
func mixedLedger(t *testing.T, st *store.Store, clock *storetest.Clock) {
	t.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(13, 25))
	refused := 0
	for i := 0; i < 600; i++ {
		n := 1 + rng.IntN(4)
		if i%20 == 0 { // a settle's or a tally's many entries
			n = 8 + rng.IntN(60)
		}
		batch := make([]kudos.Entry, n)
		for j := range batch {
			e := kudos.Entry{
				UserID: 1 + rng.Int64N(12), Delta: rng.Int64N(61) - 20, Kind: rollupKinds[rng.IntN(len(rollupKinds))],
				Key: fmt.Sprintf("k%d", rng.IntN(2000)), Floor: kudos.NoFloor,
			}
			switch rng.IntN(20) {
			case 0: // undated: the store's clock
			case 1:
				e.At = rollupBase.Add(-time.Duration(rng.Int64N(int64(72 * time.Hour))))
			case 2:
				e.At = time.Unix(-1-rng.Int64N(1e6), 0)
			default:
				e.At = rollupBase.Add(time.Duration(rng.Int64N(int64(40 * 24 * time.Hour))))
			}
			if rng.IntN(10) == 0 {
				e.Floor = 0
			}
			batch[j] = e
		}
		if _, err := st.Apply(ctx, batch...); errors.Is(err, kudos.ErrInsufficient) {
			refused++
		} else if err != nil {
			t.Fatalf("apply batch %d: %v", i, err)
		}
		if i%50 == 0 {
			clock.Advance(7 * time.Hour)
		}
	}
	if refused == 0 {
		t.Fatal("no batch was refused by its floor: the workload misses a rollback")
	}
	for range 2 { // the second run of the same period changes nothing
		if _, err := st.CompleteTally(ctx, kudos.TallyArt, "2026-03-09", []kudos.Entry{
			{UserID: 3, Delta: 40, Kind: kudos.KindAwardArt, Key: "art:2026-03-09:m1", Floor: kudos.NoFloor, At: rollupBase.Add(8*24*time.Hour + 23*time.Hour)},
			{UserID: 4, Delta: 15, Kind: kudos.KindAwardArt, Key: "art:2026-03-09:m2", Floor: kudos.NoFloor, At: rollupBase.Add(8*24*time.Hour + 23*time.Hour)},
		}, clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	alice, bob := mustUser(t, st, "alice"), mustUser(t, st, "bob")
	mustWorker(t, st, "w1", alice.ID)
	for i := range 3 {
		id := fmt.Sprintf("r%d", i)
		mustRequest(t, st, id, bob.ID, 1)
		j := mustStart(t, st, "j"+id, id, 0, "w1")
		if err := st.FinishJob(ctx, finish(j, horde.RequestDone, alice.ID, bob.ID, 10)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RecordTransfer(ctx, kudos.TransferRecord{Key: "t1", FromID: alice.ID, ToID: bob.ID, Amount: 5, At: clock.Now()}, clock.Now().Add(-time.Hour),
		[]kudos.Entry{
			{UserID: alice.ID, Delta: -5, Kind: kudos.KindTransfer, Key: "transfer:t1:out", Floor: 0},
			{UserID: bob.ID, Delta: 5, Kind: kudos.KindTransfer, Key: "transfer:t1:in", Floor: kudos.NoFloor},
		}); err != nil {
		t.Fatal(err)
	}
}

// readOnly opens the store's database behind its back, for the reference
// sums straight from the ledger.
func readOnly(t *testing.T, st *store.Store) *sql.DB {
	t.Helper()
	if st.Dir() == "" {
		t.Fatal("readOnly: this store has no SQLite file (skip the test on PostgreSQL)")
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(st.Dir(), store.DBFile)+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// ns encodes a time as the store does (the zero time as 0).
func ns(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func placeholders(kinds []kudos.EntryKind) (string, []any) {
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = string(k)
	}
	return "?" + strings.Repeat(",?", len(kinds)-1), args
}

// ledgerEarnings is Earnings read the slow way: every entry of the window.
func ledgerEarnings(t *testing.T, db *sql.DB, kinds []kudos.EntryKind, from, to time.Time, limit int) []kudos.Earner {
	t.Helper()
	in, args := placeholders(kinds)
	rows, err := db.Query(`SELECT user_id, sum(delta) AS earned FROM ledger WHERE kind IN (`+in+`) AND at >= ? AND at < ? AND delta > 0
GROUP BY user_id ORDER BY earned DESC, user_id LIMIT ?`, append(args, ns(from), ns(to), limit)...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []kudos.Earner
	for rows.Next() {
		var e kudos.Earner
		if err := rows.Scan(&e.UserID, &e.Kudos); err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// ledgerDays is KudosByDay read the slow way.
func ledgerDays(t *testing.T, db *sql.DB, user int64, from, to time.Time) []web.KudosDay {
	t.Helper()
	rows, err := db.Query(fmt.Sprintf(`SELECT at - ((at %% %[1]d) + %[1]d) %% %[1]d AS d, sum(delta) FROM ledger
WHERE user_id = ? AND at >= ? AND at < ? GROUP BY d ORDER BY d`, dayNanos), user, ns(from), ns(to))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []web.KudosDay
	for rows.Next() {
		var d web.KudosDay
		var n int64
		if err := rows.Scan(&n, &d.Delta); err != nil {
			t.Fatal(err)
		}
		d.Day = time.Unix(0, n).UTC()
		out = append(out, d)
	}
	return out
}

// ledgerAwards is AwardsReceived read the slow way.
func ledgerAwards(t *testing.T, db *sql.DB, user int64, kinds []kudos.EntryKind) []web.AwardTotal {
	t.Helper()
	in, args := placeholders(kinds)
	rows, err := db.Query(`SELECT kind, count(*), sum(delta) FROM ledger WHERE user_id = ? AND delta > 0 AND kind IN (`+in+`)
GROUP BY kind ORDER BY kind`, append([]any{user}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []web.AwardTotal
	for rows.Next() {
		var a web.AwardTotal
		var kind string
		if err := rows.Scan(&kind, &a.Count, &a.Kudos); err != nil {
			t.Fatal(err)
		}
		a.Kind = kudos.EntryKind(kind)
		out = append(out, a)
	}
	return out
}

// rollupWindows are windows of every shape the reads split: all time (from
// 1970, from before it, from the zero time), whole days, partial ends,
// within one day, two partial days, empty.
func rollupWindows(now time.Time) []struct {
	name     string
	from, to time.Time
} {
	h := time.Hour
	return []struct {
		name     string
		from, to time.Time
	}{
		{"all time", time.Unix(0, 0), now.Add(24 * h)},
		{"all time to midnight", time.Unix(0, 0), rollupBase.Add(20 * 24 * h)},
		{"all time to a partial day", time.Unix(0, 0), rollupBase.Add(20*24*h + 5*h)},
		{"from the zero time", time.Time{}, rollupBase.Add(9*24*h + 13*h)},
		{"from before 1970", time.Unix(-500000, 0), rollupBase.Add(3 * 24 * h)},
		{"a week of whole days", rollupBase.Add(7 * 24 * h), rollupBase.Add(14 * 24 * h)},
		{"a week in UTC+5:30", rollupBase.Add(7*24*h - 5*h - 30*time.Minute), rollupBase.Add(14*24*h - 5*h - 30*time.Minute)},
		{"a month with partial ends", rollupBase.Add(-3*24*h + 17*h), rollupBase.Add(30*24*h + 2*h + 7*time.Second)},
		{"within one day", rollupBase.Add(10*24*h + 2*h), rollupBase.Add(10*24*h + 20*h)},
		{"two partial days", rollupBase.Add(10*24*h + 20*h), rollupBase.Add(11*24*h + 5*h)},
		{"empty", rollupBase.Add(5 * 24 * h), rollupBase.Add(5 * 24 * h)},
	}
}

// TestLedgerRollupsEqualTheLedger: after a mixed workload the rollups equal
// the ledger's sums (VerifyRollups finds nothing), and every read that
// uses them (the leaderboards' Earnings, the member page's KudosByDay and
// AwardsReceived) returns what summing the ledger's entries returns, for
// windows of every shape.
func TestLedgerRollupsEqualTheLedger(t *testing.T) {
	storetest.SkipOnPostgres(t, "compares with sums read from the SQLite file itself")
	ctx := context.Background()
	clock := storetest.NewClock(rollupBase.Add(12 * 24 * time.Hour))
	st := mustOpenDir(t, t.TempDir(), clock)
	mixedLedger(t, st, clock)
	mustVerify(t, st)
	db := readOnly(t, st)
	kindSets := [][]kudos.EntryKind{kudos.WorkerRewardKinds, {kudos.KindAwardHelpful, kudos.KindAwardArt, kudos.KindAwardModeration}, rollupKinds}
	for _, k := range rollupKinds {
		kindSets = append(kindSets, []kudos.EntryKind{k})
	}
	for _, w := range rollupWindows(clock.Now()) {
		for _, kinds := range kindSets {
			for _, limit := range []int{3, 100} {
				got, err := st.Earnings(ctx, kinds, w.from, w.to, limit)
				if err != nil {
					t.Fatal(err)
				}
				want := ledgerEarnings(t, db, kinds, w.from, w.to, limit)
				if len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
					t.Errorf("%s, %v, top %d: earnings %v, the ledger sums %v", w.name, kinds, limit, got, want)
				}
			}
		}
		if w.from.Before(time.Unix(0, 0)) || w.from.IsZero() {
			continue // the member page's days start in the last month
		}
		for user := int64(1); user <= 14; user++ {
			got, err := st.KudosByDay(ctx, user, w.from, w.to)
			if err != nil {
				t.Fatal(err)
			}
			if want := ledgerDays(t, db, user, w.from, w.to); len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Errorf("%s, user %d: kudos by day %v, the ledger sums %v", w.name, user, got, want)
			}
		}
	}
	for user := int64(1); user <= 14; user++ {
		for _, kinds := range kindSets {
			got, err := st.AwardsReceived(ctx, user, kinds)
			if err != nil {
				t.Fatal(err)
			}
			if want := ledgerAwards(t, db, user, kinds); len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
				t.Errorf("user %d, %v: awards %v, the ledger sums %v", user, kinds, got, want)
			}
		}
	}
}

// TestVerifyRollupsFindsADrift: a rollup row changed, removed or added
// behind the store's back is reported with what it holds and what the
// ledger sums.
func TestVerifyRollupsFindsADrift(t *testing.T) {
	storetest.SkipOnPostgres(t, "compares with sums read from the SQLite file itself")
	ctx := context.Background()
	st := mustOpen(t)
	day := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	entries := []kudos.Entry{
		{UserID: 1, Delta: 7, Kind: kudos.KindAwardHelpful, Key: "a", Floor: kudos.NoFloor, At: day},
		{UserID: 1, Delta: -2, Kind: kudos.KindAwardHelpful, Key: "b", Floor: kudos.NoFloor, At: day.Add(time.Hour)},
		{UserID: 2, Delta: 10, Kind: kudos.KindGeneration, Key: "c", Floor: kudos.NoFloor, At: day},
	}
	if _, err := st.Apply(ctx, entries...); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, st)
	db, err := sql.Open("sqlite", "file:"+filepath.Join(st.Dir(), store.DBFile)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	midnight := day.Truncate(24 * time.Hour)
	for _, q := range []string{
		`UPDATE ledger_days SET earned = earned + 1 WHERE user_id = 1`,
		`DELETE FROM ledger_totals WHERE user_id = 2`,
		fmt.Sprintf(`INSERT INTO ledger_days (kind, day, user_id, entries, net, gains, earned) VALUES ('admin', %d, 3, 1, 5, 1, 5)`, midnight.UnixNano()),
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.VerifyRollups(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.RollupMismatch{
		{Table: "ledger_days", Kind: kudos.KindAdmin, Day: midnight, UserID: 3, Stored: store.LedgerSums{Entries: 1, Net: 5, Gains: 1, Earned: 5}},
		{Table: "ledger_days", Kind: kudos.KindAwardHelpful, Day: midnight, UserID: 1,
			Stored: store.LedgerSums{Entries: 2, Net: 5, Gains: 1, Earned: 8}, Ledger: store.LedgerSums{Entries: 2, Net: 5, Gains: 1, Earned: 7}},
		{Table: "ledger_totals", Kind: kudos.KindGeneration, UserID: 2, Ledger: store.LedgerSums{Entries: 1, Net: 10, Gains: 1, Earned: 10}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("mismatches:\n got  %+v\n want %+v", got, want)
	}
}

// TestRollupsBackfilledByTheirMigration: a database that had its ledger and
// snapshots before migration 00025 gets rollups equal to them.
func TestRollupsBackfilledByTheirMigration(t *testing.T) {
	storetest.SkipOnPostgres(t, "compares with sums read from the SQLite file itself")
	ctx := context.Background()
	dir := t.TempDir()
	clock := storetest.NewClock(rollupBase.Add(12 * 24 * time.Hour))
	st := mustOpenDir(t, dir, clock)
	mixedLedger(t, st, clock)
	recordMinutes(t, st, rollupBase, 3*24*60)
	from, to := rollupBase.Add(5*time.Hour+17*time.Minute), rollupBase.Add(3*24*time.Hour)
	snaps, err := st.Snapshots(ctx, from, to, 6*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	all := rollupWindows(clock.Now())[0]
	board, err := st.Earnings(ctx, kudos.WorkerRewardKinds, all.from, all.to, 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	// Back to before 00025: its tables gone, its version not applied.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, store.DBFile)+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	undoMigrationsFrom(t, db, 25)
	db.Close()

	st = mustOpenDir(t, dir, clock)
	mustVerify(t, st)
	if got, err := st.Snapshots(ctx, from, to, 6*time.Hour); err != nil || !reflect.DeepEqual(got, snaps) {
		t.Errorf("snapshots after the backfill: %v %+v, before %+v", err, got, snaps)
	}
	if got, err := st.Earnings(ctx, kudos.WorkerRewardKinds, all.from, all.to, 10); err != nil || !reflect.DeepEqual(got, board) {
		t.Errorf("worker board after the backfill: %v %+v, before %+v", err, got, board)
	}
}

// recordMinutes records n minutes of snapshots from start, skipping some
// (a server that was down), with values that change every minute.
func recordMinutes(t *testing.T, st *store.Store, start time.Time, n int) {
	t.Helper()
	for m := 0; m < n; m++ {
		if m%97 == 5 || (m > 600 && m < 640) {
			continue
		}
		s := web.Snapshot{
			At: start.Add(time.Duration(m) * time.Minute), ImageQueue: int64(m % 41), TextQueue: int64(m % 7),
			ImageWorkers: int64(3 + m%5), TextWorkers: int64(m % 3), ImageFinished: int64(m % 11), TextFinished: int64(m % 2),
			MedianWait: time.Duration(m%613) * time.Second,
		}
		if _, err := st.RecordSnapshot(context.Background(), s, nil); err != nil {
			t.Fatal(err)
		}
	}
}

// minuteSnapshots is Snapshots read the slow way: every minute of the range.
func minuteSnapshots(t *testing.T, db *sql.DB, from, to time.Time, bucket time.Duration) []web.Snapshot {
	t.Helper()
	b := int64(bucket)
	rows, err := db.Query(`SELECT at / ? AS bucket, count(*), sum(image_queue), sum(text_queue), sum(image_workers), sum(text_workers),
sum(image_finished), sum(text_finished), max(median_wait_ms)
FROM status_snapshots WHERE at >= ? AND at < ? GROUP BY bucket ORDER BY bucket`, b, ns(from), ns(to))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []web.Snapshot
	for rows.Next() {
		var sn web.Snapshot
		var start, n, iq, tq, iw, tw, wait int64
		if err := rows.Scan(&start, &n, &iq, &tq, &iw, &tw, &sn.ImageFinished, &sn.TextFinished, &wait); err != nil {
			t.Fatal(err)
		}
		sn.Minutes = n
		sn.ImageQueue, sn.TextQueue, sn.ImageWorkers, sn.TextWorkers = iq/n, tq/n, iw/n, tw/n
		sn.At = time.Unix(0, start*b).UTC()
		sn.MedianWait = time.Duration(wait) * time.Millisecond
		out = append(out, sn)
	}
	return out
}

// TestSnapshotsFromHoursEqualTheMinutes: the charts' buckets read from the
// hours' sums equal those grouped from every minute, for ranges with whole
// and partial hours, before and after a prune that cuts an hour in two.
func TestSnapshotsFromHoursEqualTheMinutes(t *testing.T) {
	storetest.SkipOnPostgres(t, "compares with sums read from the SQLite file itself")
	ctx := context.Background()
	start := time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)
	clock := storetest.NewClock(start.Add(3 * 24 * time.Hour))
	st := mustOpenDir(t, t.TempDir(), clock)
	recordMinutes(t, st, start, 3*24*60)
	db := readOnly(t, st)
	check := func(when string) {
		t.Helper()
		for _, r := range []struct{ from, to time.Time }{
			{start, start.Add(3 * 24 * time.Hour)},
			{start.Add(-time.Hour), start.Add(4 * 24 * time.Hour)},
			{start.Add(7*time.Hour + 23*time.Minute), start.Add(2*24*time.Hour + 5*time.Hour + 41*time.Minute + 3*time.Second)},
			{start.Add(30 * time.Minute), start.Add(50 * time.Minute)},
			{start.Add(20*time.Hour + 30*time.Minute), start.Add(21*time.Hour + 10*time.Minute)},
		} {
			for _, bucket := range []time.Duration{15 * time.Minute, time.Hour, 6 * time.Hour, 24 * time.Hour} {
				got, err := st.Snapshots(ctx, r.from, r.to, bucket)
				if err != nil {
					t.Fatal(err)
				}
				if want := minuteSnapshots(t, db, r.from, r.to, bucket); len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
					t.Errorf("%s, %s to %s by %s:\n got  %+v\n want %+v", when, r.from.Format(time.DateTime), r.to.Format(time.DateTime), bucket, got, want)
				}
			}
		}
	}
	check("recorded")
	if _, err := st.PruneSnapshots(ctx, start.Add(26*time.Hour+20*time.Minute)); err != nil {
		t.Fatal(err)
	}
	check("pruned")
}

// undoMigrationsFrom runs the Down sections of the SQLite migrations from
// version v on, newest first, and forgets them, as if the database had
// never had them: the next Open applies them again.
func undoMigrationsFrom(t *testing.T, db *sql.DB, v int) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(files)))
	for _, f := range files {
		var n int
		if _, err := fmt.Sscanf(filepath.Base(f), "%05d_", &n); err != nil || n < v {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		_, down, ok := strings.Cut(string(b), "-- +goose Down")
		if !ok {
			t.Fatalf("%s has no Down section", f)
		}
		if _, err := db.Exec(down); err != nil {
			t.Fatalf("undo %s: %v", f, err)
		}
		if _, err := db.Exec(`DELETE FROM goose_db_version WHERE version_id = ?`, n); err != nil {
			t.Fatal(err)
		}
	}
}

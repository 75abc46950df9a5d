package store

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// The ledger's rollups (migration 00025): ledger_days sums the entries per
// (kind, UTC day, user), ledger_totals the positive ones per (kind, user)
// over all time.
// applyEntries adds each entry to both in the entry's transaction, so they
// are exact; VerifyRollups proves it. The reads answer any window exactly
// and without reading an entry per job: its whole days from ledger_days
// (a window from 1970 on: ledger_totals less what lies after it), the
// partial days at its ends, if any, from the ledger itself.

// day is the length of a UTC day in nanoseconds, the unit of ledger_days.
const day = int64(24 * time.Hour)

// floorTo is the start of the n-long period containing at (floor division,
// right for times before 1970 too).
func floorTo(at, n int64) int64 { return at - ((at%n)+n)%n }

// ceilTo is the smallest multiple of n at or after at (math.MaxInt64 past
// the last one).
func ceilTo(at, n int64) int64 {
	f := floorTo(at, n)
	switch {
	case f == at:
		return at
	case f > math.MaxInt64-n:
		return math.MaxInt64
	}
	return f + n
}

// earningsParts builds the signed (user_id, v) rows whose sum per user is
// what the users earned (positive deltas) of some kinds in a window.
type earningsParts struct {
	in    string // the placeholders of the kinds
	kinds []any
	parts []string
	args  []any
}

func newEarningsParts(kinds []kudos.EntryKind) *earningsParts {
	p := &earningsParts{in: "?" + strings.Repeat(",?", len(kinds)-1)}
	for _, k := range kinds {
		p.kinds = append(p.kinds, string(k))
	}
	return p
}

// ledger adds (sign "" or "-") the positive entries dated in [lo, hi).
func (p *earningsParts) ledger(sign string, lo, hi int64) {
	if lo >= hi {
		return
	}
	p.parts = append(p.parts, `SELECT user_id, `+sign+`delta AS v FROM ledger
WHERE kind IN (`+p.in+`) AND at >= ? AND at < ? AND delta > 0`)
	p.args = append(append(p.args, p.kinds...), lo, hi)
}

// days adds the whole days starting in [lo, hi).
func (p *earningsParts) days(sign string, lo, hi int64) {
	if lo >= hi {
		return
	}
	p.parts = append(p.parts, `SELECT user_id, `+sign+`earned AS v FROM ledger_days
WHERE kind IN (`+p.in+`) AND day >= ? AND day < ? AND gains > 0`)
	p.args = append(append(p.args, p.kinds...), lo, hi)
}

// totals adds every entry.
func (p *earningsParts) totals() {
	p.parts = append(p.parts, `SELECT user_id, earned AS v FROM ledger_totals WHERE kind IN (`+p.in+`) AND gains > 0`)
	p.args = append(p.args, p.kinds...)
}

// window adds the entries dated in [from, to).
func (p *earningsParts) window(from, to int64) {
	if from <= 0 {
		// From 1970 (or before): all time, less the entries before from
		// (none, unless dated before 1970) and those from to on.
		p.totals()
		p.ledger("-", math.MinInt64, from)
		next := ceilTo(to, day)
		p.ledger("-", to, next)
		p.days("-", next, math.MaxInt64)
		return
	}
	first, last := ceilTo(from, day), floorTo(to, day)
	if first > last { // within one day
		p.ledger("", from, to)
		return
	}
	p.ledger("", from, first)
	p.days("", first, last)
	p.ledger("", last, to)
}

// Earnings returns the top earners of the given kinds in [from, to): each
// user's positive entries summed, most first, at most limit.
func (s *Store) Earnings(ctx context.Context, kinds []kudos.EntryKind, from, to time.Time, limit int) ([]kudos.Earner, error) {
	f, t := nanos(from), nanos(to)
	if len(kinds) == 0 || limit <= 0 || t <= f {
		return nil, nil
	}
	q, args := earningsQuery(kinds, f, t, limit)
	return queryRows(ctx, s.r, "read earnings", func(row scanner) (kudos.Earner, error) {
		var e kudos.Earner
		err := row.Scan(&e.UserID, &e.Kudos)
		return e, err
	}, q, args...)
}

// earningsQuery is Earnings' query and arguments for kinds (at least one)
// in [from, to) (from < to).
func earningsQuery(kinds []kudos.EntryKind, from, to int64, limit int) (string, []any) {
	p := newEarningsParts(kinds)
	p.window(from, to)
	return `SELECT user_id, sum(v) AS earned FROM (` + strings.Join(p.parts, "\nUNION ALL\n") + `) AS x
GROUP BY user_id HAVING sum(v) > 0 ORDER BY earned DESC, user_id LIMIT ?`, append(p.args, limit)
}

// LedgerSums is what a rollup row holds: its entries, the sum of their
// deltas, the entries with a positive delta and the sum of those.
type LedgerSums struct {
	Entries, Net, Gains, Earned int64
}

// RollupMismatch is a rollup row that differs from the ledger's entries it
// sums (a row missing on either side reads as zeros). A ledger_totals row
// sums only the positive entries: its Entries and Net are its Gains and
// Earned.
type RollupMismatch struct {
	Table  string // "ledger_days" or "ledger_totals"
	Kind   kudos.EntryKind
	Day    time.Time // the UTC day (ledger_days)
	UserID int64
	Stored LedgerSums // the rollup row
	Ledger LedgerSums // the ledger's sums
}

// ledgerSumColumns sums a group of ledger rows as a rollup row does.
const ledgerSumColumns = `count(*) AS entries, sum(delta) AS net,
sum(CASE WHEN delta > 0 THEN 1 ELSE 0 END) AS gains, sum(CASE WHEN delta > 0 THEN delta ELSE 0 END) AS earned`

// rollupDiffers keeps the joined rows r (rollup) and l (ledger) that differ.
const rollupDiffers = `WHERE coalesce(r.entries, 0) != coalesce(l.entries, 0) OR coalesce(r.net, 0) != coalesce(l.net, 0)
OR coalesce(r.gains, 0) != coalesce(l.gains, 0) OR coalesce(r.earned, 0) != coalesce(l.earned, 0)`

// VerifyRollups recomputes both ledger rollups from the ledger and returns
// the rows that differ, days first (empty when they are exact).
func (s *Store) VerifyRollups(ctx context.Context) ([]RollupMismatch, error) {
	scan := func(table string) func(row scanner) (RollupMismatch, error) {
		return func(row scanner) (RollupMismatch, error) {
			m := RollupMismatch{Table: table}
			var kind string
			var d int64
			err := row.Scan(&kind, &d, &m.UserID,
				&m.Stored.Entries, &m.Stored.Net, &m.Stored.Gains, &m.Stored.Earned,
				&m.Ledger.Entries, &m.Ledger.Net, &m.Ledger.Gains, &m.Ledger.Earned)
			m.Kind = kudos.EntryKind(kind)
			if table == "ledger_days" {
				m.Day = time.Unix(0, d).UTC()
			}
			return m, err
		}
	}
	sides := `coalesce(r.entries, 0), coalesce(r.net, 0), coalesce(r.gains, 0), coalesce(r.earned, 0),
coalesce(l.entries, 0), coalesce(l.net, 0), coalesce(l.gains, 0), coalesce(l.earned, 0)`
	days, err := queryRows(ctx, s.r, "verify ledger days", scan("ledger_days"), fmt.Sprintf(`
SELECT coalesce(r.kind, l.kind), coalesce(r.day, l.day), coalesce(r.user_id, l.user_id), %s
FROM ledger_days r
FULL OUTER JOIN (SELECT kind, at - ((at %% %[2]d) + %[2]d) %% %[2]d AS day, user_id, %[3]s
                 FROM ledger GROUP BY kind, at - ((at %% %[2]d) + %[2]d) %% %[2]d, user_id) l
  ON l.kind = r.kind AND l.day = r.day AND l.user_id = r.user_id
%[4]s
ORDER BY 1, 2, 3`, sides, day, ledgerSumColumns, rollupDiffers))
	if err != nil {
		return nil, err
	}
	totals, err := queryRows(ctx, s.r, "verify ledger totals", scan("ledger_totals"), `
SELECT coalesce(r.kind, l.kind), 0, coalesce(r.user_id, l.user_id),
coalesce(r.gains, 0), coalesce(r.earned, 0), coalesce(r.gains, 0), coalesce(r.earned, 0),
coalesce(l.gains, 0), coalesce(l.earned, 0), coalesce(l.gains, 0), coalesce(l.earned, 0)
FROM ledger_totals r
FULL OUTER JOIN (SELECT kind, user_id, count(*) AS gains, sum(delta) AS earned FROM ledger WHERE delta > 0 GROUP BY kind, user_id) l
  ON l.kind = r.kind AND l.user_id = r.user_id
WHERE coalesce(r.gains, 0) != coalesce(l.gains, 0) OR coalesce(r.earned, 0) != coalesce(l.earned, 0)
ORDER BY 1, 3`)
	if err != nil {
		return nil, err
	}
	return append(days, totals...), nil
}

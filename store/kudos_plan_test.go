package store

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// TestKudosQueriesUseIndexes asks SQLite how it runs each kudos query: none
// may scan a table (caps, settles and tallies must read index ranges only).
func TestKudosQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, t.TempDir(), Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type query struct {
		q    string
		args []any
	}
	// Earnings in its three shapes: all time (the totals less the days
	// after), whole days, and days with partial ends.
	earnings := func(from, to int64) query {
		q, args := earningsQuery([]kudos.EntryKind{"a", "b", "c"}, from, to, 10)
		return query{q, args}
	}
	const hour = int64(time.Hour)
	queries := map[string]struct {
		q    string
		args []any
	}{
		"award check":     {qAwardCheck, []any{"m", 1, "helpful", 2, 0, 0}},
		"revoke":          {qRevokeAwards, []any{0, "m", 1, "e"}},
		"due awards":      {qDueAwards, []any{0, 10}},
		"message awards":  {qMessageAwards, []any{"m"}},
		"settle":          {settleQuery(3), []any{0, 1, 2, 3}},
		"transfer by key": {qTransferByKey, []any{"k"}},
		"ping-pong":       {qPingPong, []any{1, 2, 0}},
		"art posts":       {qArtPosts, []any{0, 1}},
		"tally ran":       {qTallyRan, []any{"art", "2026-03-04"}},
		"earnings all":    earnings(0, 100*day+5*hour),
		"earnings days":   earnings(7*day, 14*day),
		"earnings parts":  earnings(7*day+5*hour, 14*day+5*hour),
		"earnings hours":  earnings(7*day+5*hour, 7*day+9*hour),
		"cleanup revoked": {cleanupQueries[0], []any{0}},
		"cleanup pending": {cleanupQueries[1], []any{0}},
		"cleanup art":     {cleanupQueries[2], []any{0}},
		"cleanup reactor": {cleanupQueries[3], []any{0}},
	}
	for name, tt := range queries {
		t.Run(name, func(t *testing.T) {
			rows, err := s.r.QueryContext(ctx, "EXPLAIN QUERY PLAN "+tt.q, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var plan []string
			for rows.Next() {
				var id, parent, notused int
				var detail string
				if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
					t.Fatal(err)
				}
				plan = append(plan, detail)
			}
			if err := rows.Err(); err != nil {
				t.Fatal(err)
			}
			if len(plan) == 0 {
				t.Fatal("no plan")
			}
			for _, d := range plan {
				// A SCAN reads a whole table or index; only the constant row
				// of the award check's LEFT JOIN and its one-row subquery may,
				// and Earnings' x, the co-routine of its index searches.
				if strings.HasPrefix(d, "SCAN ") && !strings.HasPrefix(d, "SCAN CONSTANT ROW") &&
					!strings.HasPrefix(d, "SCAN (subquery") && d != "SCAN x" && d != "SCAN one" {
					t.Fatalf("table scan in %q: %s", name, strings.Join(plan, " | "))
				}
			}
		})
	}
}

package store

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

// recursiveCTE finds the name of a query's recursive common table expression.
var recursiveCTE = regexp.MustCompile(`WITH RECURSIVE (\w+)\(`)

// The hot statements must find their rows through an index: a table scan
// would grow with the history of the horde.
func TestHotQueriesUseIndexes(t *testing.T) {
	s := openInternal(t)
	queries := append(append([]string{}, writeQueries...), readQueries...)
	queries = append(queries, qHistory, qJobs, qGenerations, qOpenRequests, qOpenJobs, qOpenDone,
		qPurgeable, qFinishedBetween, qPruneGenerationStats)
	for _, q := range queries {
		if strings.HasPrefix(q, "SAVEPOINT") || strings.HasPrefix(q, "ROLLBACK") || strings.HasPrefix(q, "RELEASE") {
			continue
		}
		n := strings.Count(q, "?")
		args := make([]any, 0, n)
		for i := 0; i < n; i++ {
			args = append(args, 1)
		}
		rows, err := s.r.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+q, args...)
		if err != nil {
			t.Fatalf("explain %q: %v", q, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		// A recursive CTE (the counter of CreateRequest's items) is walked,
		// not a table.
		var cte string
		if m := recursiveCTE.FindStringSubmatch(q); m != nil {
			cte = "SCAN " + m[1]
		}
		for _, step := range plan {
			if strings.HasPrefix(step, "SCAN ") && !strings.Contains(step, "INDEX") && !strings.HasPrefix(step, "SCAN CONSTANT") && step != cte {
				t.Errorf("%s\n  plan: %s", q, strings.Join(plan, "; "))
			}
		}
	}
}

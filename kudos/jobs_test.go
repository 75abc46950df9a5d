package kudos_test

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// TestJobsTallyThePeriodJustClosed: what a scheduled run means is the
// engine's, on its injected clock: the art tally's job tallies yesterday,
// the leaderboard's last week, and a second run of a job for the same
// period does nothing more.
func TestJobsTallyThePeriodJustClosed(t *testing.T) {
	e := newEnv(t, testConfig())
	e.clock.Set(t0.Add(24 * time.Hour)) // Thursday noon: yesterday is t0's day
	jobs := map[string]kudos.Job{}
	for _, j := range e.eng.Jobs() {
		if j.Spec == "" || j.Run == nil {
			t.Errorf("job %q has no schedule or no run in the default config", j.Name)
		}
		jobs[j.Name] = j
	}
	for _, name := range []string{kudos.TallyArt, kudos.TallyLeaderboard, kudos.TallyRecurring, "cleanup", "settle"} {
		if _, ok := jobs[name]; !ok {
			t.Fatalf("no job %q among %v", name, jobs)
		}
	}
	loc := e.eng.Location()
	due := []struct{ name, period string }{
		{kudos.TallyArt, kudos.Day(t0, loc).Name},
		{kudos.TallyLeaderboard, kudos.Week(t0.AddDate(0, 0, -7), loc).Name},
	}
	for _, d := range due {
		for range 2 {
			if err := jobs[d.name].Run(e.ctx); err != nil {
				t.Fatalf("%s: %v", d.name, err)
			}
		}
		ran, err := e.st.TallyRan(e.ctx, d.name, d.period)
		if err != nil || !ran {
			t.Fatalf("%s did not record period %s: ran %v, err %v", d.name, d.period, ran, err)
		}
	}
	e.verify()
}

// TestKudosImportsOnlyTheStandardLibrary: package kudos is pure domain (its
// doc says so): the standard library and the shared error model, no cron,
// SQL, HTTP or Discord. The cron runner is kudos/schedule, at the edge.
func TestKudosImportsOnlyTheStandardLibrary(t *testing.T) {
	allowed := map[string]bool{"github.com/hordebot/hordebot/horde/errs": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range af.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if !allowed[path] && strings.Contains(first, ".") {
				t.Errorf("%s imports %s", f, path)
			}
		}
	}
}

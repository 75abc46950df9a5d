package store_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

func TestStrikeCounts(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	u, err := s.CreateUser(ctx, horde.User{Name: "alice"}, "")
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name string
		s    horde.Strike
		want int64
	}{
		{"first csam", horde.Strike{UserID: u.ID, Kind: horde.StrikeCSAM, Key: "job:1:csam"}, 1},
		{"a replay counts once", horde.Strike{UserID: u.ID, Kind: horde.StrikeCSAM, Key: "job:1:csam"}, 1},
		{"second csam", horde.Strike{UserID: u.ID, Kind: horde.StrikeCSAM, Key: "job:2:csam"}, 2},
		{"kinds count apart", horde.Strike{UserID: u.ID, Kind: horde.StrikeRefused, Key: "refused:1"}, 1},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			n, err := s.AddStrike(ctx, st.s)
			if err != nil || n != st.want {
				t.Fatalf("AddStrike = %d, %v; want %d", n, err, st.want)
			}
		})
	}
	got, err := s.Strikes(ctx, u.ID)
	if err != nil || got[horde.StrikeCSAM] != 2 || got[horde.StrikeRefused] != 1 || len(got) != 2 {
		t.Fatalf("Strikes = %v, %v", got, err)
	}
	if _, err := s.AddStrike(ctx, horde.Strike{UserID: u.ID, Kind: "nonsense", Key: "x"}); err == nil {
		t.Fatal("a strike of an unknown kind was recorded")
	}
	if _, err := s.AddStrike(ctx, horde.Strike{UserID: u.ID, Kind: horde.StrikeCSAM}); !horde.IsKind(err, horde.KindInvalid) {
		t.Fatalf("a strike without key: err %v, want KindInvalid", err)
	}
	if err := s.ResetStrikes(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Strikes(ctx, u.ID); len(got) != 0 {
		t.Fatalf("after reset: %v", got)
	}
	if n, _ := s.AddStrike(ctx, horde.Strike{UserID: u.ID, Kind: horde.StrikeCSAM, Key: "job:3:csam"}); n != 1 {
		t.Fatalf("after reset the count is %d, want 1", n)
	}
}

// TestReportTallies: a report counts once per key; the tally says how many
// reports and owners, and how many of them count (trusted owners other than
// the requester); a reset takes the reports out of the tally.
func TestReportTallies(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	u, err := s.CreateUser(ctx, horde.User{Name: "alice"}, "")
	if err != nil {
		t.Fatal(err)
	}
	rep := func(job string, owner int64, trusted bool) horde.Report {
		return horde.Report{Key: "job:" + job + ":csam", UserID: u.ID, Kind: horde.StrikeCSAM, JobID: job, WorkerID: "w", OwnerID: owner, Trusted: trusted}
	}
	steps := []struct {
		name  string
		r     horde.Report
		added bool
		want  horde.ReportTally
	}{
		{"an untrusted owner's report", rep("1", 10, false), true, horde.ReportTally{Reports: 1, Owners: 1}},
		{"a replay is not added", rep("1", 10, false), false, horde.ReportTally{Reports: 1, Owners: 1}},
		{"a trusted owner's report counts", rep("2", 11, true), true, horde.ReportTally{Reports: 2, Owners: 2, TrustedReports: 1, TrustedOwners: 1}},
		{"the same trusted owner again", rep("3", 11, true), true, horde.ReportTally{Reports: 3, Owners: 2, TrustedReports: 2, TrustedOwners: 1}},
		{"the requester's own report does not count", rep("4", u.ID, true), true, horde.ReportTally{Reports: 4, Owners: 3, TrustedReports: 2, TrustedOwners: 1}},
		{"a deleted worker's report does not count", rep("5", -1, true), true, horde.ReportTally{Reports: 5, Owners: 4, TrustedReports: 2, TrustedOwners: 1}},
		{"a second trusted owner", rep("6", 12, true), true, horde.ReportTally{Reports: 6, Owners: 5, TrustedReports: 3, TrustedOwners: 2}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			got, added, err := s.AddReport(ctx, st.r)
			if err != nil || added != st.added || got != st.want {
				t.Fatalf("AddReport = %+v, %v, %v; want %+v, %v", got, added, err, st.want, st.added)
			}
		})
	}
	all, err := s.Reports(ctx, u.ID)
	if err != nil || len(all) != 1 || all[horde.StrikeCSAM] != steps[len(steps)-1].want {
		t.Fatalf("Reports = %+v, %v", all, err)
	}
	if _, _, err := s.AddReport(ctx, horde.Report{UserID: u.ID, Kind: horde.StrikeCSAM}); !horde.IsKind(err, horde.KindInvalid) {
		t.Fatalf("a report without key: err %v, want KindInvalid", err)
	}
	if err := s.ResetStrikes(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if all, _ := s.Reports(ctx, u.ID); len(all) != 0 {
		t.Fatalf("after reset: %+v", all)
	}
	if got, _, _ := s.AddReport(ctx, rep("7", 11, true)); got != (horde.ReportTally{Reports: 1, Owners: 1, TrustedReports: 1, TrustedOwners: 1}) {
		t.Fatalf("after reset the tally is %+v, want only the new report", got)
	}
}

func TestSuspicionCounts(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	add := func(key string, rate float64) int64 {
		t.Helper()
		n, err := s.AddSuspicion(ctx, horde.Suspicion{WorkerID: "w1", Key: key, Rate: rate})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if add("job:1:fast", 12.5) != 1 || add("job:1:fast", 12.5) != 1 || add("job:2:fast", math.Inf(1)) != 2 {
		t.Fatal("suspicions miscounted (replays must count once; an infinite rate must be stored)")
	}
	if n, err := s.Suspicions(ctx, "w1"); err != nil || n != 2 {
		t.Fatalf("Suspicions = %d, %v", n, err)
	}
	if n, err := s.Suspicions(ctx, "nobody"); err != nil || n != 0 {
		t.Fatalf("Suspicions of an unknown worker = %d, %v", n, err)
	}
	if err := s.ResetSuspicion(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Suspicions(ctx, "w1"); n != 0 {
		t.Fatalf("after reset: %d", n)
	}
}

func TestSetUserFlags(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	u, err := s.CreateUser(ctx, horde.User{Name: "bob"}, "")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		set         func(context.Context, int64, bool) (bool, error)
		v           bool
		wantChanged bool
		read        func(horde.User) bool
	}{
		{"flag", s.SetFlagged, true, true, func(u horde.User) bool { return u.Flagged }},
		{"flag again changes nothing", s.SetFlagged, true, false, func(u horde.User) bool { return u.Flagged }},
		{"trust", s.SetTrusted, true, true, func(u horde.User) bool { return u.Trusted }},
		{"unflag", s.SetFlagged, false, true, func(u horde.User) bool { return u.Flagged }},
		{"distrust", s.SetTrusted, false, true, func(u horde.User) bool { return u.Trusted }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changed, err := tt.set(ctx, u.ID, tt.v)
			if err != nil || changed != tt.wantChanged {
				t.Fatalf("changed %v err %v, want changed %v", changed, err, tt.wantChanged)
			}
			got, err := s.User(ctx, u.ID)
			if err != nil || tt.read(got) != tt.v {
				t.Fatalf("user %+v %v", got, err)
			}
		})
	}
	if _, err := s.SetFlagged(ctx, 9999, true); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("flag an unknown user: err %v, want KindNotFound", err)
	}
}

func TestGenerationEarnings(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	u, err := s.CreateUser(ctx, horde.User{Name: "owner"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Apply(ctx,
		kudos.Entry{UserID: u.ID, Delta: 6, Kind: kudos.KindGeneration, Key: "g1", Floor: kudos.NoFloor},
		kudos.Entry{UserID: u.ID, Delta: 100, Kind: kudos.KindAdmin, Key: "a1", Floor: kudos.NoFloor}, // not earned from generations
	); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Hold(ctx, kudos.Hold{UserID: u.ID, Amount: 5, Key: "h1"}, kudos.Hold{UserID: u.ID, Amount: 4, Key: "h2"}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.GenerationEarnings(ctx, u.ID); err != nil || n != 15 {
		t.Fatalf("earnings %d %v, want 15", n, err)
	}
	// A release moves holds into the ledger but earns nothing new.
	if _, err := s.ReleaseEscrow(ctx, u.ID, 0, "trust", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.GenerationEarnings(ctx, u.ID); err != nil || n != 15 {
		t.Fatalf("earnings after release %d %v, want 15", n, err)
	}
}

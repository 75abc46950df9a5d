package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

func TestStartJob(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	mustRequest(t, s, "r", 0, 2)
	j := mustStart(t, s, "j0", "r", 0, "w")

	got, err := s.Job(ctx, "j0")
	if err != nil {
		t.Fatal(err)
	}
	want := j
	want.State = horde.JobProcessing
	if got != want {
		t.Fatalf("job = %+v, want %+v", got, want)
	}
	r, err := s.Request(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if r.State != horde.RequestProcessing {
		t.Fatalf("request state = %s, want processing", r.State)
	}

	tests := []struct {
		name   string
		j      horde.Job
		kind   horde.Kind
		target error
	}{
		{"item already popped", job("j0b", "r", 0, "w"), horde.KindConflict, horde.ErrDuplicate},
		{"job id taken", job("j0", "r", 1, "w"), horde.KindConflict, nil},
		{"unknown request", job("jx", "nope", 0, "w"), horde.KindNotFound, horde.ErrNotFound},
		{"item out of range", job("jx", "r", 5, "w"), horde.KindNotFound, horde.ErrNotFound},
		{"no id", job("", "r", 1, "w"), horde.KindInvalid, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wantKind(t, s.StartJob(ctx, tc.j), tc.kind, tc.target)
		})
	}
	jobs, err := s.Jobs(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 1 {
		t.Fatalf("refused starts wrote jobs: %+v", jobs)
	}
	// Item 1 is still waiting: a refused start changed nothing.
	mustStart(t, s, "j1", "r", 1, "w")

	// A finished request takes no job, whether or not it was ever popped.
	mustRequest(t, s, "popped", 0, 2)
	mustStart(t, s, "p0", "popped", 0, "w")
	mustRequest(t, s, "never", 0, 1)
	for id, item := range map[string]int{"popped": 1, "never": 0} { // items still waiting
		if err := s.EndRequest(ctx, id, horde.RequestCancelled, "test", time.Time{}); err != nil {
			t.Fatal(err)
		}
		wantKind(t, s.StartJob(ctx, job(id+"-late", id, item, "w")), horde.KindConflict, horde.ErrDuplicate)
		r, err := s.Request(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.State != horde.RequestCancelled {
			t.Fatalf("request %s state = %s after a refused start, want cancelled", id, r.State)
		}
	}
}

func TestFinishJobWritesEverythingOnce(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	owner := mustUser(t, s, "owner")
	requester := mustUser(t, s, "requester")
	mustRequest(t, s, "r", requester.ID, 1)
	j := mustStart(t, s, "j", "r", 0, "w")
	f := finish(j, horde.RequestDone, owner.ID, requester.ID, 12)
	f.Generation.BlobRef = "ab" + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
	f.Generation.Metadata = []horde.GenMetadata{{Type: "censorship", Value: "csam"}}
	if err := s.FinishJob(ctx, f); err != nil {
		t.Fatal(err)
	}

	got, err := s.Job(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}
	if got != f.Job {
		t.Fatalf("job = %+v, want %+v", got, f.Job)
	}
	gens, err := s.Generations(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	wantGen := f.Generation
	wantGen.CreatedAt = f.Job.FinishedAt
	if len(gens) != 1 || !reflect.DeepEqual(gens[0], wantGen) {
		t.Fatalf("generations = %+v, want [%+v]", gens, wantGen)
	}
	r, err := s.Request(ctx, "r")
	if err != nil {
		t.Fatal(err)
	}
	if r.State != horde.RequestDone {
		t.Fatalf("request state = %s", r.State)
	}
	if b := mustBalance(t, s, owner.ID); b != 12 {
		t.Fatalf("owner balance = %d, want 12", b)
	}
	if b := mustBalance(t, s, requester.ID); b != -12 {
		t.Fatalf("requester balance = %d, want -12", b)
	}

	t.Run("second finish is duplicate and pays nothing", func(t *testing.T) {
		g := f
		g.Entries = []kudos.Entry{{UserID: owner.ID, Delta: 12, Kind: kudos.KindGeneration, Key: "gen2:j", Floor: kudos.NoFloor}}
		wantKind(t, s.FinishJob(ctx, g), horde.KindConflict, horde.ErrDuplicate)
		if b := mustBalance(t, s, owner.ID); b != 12 {
			t.Fatalf("owner balance = %d after a duplicate finish", b)
		}
		gens, err := s.Generations(ctx, "r")
		if err != nil || len(gens) != 1 {
			t.Fatalf("generations = %d, %v", len(gens), err)
		}
	})
	t.Run("unknown job is not found", func(t *testing.T) {
		g := f
		g.Job.ID = "nope"
		wantKind(t, s.FinishJob(ctx, g), horde.KindNotFound, horde.ErrNotFound)
	})
	mustVerify(t, s)
}

// TestFinishJobChecksWhereTheJobIs: a finish naming the wrong request or
// item of its job is refused and writes nothing; one naming only the job's
// id finishes the job where it is.
func TestFinishJobChecksWhereTheJobIs(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	owner := mustUser(t, s, "owner")
	requester := mustUser(t, s, "requester")
	mustRequest(t, s, "r", requester.ID, 2)
	mustRequest(t, s, "other", requester.ID, 1)
	j := mustStart(t, s, "j", "r", 1, "w")
	for _, c := range []struct {
		name    string
		request string
		item    int
	}{
		{"another request", "other", 1},
		{"another item", "r", 0},
	} {
		f := finish(j, horde.RequestProcessing, owner.ID, requester.ID, 12)
		f.Job.RequestID, f.Job.Item = c.request, c.item
		f.Generation.RequestID, f.Generation.Item = c.request, c.item
		wantKind(t, s.FinishJob(ctx, f), horde.KindInvalid, nil)
		if got, err := s.Job(ctx, "j"); err != nil || got.State != horde.JobProcessing {
			t.Fatalf("%s: job %+v, %v; want it still processing", c.name, got, err)
		}
		if b := mustBalance(t, s, owner.ID); b != 0 {
			t.Fatalf("%s: owner balance %d, want nothing paid", c.name, b)
		}
	}

	f := finish(j, horde.RequestProcessing, owner.ID, requester.ID, 12)
	f.Job.RequestID, f.Job.Item = "", 0 // only the id
	if err := s.FinishJob(ctx, f); err != nil {
		t.Fatal(err)
	}
	gens, err := s.Generations(ctx, "r")
	if err != nil || len(gens) != 1 || gens[0].Item != 1 || gens[0].RequestID != "r" {
		t.Fatalf("generations of r = %+v, %v; want item 1's", gens, err)
	}
	if b := mustBalance(t, s, owner.ID); b != 12 {
		t.Fatalf("owner balance = %d, want 12", b)
	}
	mustVerify(t, s)
}

func TestFinishJobFloorRefusalWritesNothing(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	owner := mustUser(t, s, "owner")
	poor := mustUser(t, s, "poor")
	mustRequest(t, s, "r", poor.ID, 1)
	j := mustStart(t, s, "j", "r", 0, "w")
	f := finish(j, horde.RequestDone, owner.ID, poor.ID, 30)
	f.Entries[1].Floor = -10 // the requester may go to -10, not -30

	err := s.FinishJob(ctx, f)
	if !errors.Is(err, kudos.ErrInsufficient) {
		t.Fatalf("finish = %v, want ErrInsufficient", err)
	}
	got, err := s.Job(ctx, "j")
	if err != nil {
		t.Fatal(err)
	}
	if got.State != horde.JobProcessing {
		t.Fatalf("job state = %s after a refused finish", got.State)
	}
	if gens, _ := s.Generations(ctx, "r"); len(gens) != 0 {
		t.Fatalf("refused finish stored generations %+v", gens)
	}
	for _, u := range []int64{owner.ID, poor.ID} {
		if b := mustBalance(t, s, u); b != 0 {
			t.Fatalf("balance of %d = %d after a refused finish", u, b)
		}
	}
	if h, _ := s.History(ctx, owner.ID, 10); len(h) != 0 {
		t.Fatalf("refused finish wrote ledger rows %+v", h)
	}
	// With a floor it can meet, the same job finishes.
	f.Entries[1].Floor = -30
	if err := s.FinishJob(ctx, f); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, s)
}

func TestFailJobRequeuesItem(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	tests := []struct {
		state      horde.JobState
		wantFaults int
	}{
		{horde.JobFaulted, 1},
		{horde.JobAborted, 0},
	}
	for _, tc := range tests {
		t.Run(string(tc.state), func(t *testing.T) {
			id := "r-" + string(tc.state)
			mustRequest(t, s, id, 0, 1)
			mustStart(t, s, id+"-a", id, 0, "w")
			at := time.Date(2025, 6, 1, 13, 0, 0, 0, time.UTC)
			if err := s.FailJob(ctx, id+"-a", tc.state, at); err != nil {
				t.Fatal(err)
			}
			j, err := s.Job(ctx, id+"-a")
			if err != nil {
				t.Fatal(err)
			}
			if j.State != tc.state || !j.FinishedAt.Equal(at) {
				t.Fatalf("job = %+v", j)
			}
			r, err := s.Request(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if r.Faults != tc.wantFaults {
				t.Fatalf("faults = %d, want %d", r.Faults, tc.wantFaults)
			}
			wantKind(t, s.FailJob(ctx, id+"-a", tc.state, at), horde.KindConflict, horde.ErrDuplicate)
			// The item is waiting again: another worker may pop it.
			mustStart(t, s, id+"-b", id, 0, "w2")
			jobs, err := s.Jobs(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if len(jobs) != 2 {
				t.Fatalf("jobs = %+v", jobs)
			}
		})
	}
	wantKind(t, s.FailJob(ctx, "nope", horde.JobFaulted, time.Time{}), horde.KindNotFound, horde.ErrNotFound)
	wantKind(t, s.FailJob(ctx, "nope", horde.JobDone, time.Time{}), horde.KindInvalid, nil)
}

func TestUploads(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	mustRequest(t, s, "r", 0, 1)
	j := mustStart(t, s, "j", "r", 0, "w")
	ref, err := s.PutBlob(ctx, []byte("image bytes"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Upload(ctx, "j"); !horde.IsKind(err, horde.KindNotFound) {
		t.Fatalf("upload before SetUpload: %v", err)
	}
	if err := s.SetUpload(ctx, "j", ref); err != nil {
		t.Fatal(err)
	}
	got, err := s.Upload(ctx, "j")
	if err != nil || got != ref {
		t.Fatalf("upload = %q, %v; want %q", got, err, ref)
	}
	wantKind(t, s.SetUpload(ctx, "nope", ref), horde.KindNotFound, horde.ErrNotFound)
	wantKind(t, s.SetUpload(ctx, "j", "../../etc/passwd"), horde.KindInvalid, nil)
	if err := s.FinishJob(ctx, finish(j, horde.RequestDone, 0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	wantKind(t, s.SetUpload(ctx, "j", ref), horde.KindConflict, horde.ErrDuplicate)
}

func TestJobAndListsNotFound(t *testing.T) {
	ctx := context.Background()
	s := mustOpen(t)
	_, err := s.Job(ctx, "nope")
	wantKind(t, err, horde.KindNotFound, horde.ErrNotFound)
	jobs, err := s.Jobs(ctx, "nope")
	if err != nil || len(jobs) != 0 {
		t.Fatalf("jobs of unknown request = %v, %v", jobs, err)
	}
	gens, err := s.Generations(ctx, "nope")
	if err != nil || len(gens) != 0 {
		t.Fatalf("generations of unknown request = %v, %v", gens, err)
	}
}

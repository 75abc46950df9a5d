package store_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// newFakeClock is a settable clock at the tests' start time.
func newFakeClock() *storetest.Clock {
	return storetest.NewClock(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
}

var quietLogger = slog.New(slog.DiscardHandler)

// mustOpen opens a store in a fresh temp dir and closes it at the end of the test.
func mustOpen(tb testing.TB) *store.Store {
	tb.Helper()
	return mustOpenDir(tb, tb.TempDir(), newFakeClock())
}

// mustOpenDir opens a store in dir and closes it at the end of the test.
func mustOpenDir(tb testing.TB, dir string, clock horde.Clock) *store.Store {
	tb.Helper()
	return storetest.MustOpen(tb, dir, clock)
}

// mustUser creates a user named name.
func mustUser(tb testing.TB, s *store.Store, name string) horde.User {
	tb.Helper()
	u, err := s.CreateUser(context.Background(), horde.User{Name: name}, "")
	if err != nil {
		tb.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// mustWorker saves an image worker owned by owner.
func mustWorker(tb testing.TB, s *store.Store, id string, owner int64) horde.Worker {
	tb.Helper()
	w := horde.Worker{ID: id, Name: "worker-" + id, OwnerID: owner, Kind: horde.KindImage, Models: []string{"sdxl"}, MaxPixels: 1 << 20}
	if err := s.SaveWorker(context.Background(), w); err != nil {
		tb.Fatalf("save worker %s: %v", id, err)
	}
	return w
}

// imageRequest is a valid image request of n items by user.
func imageRequest(id string, user int64, n int) horde.Request {
	return horde.Request{
		ID: id, Kind: horde.KindImage, UserID: user, Prompt: "a lighthouse ### fog", N: n,
		Image:  &horde.ImageParams{Width: 512, Height: 512, Steps: 30, SamplerName: "k_euler", CFGScale: 7, Seed: "42"},
		Models: []string{"sdxl"}, R2: true, ClientAgent: "test:1:none", Source: "api", Kudos: int64(10 * n),
	}
}

// mustRequest creates an image request.
func mustRequest(tb testing.TB, s *store.Store, id string, user int64, n int) horde.Request {
	tb.Helper()
	r := imageRequest(id, user, n)
	if err := s.CreateRequest(context.Background(), r); err != nil {
		tb.Fatalf("create request %s: %v", id, err)
	}
	return r
}

// mustStart starts job id on item of request.
func mustStart(tb testing.TB, s *store.Store, id, request string, item int, worker string) horde.Job {
	tb.Helper()
	j := job(id, request, item, worker)
	if err := s.StartJob(context.Background(), j); err != nil {
		tb.Fatalf("start job %s: %v", id, err)
	}
	return j
}

func job(id, request string, item int, worker string) horde.Job {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	return horde.Job{ID: id, RequestID: request, Item: item, WorkerID: worker, Model: "sdxl", Seed: 7,
		StartedAt: at, Deadline: at.Add(150 * time.Second)}
}

// finish is a JobFinish paying worker owner and charging the requester.
func finish(j horde.Job, state horde.RequestState, workerOwner, requester int64, reward int64) horde.JobFinish {
	j.State = horde.JobDone
	j.FinishedAt = j.StartedAt.Add(10 * time.Second)
	j.Kudos = reward
	return horde.JobFinish{
		Job:          j,
		Generation:   horde.Generation{JobID: j.ID, RequestID: j.RequestID, Item: j.Item, WorkerID: j.WorkerID, WorkerName: "w", Model: j.Model, Seed: j.Seed, State: horde.ResultOK, BlobRef: ""},
		RequestState: state,
		Entries: []kudos.Entry{
			{UserID: workerOwner, Delta: reward, Kind: kudos.KindGeneration, Ref: j.ID, Key: "gen:" + j.ID, Floor: kudos.NoFloor},
			{UserID: requester, Delta: -reward, Kind: kudos.KindRequestCost, Ref: j.ID, Key: "cost:" + j.ID, Floor: kudos.NoFloor},
		},
	}
}

func mustBalance(tb testing.TB, s *store.Store, user int64) int64 {
	tb.Helper()
	b, err := s.Balance(context.Background(), user)
	if err != nil {
		tb.Fatalf("balance of %d: %v", user, err)
	}
	return b
}

func mustVerify(tb testing.TB, s *store.Store) {
	tb.Helper()
	m, err := s.Verify(context.Background())
	if err != nil {
		tb.Fatalf("verify: %v", err)
	}
	if len(m) != 0 {
		tb.Fatalf("verify: mismatches %+v", m)
	}
	r, err := s.VerifyRollups(context.Background())
	if err != nil {
		tb.Fatalf("verify rollups: %v", err)
	}
	if len(r) != 0 {
		tb.Fatalf("verify rollups: mismatches %+v", r)
	}
}

// wantKind fails unless err has kind k (and, when target is set, errors.Is target).
func wantKind(tb testing.TB, err error, k horde.Kind, target error) {
	tb.Helper()
	if err == nil {
		tb.Fatalf("want %s error, got nil", k)
	}
	if got := horde.KindOf(err); got != k {
		tb.Fatalf("want %s error, got %s: %v", k, got, err)
	}
	if target != nil && !errors.Is(err, target) {
		tb.Fatalf("want error wrapping %v, got %v", target, err)
	}
}

func key(i int) string { return fmt.Sprintf("k%06d", i) }

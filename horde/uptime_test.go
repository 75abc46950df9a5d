package horde_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// uptimePaid sums a user's uptime bonuses in the ledger.
func (e *env) uptimePaid(userID int64) int64 {
	e.tb.Helper()
	hist, err := e.st.History(e.ctx, userID, 10_000)
	if err != nil {
		e.tb.Fatalf("history of %d: %v", userID, err)
	}
	var sum int64
	for _, en := range hist {
		if en.Kind == kudos.KindUptime {
			sum += en.Delta
		}
	}
	return sum
}

// trustedUser creates a user and trusts them, as a moderator would.
func (e *env) trustedUser(name string, balance int64) horde.Credential {
	e.tb.Helper()
	c := e.user(name, balance)
	if _, err := e.st.SetTrusted(e.ctx, c.User.ID, true); err != nil {
		e.tb.Fatalf("trust %s: %v", name, err)
	}
	c.User = e.userNow(c.User.ID)
	return c
}

// TestUptimePaysOnlyWorkingWorkers: being online is not enough to earn the
// uptime bonus. Today's attack, 20 workers created by pop that serve a
// model nobody asks for, earned uptime with zero jobs; now a worker earns
// it only when it is neither paused nor in maintenance and finished a job
// in the last reward window (10 minutes).
func TestUptimePaysOnlyWorkingWorkers(t *testing.T) {
	const bonus = 7
	tests := []struct {
		name    string
		workers int
		minutes int
		// job, if set, is called each minute m with the first worker's pop
		// and returns whether a job of a requester is to be served then.
		job func(m int) bool
		// setup, if set, runs at minute 6 on the first worker.
		setup func(e *env, owner horde.Credential, worker horde.Worker)
		want  int64
	}{
		{name: "20 workers serving models nobody asks for earn nothing", workers: 20, minutes: 21, want: 0},
		{name: "a worker that finished a job in the window earns", workers: 1, minutes: 10,
			job: func(m int) bool { return m == 5 }, want: bonus},
		{name: "a job older than the window earns only the slot it was in", workers: 1, minutes: 30,
			job: func(m int) bool { return m == 1 }, want: bonus},
		{name: "a job in every slot earns every slot", workers: 1, minutes: 30,
			job: func(m int) bool { return m%10 == 5 }, want: 3 * bonus},
		{name: "a paused worker earns nothing", workers: 1, minutes: 10,
			job: func(m int) bool { return m == 5 },
			setup: func(e *env, _ horde.Credential, w horde.Worker) {
				if _, err := e.h.PauseWorker(e.ctx, e.moderator("mod"), w.ID, true, "test"); err != nil {
					e.tb.Fatal(err)
				}
			}, want: 0},
		{name: "a worker in maintenance earns nothing", workers: 1, minutes: 10,
			job: func(m int) bool { return m == 5 },
			setup: func(e *env, owner horde.Credential, w horde.Worker) {
				if _, err := e.h.UpdateWorker(e.ctx, owner.User, w.ID, horde.WorkerUpdate{Maintenance: ptr(true)}); err != nil {
					e.tb.Fatal(err)
				}
			}, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, horde.Config{Payments: kudos.PaymentRules{UptimeBonus: bonus}})
			owner := e.trustedUser("owner", 0)
			alice := e.user("alice", 1000)
			var names []string
			for i := range tt.workers {
				names = append(names, fmt.Sprintf("farm-%02d", i))
			}
			for m := 0; m <= tt.minutes; m++ {
				if tt.job != nil && tt.job(m) {
					e.submit(alice, imageRequest("a lighthouse", "sd15"))
				}
				for i, name := range names {
					model := "nobody-asks-for-this"
					if i == 0 && tt.job != nil {
						model = "sd15"
					}
					as, _ := e.pop(owner, imagePop(name, model))
					for _, a := range as {
						// The owner's reward is not what this test is about:
						// only uptime entries are counted.
						e.submitOK(owner, a.Job.ID)
					}
				}
				if m == 6 && tt.setup != nil { // after its job: only the state is to blame
					w, err := e.h.WorkerByName(e.ctx, names[0])
					if err != nil {
						t.Fatal(err)
					}
					tt.setup(e, owner, w)
				}
				sweep(t, e)
				if m < tt.minutes {
					e.clock.Advance(time.Minute)
				}
			}
			if got := e.uptimePaid(owner.User.ID); got != tt.want {
				t.Fatalf("uptime paid %d, want %d", got, tt.want)
			}
			if ws, _ := e.h.Workers(e.ctx, ""); len(ws) != tt.workers {
				t.Fatalf("%d workers, want %d", len(ws), tt.workers)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

package horde_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/errs"
	"github.com/hordebot/hordebot/kudos"
)

// TestSharedAdmissionIsAtomic: many submits of one member at once, split
// across two processes on one database, never pass the member's
// concurrency nor spend kudos they do not have: exactly the allowed number
// is accepted, and the others are refused with the error one process
// gives.
func TestSharedAdmissionIsAtomic(t *testing.T) {
	const attempts = 24
	cases := []struct {
		name        string
		concurrency int
		alchemy     bool
		// balance is the member's kudos given the cost of one submit.
		balance func(cost int64) (balance int64, allowed int)
		code    string
	}{
		{
			name: "concurrency", concurrency: 4,
			balance: func(int64) (int64, int) { return 1000000, 4 },
			code:    "TooManyPrompts",
		},
		{
			name: "upfront kudos", concurrency: attempts,
			balance: func(cost int64) (int64, int) {
				k := 3
				for int64(k)*cost <= -kudos.DefaultMemberFloor {
					k++
				}
				return int64(k)*cost + kudos.DefaultMemberFloor, k // the last one takes them to the floor
			},
			code: "KudosUpfront",
		},
		{
			name: "alchemy forms", concurrency: 1, alchemy: true,
			balance: func(int64) (int64, int) { return 1000000, horde.AlchemyConcurrencyFactor },
			code:    "TooManyPrompts",
		},
		{
			name: "alchemy kudos", concurrency: attempts, alchemy: true,
			balance: func(cost int64) (int64, int) { return 5*cost + kudos.DefaultMemberFloor, 5 },
			code:    "KudosUpfront",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := newSharedEnv(t, horde.Config{Concurrency: tc.concurrency})
			b := a.peer()
			probe := a.user("probe", 1000000)
			nr := imageRequest("a lighthouse", "sd15")
			nr.Image = &horde.ImageParams{Width: 1024, Height: 1024, Steps: 50}
			ni := interrogation(2048, 2048, true, "RealESRGAN_x4plus") // 16 tiles: 50 kudos
			var cost int64
			if tc.alchemy {
				in := a.interrogate(probe, ni)
				cost = in.Forms[0].Cost
			} else {
				dry := nr
				dry.DryRun = true
				r, _, err := a.h.Submit(a.ctx, probe.User, dry)
				if err != nil {
					t.Fatal(err)
				}
				cost = r.Kudos
			}
			balance, allowed := tc.balance(cost)
			member := a.user("member", balance)

			var (
				wg       sync.WaitGroup
				mu       sync.Mutex
				accepted int
				refused  = map[string]int{}
			)
			for i := range attempts {
				e := []*env{a, b}[i%2]
				wg.Add(1)
				go func() {
					defer wg.Done()
					var err error
					if tc.alchemy {
						_, err = e.h.Interrogate(e.ctx, member.User, ni)
					} else {
						_, _, err = e.h.Submit(e.ctx, member.User, nr)
					}
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						accepted++
						return
					}
					refused[fmt.Sprintf("%s (%s)", errs.CodeOf(err), kindOf(err))]++
				}()
			}
			wg.Wait()
			if accepted != allowed {
				t.Errorf("%d of %d submits accepted (cost %d each, balance %d), want exactly %d; refused: %v",
					accepted, attempts, cost, balance, allowed, refused)
			}
			want := fmt.Sprintf("%s (%s)", tc.code, map[string]horde.Kind{"TooManyPrompts": horde.KindRateLimited, "KudosUpfront": horde.KindKudosUpfront}[tc.code])
			if refused[want] != attempts-allowed || len(refused) != 1 {
				t.Errorf("refusals %v, want %d times %s", refused, attempts-allowed, want)
			}
			// One process gives the next one the same refusal.
			var err error
			if tc.alchemy {
				_, err = a.h.Interrogate(a.ctx, member.User, ni)
			} else {
				_, _, err = a.h.Submit(a.ctx, member.User, nr)
			}
			if errs.CodeOf(err) != tc.code {
				t.Errorf("one more submit: %v, want %s", err, tc.code)
			}
		})
	}
}

// kindOf names an error's kind, for the test's tallies.
func kindOf(err error) string {
	if k := errs.As(err); k != nil {
		return k.Kind.String()
	}
	return "no kind"
}

// TestSharedTransferAndSubmitAreAtomic: a member spends every kudo they
// have on one process (a transfer, or a party's budget) while submitting,
// on another, a request that only their kudos could cover. One or the other
// goes through, never both: in either order one leaves too little for the
// other (what the queued request holds is not the member's to spend; a
// request past the floor is refused). Without the member's lock in the
// spending write, both pass when they overlap.
func TestSharedTransferAndSubmitAreAtomic(t *testing.T) {
	const rounds = 16
	a := newSharedEnv(t, horde.Config{})
	b := a.peer()
	eng, err := kudos.New(a.st, kudos.DefaultConfig(), a.clock, kudos.WithHeld(a.h.Held))
	if err != nil {
		t.Fatal(err)
	}
	receiver := a.user("receiver", 0)
	nr := imageRequest("a lighthouse", "sd15")
	nr.Image = &horde.ImageParams{Width: 1024, Height: 1024, Steps: 50}
	nr.N = 4
	dry := nr
	dry.DryRun = true
	r, _, err := a.h.Submit(a.ctx, receiver.User, dry)
	if err != nil {
		t.Fatal(err)
	}
	if r.Kudos <= -kudos.DefaultMemberFloor {
		t.Fatalf("the request costs %d kudos: it must cost more than the floor allows (%d) for the test to mean anything", r.Kudos, -kudos.DefaultMemberFloor)
	}
	balance := r.Kudos
	spends := []struct {
		name  string
		spend func(member int64, round int) error
	}{
		{"transfer", func(member int64, round int) error {
			return eng.Transfer(a.ctx, member, receiver.User.ID, balance, fmt.Sprintf("round-%d", round))
		}},
		{"party budget", func(member int64, round int) error {
			_, err := eng.StartParty(a.ctx, kudos.PartyStart{HostID: member, GuildID: "g", ChannelID: fmt.Sprintf("c%d", round),
				Theme: "lighthouses", Duration: time.Hour, Award: 1, Budget: balance, Key: fmt.Sprintf("party-%d", round)})
			return err
		}},
	}
	for _, sp := range spends {
		t.Run(sp.name, func(t *testing.T) {
			for i := range rounds {
				member := a.user(fmt.Sprintf("%s-member%d", sp.name, i), balance)
				var wg sync.WaitGroup
				var spendErr, submitErr error
				wg.Add(2)
				go func() {
					defer wg.Done()
					spendErr = sp.spend(member.User.ID, i)
				}()
				go func() {
					defer wg.Done()
					_, _, submitErr = b.h.Submit(b.ctx, member.User, nr)
				}()
				wg.Wait()
				switch {
				case spendErr == nil && submitErr == nil:
					t.Fatalf("round %d: the member spent %d kudos and queued a request holding %d: both passed", i, balance, r.Kudos)
				case spendErr != nil && submitErr != nil:
					t.Fatalf("round %d: both refused (%s: %v; submit: %v), want one to pass", i, sp.name, spendErr, submitErr)
				case spendErr != nil && kudos.RefusalCode(spendErr) != kudos.RefuseInsufficient:
					t.Fatalf("round %d: %s refused with %v, want %s", i, sp.name, spendErr, kudos.RefuseInsufficient)
				case submitErr != nil && errs.CodeOf(submitErr) != "KudosUpfront":
					t.Fatalf("round %d: submit refused with %v, want KudosUpfront", i, submitErr)
				}
			}
		})
	}
}

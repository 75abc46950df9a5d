package kudos_test

import (
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// TestSettleJob is every way a finished job pays: who is charged, who earns,
// what is held in escrow.
func TestSettleJob(t *testing.T) {
	rules := kudos.PaymentRules{EscrowPercent: 50}.WithDefaults()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	base := kudos.JobSettlement{JobID: "j1", What: "image", RequesterID: 7, OwnerID: 9,
		Result: kudos.ResultOK, Cost: 10, Charge: 10, OwnerTrusted: true, At: at}
	tests := []struct {
		name                        string
		mod                         func(*kudos.JobSettlement)
		charged, reward, paid, held int64
	}{
		{"ok: the requester pays, the owner earns it", func(*kudos.JobSettlement) {}, 10, 10, 10, 0},
		{"untrusted owner: half held in escrow", func(s *kudos.JobSettlement) { s.OwnerTrusted = false }, 10, 10, 5, 5},
		{"paused worker: the requester pays, nobody earns", func(s *kudos.JobSettlement) { s.Paused = true }, 10, 0, 0, 0},
		{"deleted worker: nobody earns", func(s *kudos.JobSettlement) { s.OwnerID = -1 }, 10, 0, 0, 0},
		{"csam report: nobody pays, nobody earns", func(s *kudos.JobSettlement) { s.Result = kudos.ResultCSAM }, 0, 0, 0, 0},
		{"censored: nobody pays, nobody earns", func(s *kudos.JobSettlement) { s.Result = kudos.ResultCensored }, 0, 0, 0, 0},
		{"short balance: the owner earns what was charged", func(s *kudos.JobSettlement) { s.Charge = 4 }, 4, 4, 4, 0},
		{"nothing chargeable: nothing moves", func(s *kudos.JobSettlement) { s.Charge = 0 }, 0, 0, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			tt.mod(&s)
			p := rules.SettleJob(s)
			var charged, paid, held int64
			for _, e := range p.Entries {
				switch e.Kind {
				case kudos.KindRequestCost:
					charged -= e.Delta
					if e.UserID != 7 || e.Floor != rules.MemberFloor {
						t.Errorf("cost entry %+v: want user 7 at floor %d", e, rules.MemberFloor)
					}
				case kudos.KindGeneration:
					paid += e.Delta
				}
			}
			for _, h := range p.Holds {
				held += h.Amount
			}
			if charged != tt.charged || p.Charged != tt.charged || p.Reward != tt.reward || paid != tt.paid || held != tt.held {
				t.Errorf("charged %d (%d) reward %d paid %d held %d; want %d, %d, %d, %d",
					charged, p.Charged, p.Reward, paid, held, tt.charged, tt.reward, tt.paid, tt.held)
			}
		})
	}
}

// TestShortfall: what a request needs on top of what is held.
func TestShortfall(t *testing.T) {
	r := kudos.PaymentRules{MemberFloor: -100}.WithDefaults()
	for _, tt := range []struct{ balance, held, cost, want int64 }{
		{10, 0, 92, 0},   // 10 - 92 = -82
		{10, 92, 92, 74}, // 10 - 184 = -174
		{0, 0, 100, 0},   // exactly the floor
		{0, 0, 101, 1},
	} {
		if got := r.Shortfall(5, tt.balance, tt.held, tt.cost); got != tt.want {
			t.Errorf("Shortfall(balance %d, held %d, cost %d) = %d, want %d", tt.balance, tt.held, tt.cost, got, tt.want)
		}
	}
	if r.Floor(0) != kudos.DefaultAnonymousFloor {
		t.Errorf("anonymous floor = %d", r.Floor(0))
	}
}

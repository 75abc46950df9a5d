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
		{"alchemy burn: the requester pays it, nobody earns it", func(s *kudos.JobSettlement) { s.Burn = 2 }, 10, 8, 8, 0},
		{"burn past the charge: the owner earns nothing", func(s *kudos.JobSettlement) { s.Burn = 2; s.Charge = 1 }, 1, 0, 0, 0},
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

// TestSettleJobStyleFee: a request's style fee moves from the requester to
// the style's creator with an ok result only, keyed by the request, and
// never to the requester themselves.
func TestSettleJobStyleFee(t *testing.T) {
	rules := kudos.PaymentRules{}.WithDefaults()
	base := kudos.JobSettlement{JobID: "j1", What: "image", RequesterID: 7, OwnerID: 9,
		Result: kudos.ResultOK, Cost: 10, Charge: 10, OwnerTrusted: true,
		Style: &kudos.StyleFee{RequestID: "r1", OwnerID: 3, Amount: kudos.StyleReward}}
	for _, tt := range []struct {
		name string
		mod  func(*kudos.JobSettlement)
		fee  int64
	}{
		{"ok: the creator earns the fee", func(*kudos.JobSettlement) {}, kudos.StyleReward},
		{"censored: no fee", func(s *kudos.JobSettlement) { s.Result = kudos.ResultCensored }, 0},
		{"one's own style: no fee", func(s *kudos.JobSettlement) { s.Style.OwnerID = 7 }, 0},
		{"paused worker: the creator still earns", func(s *kudos.JobSettlement) { s.Paused = true }, kudos.StyleReward},
		{"no style: no fee", func(s *kudos.JobSettlement) { s.Style = nil }, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			st := *base.Style
			s.Style = &st
			tt.mod(&s)
			p := rules.SettleJob(s)
			var paid, charged int64
			for _, e := range p.Entries {
				switch {
				case e.Kind == kudos.KindStyleReward:
					paid += e.Delta
					if e.UserID != 3 || e.Key != "style:r1:reward" || e.Ref != "r1" {
						t.Errorf("reward entry %+v", e)
					}
				case e.Kind == kudos.KindRequestCost && e.Key == "style:r1:fee":
					charged -= e.Delta
					if e.UserID != 7 || e.Floor != rules.MemberFloor {
						t.Errorf("fee entry %+v: want user 7 at their floor", e)
					}
				}
			}
			if paid != tt.fee || charged != tt.fee || p.StyleCharged != tt.fee {
				t.Errorf("fee paid %d, charged %d (%d); want %d", paid, charged, p.StyleCharged, tt.fee)
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

package kudos

import (
	"fmt"
	"time"
)

// Payments: what generation work costs and earns. These rules are the one
// answer to "where do kudos get paid?" for the scheduler: the horde asks
// them for the ledger entries of a finished job, an uptime slot or the
// check of a new request, and writes what they return in its own
// transaction. Awards, transfers and tallies are the Engine's.
//
// The economy they keep: a request's cost is held against its requester
// from the moment it is accepted (the hold is what their waiting and
// processing items will cost), so that nobody can queue more than their
// balance down to their floor covers, nor give away kudos their requests
// are already promised; a finished job charges the requester what the item
// costs (never past their floor) and pays the worker's owner what was
// charged, so no kudos come from nothing but uptime, awards and grants.

// Defaults of PaymentRules' zero values.
const (
	DefaultMemberFloor    int64 = -100
	DefaultAnonymousFloor int64 = -1_000_000_000
	DefaultUptimeBonus    int64 = 50
)

// PaymentRules tune the scheduler's payments. Zero values take the defaults
// (WithDefaults).
type PaymentRules struct {
	// MemberFloor is the lowest balance a member's requests may take them
	// to (default -100: a new member may generate before earning).
	MemberFloor int64
	// AnonymousFloor is the same for the shared anonymous user (default
	// -1e9, effectively unbounded: on a private horde anonymous use is the
	// horde's gift to its workers, as on the AI Horde).
	AnonymousFloor int64
	// EscrowPercent of an untrusted owner's generation rewards is held in
	// escrow until the owner is trusted (DefaultEscrowPercent is the AI
	// Horde's); 0 pays everything at once.
	EscrowPercent int
	// UptimeBonus is paid per uptime slot (10 online minutes) of a worker
	// that served in it (default 50); a negative value disables it.
	UptimeBonus int64
}

// WithDefaults fills in the defaults and clamps EscrowPercent to [0, 100].
func (p PaymentRules) WithDefaults() PaymentRules {
	if p.MemberFloor == 0 {
		p.MemberFloor = DefaultMemberFloor
	}
	if p.AnonymousFloor == 0 {
		p.AnonymousFloor = DefaultAnonymousFloor
	}
	if p.UptimeBonus == 0 {
		p.UptimeBonus = DefaultUptimeBonus
	}
	p.EscrowPercent = min(max(p.EscrowPercent, 0), 100)
	return p
}

// Floor is the lowest balance a user's requests may leave.
func (p PaymentRules) Floor(userID int64) int64 {
	if userID == anonymousID {
		return p.AnonymousFloor
	}
	return p.MemberFloor
}

// Shortfall is how many kudos a user lacks to queue a request costing cost
// while held kudos are already promised to their open requests: 0 when
// balance - held - cost stays at or above their floor.
func (p PaymentRules) Shortfall(userID, balance, held, cost int64) int64 {
	return max(p.Floor(userID)-(balance-held-cost), 0)
}

// Chargeable is how much of cost a requester with this balance can still be
// charged without going below their floor (their hold for this item
// normally guarantees all of it).
func (p PaymentRules) Chargeable(userID, balance, cost int64) int64 {
	return min(max(balance-p.Floor(userID), 0), cost)
}

// Job result states as the payments see them (the AI Horde's submit states).
const (
	ResultOK       = "ok"
	ResultCensored = "censored"
	ResultCSAM     = "csam"
)

// JobSettlement is what settling one finished job needs to know.
type JobSettlement struct {
	JobID string
	// What is the item's kind ("image", "text"), for the entries' reasons.
	What        string
	RequesterID int64
	// OwnerID is the worker's owner; negative when the worker is gone
	// (nobody is paid).
	OwnerID int64
	// Result is ResultOK, ResultCensored or ResultCSAM: only an ok result
	// moves kudos. A censored or CSAM result charges the requester nothing
	// and pays the reporting worker nothing, so that reporting never pays
	// and a requester never pays for what they did not get.
	Result string
	// Cost is the item's price; Charge what the requester can be charged
	// of it (Chargeable: normally Cost).
	Cost, Charge int64
	// Burn is the part of Cost that nobody earns: the AI Horde's horde
	// tax on an alchemy form (its kudos_burn), charged to the requester
	// and destroyed. The worker earns what was charged less Burn. Image
	// and text items have none (their tax is paid to the worker).
	Burn int64
	// Paused workers earn nothing (the requester still pays); an untrusted
	// owner's reward is partly held in escrow.
	Paused, OwnerTrusted bool
	// Style, when set, is the style fee of the job's request, paid with
	// its first ok result (StyleFee).
	Style *StyleFee
	At    time.Time
}

// StyleReward is what the creator of a style earns from each request that
// uses it and what that request's requester pays for it, as on the AI Horde
// (its apply_style: record_style(2) to the creator, 2 more kudos of horde
// tax to the requester); never for one's own style.
const StyleReward int64 = 2

// StyleFee is a request's payment to the creator of the style it used:
// Amount (StyleReward) from the requester to OwnerID. Its keys name the
// request, so that however many of its items finish, it is paid once.
type StyleFee struct {
	RequestID string
	OwnerID   int64
	Amount    int64
}

// JobPayout is the ledger side of a finished job.
type JobPayout struct {
	Entries []Entry
	Holds   []Hold
	// Reward is what the worker earned: paid at once plus held in escrow.
	Reward int64
	// Charged is what the requester paid for the item; StyleCharged what
	// they paid its style's creator (0 if nothing).
	Charged, StyleCharged int64
}

// SettleJob returns the entries and escrow holds of a finished job: the
// requester pays Charge (floored at their floor), the worker's owner earns
// what was charged, split by escrow; with a Style fee, the requester also
// pays the style's creator. Keys name the job (the fee's its request), so a
// retried submit never pays twice.
func (p PaymentRules) SettleJob(s JobSettlement) JobPayout {
	if s.Result != ResultOK {
		return JobPayout{}
	}
	var out JobPayout
	out.Charged = min(max(s.Charge, 0), s.Cost)
	if out.Charged > 0 {
		out.Entries = append(out.Entries, Entry{
			UserID: s.RequesterID, Delta: -out.Charged, Kind: KindRequestCost,
			Reason: fmt.Sprintf("%s request", s.What), Ref: s.JobID,
			Key: "job:" + s.JobID + ":cost", Floor: p.Floor(s.RequesterID), At: s.At,
		})
	}
	if f := s.Style; f != nil && f.Amount > 0 && f.OwnerID > 0 && f.OwnerID != s.RequesterID {
		out.Entries = append(out.Entries, Entry{
			UserID: s.RequesterID, Delta: -f.Amount, Kind: KindRequestCost,
			Reason: "style fee to its creator", Ref: f.RequestID,
			Key: "style:" + f.RequestID + ":fee", Floor: p.Floor(s.RequesterID), At: s.At,
		}, Entry{
			UserID: f.OwnerID, Delta: f.Amount, Kind: KindStyleReward,
			Reason: "styled: a request used your style", Ref: f.RequestID,
			Key: "style:" + f.RequestID + ":reward", Floor: NoFloor, At: s.At,
		})
		out.StyleCharged = f.Amount
	}
	if s.Paused || s.OwnerID < 0 {
		return out
	}
	out.Reward = out.Charged - min(max(s.Burn, 0), out.Charged)
	paid, held := out.Reward, int64(0)
	if !s.OwnerTrusted {
		paid, held = SplitReward(out.Reward, p.EscrowPercent)
	}
	if paid > 0 {
		out.Entries = append(out.Entries, Entry{
			UserID: s.OwnerID, Delta: paid, Kind: KindGeneration,
			Reason: fmt.Sprintf("%s generation", s.What), Ref: s.JobID,
			Key: "job:" + s.JobID + ":reward", Floor: NoFloor, At: s.At,
		})
	}
	if held > 0 {
		out.Holds = []Hold{{UserID: s.OwnerID, Amount: held, Ref: s.JobID, Key: "job:" + s.JobID + ":escrow", At: s.At}}
	}
	return out
}

// UptimeEntry is the bonus for one uptime slot of a worker (numbered from 1
// since the worker first came online); its key names the worker and the
// slot, so a slot is never paid twice, even across restarts. ok is false
// when uptime bonuses are disabled.
func (p PaymentRules) UptimeEntry(ownerID int64, workerID string, slot int64, at time.Time) (e Entry, ok bool) {
	if p.UptimeBonus <= 0 {
		return Entry{}, false
	}
	return Entry{
		UserID: ownerID, Delta: p.UptimeBonus, Kind: KindUptime,
		Reason: "worker uptime: 10 minutes online", Ref: workerID,
		Key: fmt.Sprintf("uptime:%s:%d", workerID, slot), Floor: NoFloor, At: at,
	}, true
}

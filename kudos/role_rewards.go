package kudos

import (
	"fmt"
	"slices"
	"time"
)

// RoleRewards maps what members have done to Discord roles they hold while
// they qualify (the bot gives and takes them: bot/role_rewards.go). Each
// threshold role is independent: a member holds every one they meet, so
// tiers stack as on YAGPDB and MEE6. The zero value rewards nothing.
type RoleRewards struct {
	// Roles are the kudos thresholds.
	Roles []RoleReward `json:"roles"`
	// WorkerOwnerRoleID is held by members with a worker online.
	WorkerOwnerRoleID string `json:"worker_owner_role_id"`
	// TrustedRoleID is held by trusted members (their workers serve
	// trusted-only requests and earn without escrow).
	TrustedRoleID string `json:"trusted_role_id"`
	// LevelUpChannelID, if set, is where the bot congratulates a member
	// who reaches a threshold role.
	LevelUpChannelID string `json:"level_up_channel_id"`
	// ReconcileEvery is how often every member of every guild is checked
	// (default 10m); members whose kudos change are checked within seconds.
	ReconcileEvery Duration `json:"reconcile_every"`
}

// RoleReward is one threshold role: MinBalance on the balance now, or
// MinEarned on all-time earnings (positive entries of Kinds; empty Kinds
// is EarningKinds). Exactly one of the two is set.
type RoleReward struct {
	RoleID     string      `json:"role_id"`
	MinBalance int64       `json:"min_balance"`
	MinEarned  int64       `json:"min_earned"`
	Kinds      []EntryKind `json:"kinds"`
}

// EarningKinds are the entries that count as earned: what a member's work,
// art, help and moderation brought in. Transfers, costs and moderators'
// adjustments are not earnings.
var EarningKinds = []EntryKind{
	KindGeneration, KindUptime, KindAwardHelpful, KindAwardModeration, KindAwardArt,
	KindRecurring, KindEscrow, KindRating, KindStyleReward,
}

// MemberStanding is what the role rewards look at for one member.
type MemberStanding struct {
	UserID       int64 // the horde user
	Balance      int64
	Earned       map[EntryKind]int64 // all-time sum of positive entries, per kind
	OnlineWorker bool
	Trusted      bool
}

// Enabled reports whether any role is rewarded.
func (r RoleRewards) Enabled() bool {
	return len(r.Roles) > 0 || r.WorkerOwnerRoleID != "" || r.TrustedRoleID != ""
}

// Every is ReconcileEvery with its default.
func (r RoleRewards) Every() time.Duration {
	if r.ReconcileEvery <= 0 {
		return 10 * time.Minute
	}
	return time.Duration(r.ReconcileEvery)
}

// Validate checks the thresholds: a role id each, one threshold each, no
// role twice, known kinds.
func (r RoleRewards) Validate() error {
	seen := map[string]bool{}
	for i, rr := range r.Roles {
		if rr.RoleID == "" {
			return fmt.Errorf("role_rewards.roles[%d]: role_id is required", i)
		}
		if (rr.MinBalance > 0) == (rr.MinEarned > 0) {
			return fmt.Errorf("role_rewards.roles[%d] (role %s): set one of min_balance and min_earned, above 0", i, rr.RoleID)
		}
		if rr.MinBalance > 0 && len(rr.Kinds) > 0 {
			return fmt.Errorf("role_rewards.roles[%d] (role %s): kinds go with min_earned, not min_balance", i, rr.RoleID)
		}
		for _, k := range rr.Kinds {
			if !slices.Contains(EarningKinds, k) {
				return fmt.Errorf("role_rewards.roles[%d] (role %s): %q is not an earning kind (one of %v)", i, rr.RoleID, k, EarningKinds)
			}
		}
		if seen[rr.RoleID] {
			return fmt.Errorf("role_rewards.roles[%d]: role %s is listed twice", i, rr.RoleID)
		}
		seen[rr.RoleID] = true
	}
	if r.WorkerOwnerRoleID != "" && r.WorkerOwnerRoleID == r.TrustedRoleID {
		return fmt.Errorf("role_rewards: worker_owner_role_id and trusted_role_id are the same role")
	}
	for _, id := range []string{r.WorkerOwnerRoleID, r.TrustedRoleID} {
		if id != "" && seen[id] {
			return fmt.Errorf("role_rewards: role %s is both a threshold role and the worker-owner or trusted role", id)
		}
	}
	return nil
}

// Managed are the role ids the rewards give and take: nothing else of a
// member's roles is touched.
func (r RoleRewards) Managed() []string {
	var ids []string
	for _, rr := range r.Roles {
		ids = append(ids, rr.RoleID)
	}
	for _, id := range []string{r.WorkerOwnerRoleID, r.TrustedRoleID} {
		if id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// Wanted says, for every managed role, whether a member of standing m
// should hold it.
func (r RoleRewards) Wanted(m MemberStanding) map[string]bool {
	out := make(map[string]bool, len(r.Roles)+2)
	for _, rr := range r.Roles {
		out[rr.RoleID] = rr.Qualifies(m)
	}
	if r.WorkerOwnerRoleID != "" {
		out[r.WorkerOwnerRoleID] = m.OnlineWorker
	}
	if r.TrustedRoleID != "" {
		out[r.TrustedRoleID] = m.Trusted
	}
	return out
}

// Threshold returns the threshold role with id, if it is one.
func (r RoleRewards) Threshold(id string) (RoleReward, bool) {
	i := slices.IndexFunc(r.Roles, func(rr RoleReward) bool { return rr.RoleID == id })
	if i < 0 {
		return RoleReward{}, false
	}
	return r.Roles[i], true
}

// Qualifies reports whether a member of standing m meets the threshold.
func (rr RoleReward) Qualifies(m MemberStanding) bool {
	if rr.MinBalance > 0 {
		return m.Balance >= rr.MinBalance
	}
	return rr.EarnedBy(m) >= rr.MinEarned
}

// EarnedBy is what counts toward MinEarned in m.
func (rr RoleReward) EarnedBy(m MemberStanding) int64 {
	kinds := rr.Kinds
	if len(kinds) == 0 {
		kinds = EarningKinds
	}
	var sum int64
	for _, k := range kinds {
		sum += m.Earned[k]
	}
	return sum
}

// Describe is the threshold in words, for the level-up post.
func (rr RoleReward) Describe(m MemberStanding) string {
	if rr.MinBalance > 0 {
		return fmt.Sprintf("%d kudos (needs %d)", m.Balance, rr.MinBalance)
	}
	return fmt.Sprintf("%d kudos earned (needs %d)", rr.EarnedBy(m), rr.MinEarned)
}

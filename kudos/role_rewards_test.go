package kudos_test

import (
	"strings"
	"testing"

	"github.com/hordebot/hordebot/kudos"
)

func TestRoleRewardsValidate(t *testing.T) {
	tests := []struct {
		name    string
		r       kudos.RoleRewards
		wantErr string
	}{
		{"empty", kudos.RoleRewards{}, ""},
		{"balance and earned tiers", kudos.RoleRewards{Roles: []kudos.RoleReward{
			{RoleID: "1", MinBalance: 100}, {RoleID: "2", MinEarned: 50, Kinds: []kudos.EntryKind{kudos.KindAwardArt}},
		}, WorkerOwnerRoleID: "3", TrustedRoleID: "4"}, ""},
		{"no role id", kudos.RoleRewards{Roles: []kudos.RoleReward{{MinBalance: 1}}}, "role_id is required"},
		{"no threshold", kudos.RoleRewards{Roles: []kudos.RoleReward{{RoleID: "1"}}}, "set one of min_balance and min_earned"},
		{"both thresholds", kudos.RoleRewards{Roles: []kudos.RoleReward{{RoleID: "1", MinBalance: 1, MinEarned: 1}}}, "set one of"},
		{"kinds with a balance", kudos.RoleRewards{Roles: []kudos.RoleReward{{RoleID: "1", MinBalance: 1, Kinds: []kudos.EntryKind{kudos.KindAwardArt}}}}, "kinds go with min_earned"},
		{"transfers are no earnings", kudos.RoleRewards{Roles: []kudos.RoleReward{{RoleID: "1", MinEarned: 1, Kinds: []kudos.EntryKind{kudos.KindTransfer}}}}, `"transfer" is not an earning kind`},
		{"a role twice", kudos.RoleRewards{Roles: []kudos.RoleReward{{RoleID: "1", MinBalance: 1}, {RoleID: "1", MinBalance: 2}}}, "listed twice"},
		{"a tier is the trusted role", kudos.RoleRewards{Roles: []kudos.RoleReward{{RoleID: "1", MinBalance: 1}}, TrustedRoleID: "1"}, "both a threshold role"},
		{"worker owner is trusted", kudos.RoleRewards{WorkerOwnerRoleID: "3", TrustedRoleID: "3"}, "the same role"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.r.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want an error with %q", err, tt.wantErr)
			}
		})
	}
}

func TestRoleRewardsWanted(t *testing.T) {
	r := kudos.RoleRewards{Roles: []kudos.RoleReward{
		{RoleID: "rich", MinBalance: 100},
		{RoleID: "earner", MinEarned: 50},
		{RoleID: "artist", MinEarned: 20, Kinds: []kudos.EntryKind{kudos.KindAwardArt}},
	}, WorkerOwnerRoleID: "owner", TrustedRoleID: "trusted"}
	tests := []struct {
		name string
		m    kudos.MemberStanding
		want []string
	}{
		{"nothing", kudos.MemberStanding{}, nil},
		{"exactly the balance", kudos.MemberStanding{Balance: 100}, []string{"rich"}},
		{"one short", kudos.MemberStanding{Balance: 99}, nil},
		{"earnings of every kind add up", kudos.MemberStanding{Earned: map[kudos.EntryKind]int64{kudos.KindGeneration: 30, kudos.KindAwardHelpful: 20}}, []string{"earner"}},
		{"transfers in are not earned", kudos.MemberStanding{Balance: 60, Earned: map[kudos.EntryKind]int64{kudos.KindTransfer: 500}}, nil},
		{"art only for the artist", kudos.MemberStanding{Earned: map[kudos.EntryKind]int64{kudos.KindGeneration: 40, kudos.KindAwardArt: 20}}, []string{"earner", "artist"}},
		{"a worker online and trust", kudos.MemberStanding{OnlineWorker: true, Trusted: true}, []string{"owner", "trusted"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := r.Wanted(tt.m)
			if len(got) != len(r.Managed()) {
				t.Fatalf("Wanted covers %d roles, want every managed one (%d)", len(got), len(r.Managed()))
			}
			for _, id := range r.Managed() {
				want := false
				for _, w := range tt.want {
					want = want || w == id
				}
				if got[id] != want {
					t.Errorf("role %s wanted = %v, want %v", id, got[id], want)
				}
			}
		})
	}
}

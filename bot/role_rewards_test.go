package bot_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/bottest"
	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/kudos"
)

// roleGuild is the harness's guild with reward roles: Supporter (a balance
// of 50), Artist (20 earned from art), Worker owner, Trusted, hordebot's own
// role (Manage Roles, placed above those four) and Legend (1000 kudos),
// placed above hordebot's role so that Discord refuses it.
type roleGuild struct {
	*harness
	supporter, artist, owner, trusted, botRole, legend *discordgo.Role
}

func newRoleGuild(t *testing.T, botPerms int64) *roleGuild {
	t.Helper()
	h := bottest.NewUnstarted(t)
	g := &roleGuild{harness: h}
	role := func(name string, perms int64) *discordgo.Role {
		r, err := h.Srv.AddRole(h.Guild.ID, discordgo.Role{Name: name, Permissions: perms})
		must(t, err)
		return r
	}
	g.supporter, g.artist, g.owner, g.trusted = role("Supporter", 0), role("Artist", 0), role("Worker owner", 0), role("Trusted", 0)
	g.botRole = role("hordebot", botPerms)
	g.legend = role("Legend", 0)
	must(t, h.Srv.SetMemberRoles(h.Guild.ID, h.Srv.BotUser().ID, []string{g.botRole.ID}))
	h.Cfg.RoleRewards = kudos.RoleRewards{
		Roles: []kudos.RoleReward{
			{RoleID: g.supporter.ID, MinBalance: 50},
			{RoleID: g.artist.ID, MinEarned: 20, Kinds: []kudos.EntryKind{kudos.KindAwardArt}},
			{RoleID: g.legend.ID, MinBalance: 1000},
		},
		WorkerOwnerRoleID: g.owner.ID, TrustedRoleID: g.trusted.ID,
		LevelUpChannelID: h.General.ID, ReconcileEvery: kudos.Duration(time.Hour),
	}
	return g
}

// give applies a ledger entry to a member.
func (g *roleGuild) give(u *discordgo.User, delta int64, kind kudos.EntryKind, key string) {
	g.T.Helper()
	_, err := g.Store.Apply(g.Ctx, kudos.Entry{UserID: g.User(u).ID, Delta: delta, Kind: kind, Key: key, Floor: kudos.NoFloor})
	must(g.T, err)
}

// waitRoleCall waits for the bot's PUT (add) or DELETE of a role on a member.
func (g *roleGuild) waitRoleCall(method string, u *discordgo.User, r *discordgo.Role) {
	g.T.Helper()
	_, err := g.Srv.WaitFor(g.Ctx, func(rc discordtest.Recorded) bool {
		return rc.Method == method && rc.Route == method+" /guilds/{guild}/members/{user}/roles/{role}" &&
			rc.Params["user"] == u.ID && rc.Params["role"] == r.ID
	})
	if err != nil {
		g.T.Fatalf("no %s of role %s for %s: %v", method, r.Name, u.Username, err)
	}
}

func (g *roleGuild) roles(u *discordgo.User) []string {
	m, ok := g.Srv.Member(g.Guild.ID, u.ID)
	if !ok {
		g.T.Fatalf("%s is no member", u.Username)
	}
	return m.Roles
}

func (g *roleGuild) wantRoles(u *discordgo.User, want map[*discordgo.Role]bool) {
	g.T.Helper()
	has := g.roles(u)
	for r, w := range want {
		if slices.Contains(has, r.ID) != w {
			g.T.Errorf("%s holds %s = %v, want %v (roles %v)", u.Username, r.Name, !w, w, has)
		}
	}
}

// TestRoleRewards: at start every member gets the roles they qualify for
// (and a level-up post for threshold roles), a role above the bot's is
// reported once in the audit channel and never attempted, and a member whose
// kudos drop loses the role within seconds, without a post.
func TestRoleRewards(t *testing.T) {
	g := newRoleGuild(t, discordgo.PermissionManageRoles)
	g.give(g.Alice, 60, kudos.KindAdmin, "alice-60")
	g.give(g.Bob, 25, kudos.KindAwardArt, "bob-art")
	g.give(g.Bob, 500, kudos.KindTransfer, "bob-transfer-in") // counts for the balance, not as earned
	mod := g.User(g.Mod)
	mod.Moderator = true
	_, err := g.Horde.SetTrusted(g.Ctx, mod, g.User(g.Bob).ID, true, "runs a good worker")
	must(t, err)
	worker := g.MemberWorker(g.Bob, "bobs-gpu")
	g.PopImages(worker, "bobs-gpu") // online now
	g.Start()

	g.waitRoleCall("PUT", g.Alice, g.supporter)
	g.waitRoleCall("PUT", g.Bob, g.artist)
	g.waitRoleCall("PUT", g.Bob, g.owner)
	g.waitRoleCall("PUT", g.Bob, g.trusted)
	g.AuditLine("Legend", "above hordebot's own highest role")

	g.wantRoles(g.Alice, map[*discordgo.Role]bool{g.supporter: true, g.artist: false, g.owner: false, g.trusted: false, g.legend: false})
	g.wantRoles(g.Bob, map[*discordgo.Role]bool{g.supporter: true, g.artist: true, g.owner: true, g.trusted: true, g.legend: false})
	g.wantRoles(g.Mod, map[*discordgo.Role]bool{g.supporter: false, g.artist: false})
	if r := g.roles(g.Mod); !slices.Contains(r, g.ModRole.ID) {
		t.Errorf("the moderator lost a role the rewards do not manage: %v", r)
	}

	post, err := g.Srv.WaitForMessage(g.Ctx, g.General.ID, func(m discordtest.Message) bool {
		return strings.Contains(m.Content, "<@"+g.Alice.ID+">") && strings.Contains(m.Content, "**Supporter**")
	})
	must(t, err)
	wantContains(t, post.Content, "60 kudos (needs 50)")
	if _, err := g.Srv.WaitForMessage(g.Ctx, g.General.ID, func(m discordtest.Message) bool {
		return strings.Contains(m.Content, "<@"+g.Bob.ID+">") && strings.Contains(m.Content, "**Artist**: 25 kudos earned (needs 20)")
	}); err != nil {
		t.Fatalf("no level-up post for bob's Artist role: %v", err)
	}
	for _, m := range g.Srv.Messages(g.General.ID) {
		if strings.Contains(m.Content, "Worker owner") || strings.Contains(m.Content, "Trusted") || strings.Contains(m.Content, "Legend") {
			t.Errorf("level-up post for a role that is no threshold, or was never given: %q", m.Content)
		}
	}
	for _, rc := range g.Srv.Requests() {
		if rc.Params["role"] == g.legend.ID {
			t.Errorf("the bot tried %s on Legend, a role above its own", rc.Method)
		}
	}

	// Alice spends: within seconds, not at the next full pass, Supporter goes.
	posts := len(g.Srv.Messages(g.General.ID))
	g.give(g.Alice, -30, kudos.KindRequestCost, "alice-spends")
	g.waitRoleCall("DELETE", g.Alice, g.supporter)
	g.wantRoles(g.Alice, map[*discordgo.Role]bool{g.supporter: false})
	if n := len(g.Srv.Messages(g.General.ID)); n != posts {
		t.Errorf("losing a role posted %d messages", n-posts)
	}
	if n := len(g.Srv.Messages(g.Audit.ID)); n != 1 {
		t.Errorf("audit channel has %d messages, want the one about Legend", n)
	}
}

// TestRoleRewardsWithoutManageRoles: a bot without Manage Roles says so
// once, in the audit channel, and attempts no role change.
func TestRoleRewardsWithoutManageRoles(t *testing.T) {
	g := newRoleGuild(t, 0)
	g.give(g.Alice, 60, kudos.KindAdmin, "alice-60")
	g.Start()
	g.AuditLine("lacks the **Manage Roles** permission")
	g.give(g.Alice, 10, kudos.KindAdmin, "alice-70") // another pass for alice
	// The pass for alice's change reads the guild's roles a second time.
	if _, err := g.Srv.WaitForN(g.Ctx, 2, func(rc discordtest.Recorded) bool {
		return rc.Route == "GET /guilds/{guild}/roles"
	}); err != nil {
		t.Fatalf("alice's change was not looked at: %v", err)
	}
	for _, rc := range g.Srv.Requests() {
		if strings.HasSuffix(rc.Route, "/roles/{role}") {
			t.Errorf("role change attempted without Manage Roles: %s %s", rc.Method, rc.Path)
		}
	}
	if n := len(g.Srv.Messages(g.Audit.ID)); n != 1 {
		t.Errorf("audit channel has %d messages, want 1", n)
	}
}

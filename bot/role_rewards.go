package bot

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/kudos"
)

// RoleStandings is what the role rewards read of the members' kudos;
// *store.Store satisfies it. Worker presence comes from the horde.
type RoleStandings interface {
	// MemberStandings returns the standing of the Discord members with a
	// horde account among discordIDs (OnlineWorker unset); the others are absent.
	MemberStandings(ctx context.Context, discordIDs []string) (map[string]kudos.MemberStanding, error)
	// KudosChangedSince returns the Discord ids of members with a ledger
	// entry after cursor (at most limit entries read) and the next cursor;
	// a cursor below 0 asks only for the current end of the ledger.
	KudosChangedSince(ctx context.Context, cursor int64, limit int) ([]string, int64, error)
}

// roleChangesEvery is how often the role rewards look for members whose
// kudos changed; roleChangesBatch how many ledger entries one look reads.
const (
	roleChangesEvery = 5 * time.Second
	roleChangesBatch = 2000
)

// roleRewards gives and takes the configured reward roles
// (kudos.RoleRewards): every member of the guilds this process's shards
// own is checked every ReconcileEvery, and members whose kudos changed
// within seconds. It touches only the roles it manages, says once per guild
// (log and audit channel) when it lacks Manage Roles or a role sits above
// its own, and congratulates members in the level-up channel when they
// reach a threshold role.
type roleRewards struct {
	b     *Bot
	cfg   kudos.RoleRewards
	src   RoleStandings
	every time.Duration

	mu     sync.Mutex
	warned map[string]bool // problems already reported, by guild and cause
}

// guildRoles is what one pass knows of a guild: the managed roles that
// exist there and that the bot may give, and their names.
type guildRoles struct {
	id        string
	manage    []string
	names     map[string]string
	canManage bool
}

func (b *Bot) startRoleRewards(ctx context.Context) {
	if !b.cfg.RoleRewards.Enabled() || b.deps.Roles == nil {
		return
	}
	rr := &roleRewards{b: b, cfg: b.cfg.RoleRewards, src: b.deps.Roles, every: b.cfg.RoleRewards.Every(), warned: map[string]bool{}}
	b.background.Add(1)
	go func() {
		defer b.background.Done()
		rr.run(ctx)
	}()
}

// run reconciles every member at once and then every rr.every, and the
// members whose kudos changed every few seconds, until ctx ends.
func (rr *roleRewards) run(ctx context.Context) {
	_, cursor, err := rr.src.KudosChangedSince(ctx, -1, 0)
	if err != nil {
		rr.b.log.Error("role rewards: read the ledger's end", "err", err)
	}
	full := time.NewTicker(rr.every)
	defer full.Stop()
	changes := time.NewTicker(roleChangesEvery)
	defer changes.Stop()
	rr.reconcileAll(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case <-full.C:
			rr.reconcileAll(ctx)
		case <-changes.C:
			var ids []string
			ids, cursor, err = rr.src.KudosChangedSince(ctx, cursor, roleChangesBatch)
			if err != nil {
				rr.b.log.Error("role rewards: members whose kudos changed", "err", err)
				continue
			}
			if len(ids) > 0 {
				rr.reconcileMembers(ctx, ids)
			}
		}
	}
}

// ownedGuilds are the guilds whose roles this process manages: those its
// gateway shards own (a failure to list them is logged: none this pass).
func (rr *roleRewards) ownedGuilds(ctx context.Context, s *discordgo.Session) []string {
	guilds, err := rr.b.guilds(ctx, s)
	if err != nil {
		rr.b.log.Error("role rewards: list guilds", "err", err)
		return nil
	}
	var owned []string
	for _, g := range guilds {
		if rr.b.ownsGuild(g) {
			owned = append(owned, g)
		}
	}
	return owned
}

// reconcileAll checks every human member of every guild this process owns.
func (rr *roleRewards) reconcileAll(ctx context.Context) {
	s := rr.b.sess()
	for _, g := range rr.ownedGuilds(ctx, s) {
		if err := rr.reconcileGuild(ctx, s, g); err != nil && ctx.Err() == nil {
			rr.b.log.Error("role rewards: reconcile guild", "guild", g, "err", err)
		}
	}
}

func (rr *roleRewards) reconcileGuild(ctx context.Context, s *discordgo.Session, guildID string) error {
	gr, err := rr.guildRoles(ctx, s, guildID)
	if err != nil || len(gr.manage) == 0 {
		return err
	}
	after := ""
	for {
		var page []*discordgo.Member
		err := rr.b.cfg.Retry.Do(ctx, "list guild members", func(opts ...discordgo.RequestOption) error {
			var err error
			page, err = s.GuildMembers(guildID, after, memberPage, opts...)
			return err
		})
		if err != nil {
			return fmt.Errorf("members of guild %s: %w", guildID, err)
		}
		if len(page) > 0 {
			after = page[len(page)-1].User.ID
		}
		if err := rr.applyMembers(ctx, s, gr, page); err != nil {
			return err
		}
		if len(page) < memberPage {
			return nil
		}
	}
}

// reconcileMembers checks the given members in every guild this process owns.
func (rr *roleRewards) reconcileMembers(ctx context.Context, discordIDs []string) {
	s := rr.b.sess()
	for _, g := range rr.ownedGuilds(ctx, s) {
		gr, err := rr.guildRoles(ctx, s, g)
		if err != nil {
			rr.b.log.Error("role rewards: roles of guild", "guild", g, "err", err)
			continue
		}
		if len(gr.manage) == 0 {
			continue
		}
		var members []*discordgo.Member
		for _, id := range discordIDs {
			var m *discordgo.Member
			err := rr.b.cfg.Retry.Do(ctx, "get guild member", func(opts ...discordgo.RequestOption) error {
				var err error
				m, err = s.GuildMember(g, id, opts...)
				return err
			})
			if interact.IsNotFound(err) {
				continue // not a member of this guild
			}
			if err != nil {
				rr.b.log.Error("role rewards: get member", "guild", g, "member", id, "err", err)
				continue
			}
			members = append(members, m)
		}
		if err := rr.applyMembers(ctx, s, gr, members); err != nil {
			rr.b.log.Error("role rewards: apply", "guild", g, "err", err)
		}
	}
}

// applyMembers gives and takes the managed roles of a page of members.
func (rr *roleRewards) applyMembers(ctx context.Context, s *discordgo.Session, gr guildRoles, members []*discordgo.Member) error {
	ids := make([]string, 0, len(members))
	for _, m := range members {
		if m.User != nil && !m.User.Bot {
			ids = append(ids, m.User.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	standings, err := rr.src.MemberStandings(ctx, ids)
	if err != nil {
		return fmt.Errorf("standings of %d members: %w", len(ids), err)
	}
	if rr.cfg.WorkerOwnerRoleID != "" {
		if err := rr.markOnlineOwners(ctx, standings); err != nil {
			return err
		}
	}
	for _, m := range members {
		if m.User == nil || m.User.Bot {
			continue
		}
		st := standings[m.User.ID] // no account: nothing earned, nothing held
		want := rr.cfg.Wanted(st)
		for _, role := range gr.manage {
			has := slices.Contains(m.Roles, role)
			if want[role] == has {
				continue
			}
			if err := rr.change(ctx, s, gr, m.User.ID, role, want[role]); err != nil {
				if errors.Is(err, errMissingPermissions) {
					return nil // reported; the next pass tries again
				}
				rr.b.log.Error("role rewards: change role", "guild", gr.id, "member", m.User.ID, "role", role, "err", err)
				continue
			}
			if want[role] {
				rr.levelUp(ctx, s, gr, m.User.ID, role, st)
			}
		}
	}
	return nil
}

// markOnlineOwners sets OnlineWorker in the standings of members with a
// worker online now.
func (rr *roleRewards) markOnlineOwners(ctx context.Context, standings map[string]kudos.MemberStanding) error {
	workers, err := rr.b.deps.Horde.Workers(ctx, "")
	if err != nil {
		return fmt.Errorf("workers online: %w", err)
	}
	now := rr.b.cfg.Clock.Now()
	online := map[int64]bool{}
	for _, w := range workers {
		if w.Online(now) {
			online[w.OwnerID] = true
		}
	}
	for id, st := range standings {
		st.OnlineWorker = online[st.UserID]
		standings[id] = st
	}
	return nil
}

// errMissingPermissions is a role change Discord refused for the bot's
// permissions (code 50013): reported once, not per member.
var errMissingPermissions = errors.New("missing permissions")

func (rr *roleRewards) change(ctx context.Context, s *discordgo.Session, gr guildRoles, userID, role string, add bool) error {
	what := "remove reward role"
	if add {
		what = "add reward role"
	}
	opts := []discordgo.RequestOption{discordgo.WithAuditLogReason("hordebot role rewards")}
	err := rr.b.cfg.Retry.Do(ctx, what, func(ro ...discordgo.RequestOption) error {
		ro = append(ro, opts...)
		if add {
			return s.GuildMemberRoleAdd(gr.id, userID, role, ro...)
		}
		return s.GuildMemberRoleRemove(gr.id, userID, role, ro...)
	})
	if interact.RESTCode(err) == discordgo.ErrCodeMissingPermissions {
		rr.warn(gr.id, "perm:"+role, "rewards.warn.refused", locale.Args{"Role": roleLabel(gr, role)})
		return errMissingPermissions
	}
	if err != nil {
		return err
	}
	rr.b.log.Info("role rewards: role changed", "guild", gr.id, "member", userID, "role", role, "added", add)
	return nil
}

// levelUp congratulates a member who reached a threshold role; the
// worker-owner and trusted roles pass quietly.
func (rr *roleRewards) levelUp(ctx context.Context, s *discordgo.Session, gr guildRoles, userID, role string, st kudos.MemberStanding) {
	t, ok := rr.cfg.Threshold(role)
	if !ok || rr.cfg.LevelUpChannelID == "" {
		return
	}
	p := rr.b.guildPrinter(gr.id)
	why := p.T("rewards.levelup.earned", locale.Args{"Kudos": t.EarnedBy(st), "Needs": t.MinEarned})
	if t.MinBalance > 0 {
		why = p.T("rewards.levelup.balance", locale.Args{"Kudos": st.Balance, "Needs": t.MinBalance})
	}
	msg := &discordgo.MessageSend{
		Content:         "🎉 " + p.T("rewards.levelup", locale.Args{"Member": userID, "Role": gr.names[role], "Why": why}),
		AllowedMentions: &discordgo.MessageAllowedMentions{Users: []string{userID}},
	}
	err := rr.b.cfg.Retry.Do(ctx, "post level-up", func(opts ...discordgo.RequestOption) error {
		_, err := s.ChannelMessageSendComplex(rr.cfg.LevelUpChannelID, msg, opts...)
		return err
	})
	if err != nil {
		rr.b.log.Error("role rewards: level-up post", "channel", rr.cfg.LevelUpChannelID, "member", userID, "err", err)
	}
}

// guildRoles reads a guild's roles and the bot's standing in it: the
// managed roles that exist there and sit below the bot's highest role. Each
// problem (no Manage Roles, a role above the bot's) is said once.
func (rr *roleRewards) guildRoles(ctx context.Context, s *discordgo.Session, guildID string) (guildRoles, error) {
	gr := guildRoles{id: guildID, names: map[string]string{}}
	var (
		g     *discordgo.Guild
		roles []*discordgo.Role
		me    *discordgo.Member
	)
	botID := rr.b.selfID(s)
	err := rr.b.cfg.Retry.Do(ctx, "read guild roles", func(opts ...discordgo.RequestOption) error {
		var err error
		if g, err = s.Guild(guildID, opts...); err != nil {
			return err
		}
		if roles, err = s.GuildRoles(guildID, opts...); err != nil {
			return err
		}
		me, err = s.GuildMember(guildID, botID, opts...)
		return err
	})
	if err != nil {
		return gr, fmt.Errorf("roles of guild %s: %w", guildID, err)
	}
	byID := map[string]*discordgo.Role{}
	for _, r := range roles {
		byID[r.ID] = r
		gr.names[r.ID] = r.Name
	}
	var perms int64
	highest := 0
	if r := byID[guildID]; r != nil {
		perms |= r.Permissions // @everyone
	}
	for _, id := range me.Roles {
		if r := byID[id]; r != nil {
			perms |= r.Permissions
			highest = max(highest, r.Position)
		}
	}
	owner := g.OwnerID == botID
	gr.canManage = owner || perms&(discordgo.PermissionManageRoles|discordgo.PermissionAdministrator) != 0
	var present []string
	for _, id := range rr.cfg.Managed() {
		if byID[id] != nil {
			present = append(present, id)
		}
	}
	if len(present) == 0 {
		return gr, nil // the configured roles belong to other guilds
	}
	if !gr.canManage {
		rr.warn(guildID, "manage_roles", "rewards.warn.manage_roles", nil)
		return gr, nil
	}
	var above []string
	for _, id := range present {
		if !owner && byID[id].Position >= highest {
			above = append(above, "**"+byID[id].Name+"**")
			continue
		}
		gr.manage = append(gr.manage, id)
	}
	if len(above) > 0 {
		rr.warn(guildID, "above:"+strings.Join(above, ","), "rewards.warn.above",
			locale.Args{"Roles": strings.Join(above, ", "), locale.CountArg: len(above)})
	}
	return gr, nil
}

// warn says a problem once per process: in the log (in English) and the
// audit channel (in the guild's language). msg is the catalog key of the
// problem, data its values.
func (rr *roleRewards) warn(guildID, cause, msg string, data locale.Args) {
	rr.mu.Lock()
	key := guildID + "/" + cause
	seen := rr.warned[key]
	rr.warned[key] = true
	rr.mu.Unlock()
	if seen {
		return
	}
	rr.b.log.Warn(locale.Default().English().T(msg, data), "guild", guildID)
	rr.b.audit.post(rr.b.guildPrinter(guildID).T(msg, data))
}

func roleLabel(gr guildRoles, id string) string {
	if n := gr.names[id]; n != "" {
		return "**" + n + "**"
	}
	return id
}

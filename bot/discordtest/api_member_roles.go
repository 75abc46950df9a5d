package discordtest

import (
	"net/http"
	"slices"

	"github.com/bwmarrin/discordgo"
)

var (
	errUnknownRole        = errUnknown("Role", 10011)
	errMissingPermissions = &apiError{Status: http.StatusForbidden, Code: 50013, Message: "Missing Permissions"}
)

// putMemberRole answers PUT /guilds/{guild}/members/{user}/roles/{role}
// and deleteMemberRole its DELETE, as Discord does: the bot needs Manage
// Roles, and may only give or take roles below its own highest role (the
// guild owner excepted); @everyone is no role to give. A change dispatches
// GUILD_MEMBER_UPDATE (Server Members intent); giving a role the member
// has, or taking one it lacks, changes nothing and is 204 all the same.
func (s *Server) putMemberRole(r *http.Request, _ *reqBody) (any, *apiError) {
	return s.changeMemberRole(r, true)
}

func (s *Server) deleteMemberRole(r *http.Request, _ *reqBody) (any, *apiError) {
	return s.changeMemberRole(r, false)
}

func (s *Server) changeMemberRole(r *http.Request, add bool) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs, aerr := s.guildFor(r)
	if aerr != nil {
		return nil, aerr
	}
	m, ok := gs.members[r.PathValue("user")]
	if !ok {
		return nil, errUnknownMember
	}
	rid := r.PathValue("role")
	role := findRole(gs, rid)
	if role == nil || rid == gs.guild.ID {
		return nil, errUnknownRole
	}
	if aerr := s.mayManageRoleLocked(gs, role); aerr != nil {
		return nil, aerr
	}
	has := slices.Contains(m.Roles, rid)
	switch {
	case add && !has:
		m.Roles = append(m.Roles, rid)
	case !add && has:
		m.Roles = slices.DeleteFunc(m.Roles, func(id string) bool { return id == rid })
	default:
		return nil, nil
	}
	s.bumpLocked()
	upd := s.memberJSONLocked(gs, m.User.ID)
	_ = s.dispatchLocked(dispatch{typ: "GUILD_MEMBER_UPDATE", data: upd, intents: discordgo.IntentGuildMembers, guild: gs.guild.ID})
	return nil, nil
}

// mayManageRoleLocked is Discord's check that the bot may give or take
// role: Manage Roles (or Administrator), and role below the bot's highest.
func (s *Server) mayManageRoleLocked(gs *guildState, role *discordgo.Role) *apiError {
	bot, ok := gs.members[s.bot.ID]
	if !ok {
		return errMissingPermissions
	}
	if s.bot.ID == gs.guild.OwnerID {
		return nil
	}
	if permissionsLocked(gs, bot)&discordgo.PermissionManageRoles == 0 {
		return errMissingPermissions
	}
	highest := 0
	for _, id := range bot.Roles {
		if br := findRole(gs, id); br != nil && br.Position > highest {
			highest = br.Position
		}
	}
	if role.Position >= highest {
		return errMissingPermissions
	}
	return nil
}

package discordtest

import (
	"errors"
	"fmt"
	"slices"

	"github.com/bwmarrin/discordgo"
)

// ErrNotFound is wrapped by setup and dispatch helpers when they refer to a
// user, guild, channel, role or message the fake does not know.
var ErrNotFound = errors.New("discordtest: not found")

type userState struct {
	user      discordgo.User
	dmsClosed bool
}

type guildState struct {
	guild       discordgo.Guild // without roles, members and channels
	roles       []*discordgo.Role
	members     map[string]*discordgo.Member
	memberOrder []string
	channels    []string
}

type channelState struct {
	ch       discordgo.Channel
	messages []*storedMessage
	byID     map[string]*storedMessage
}

// AddUser adds a user and returns a copy of it; an empty ID gets a snowflake
// and an empty discriminator becomes "0".
func (s *Server) AddUser(u discordgo.User) *discordgo.User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		u.ID = s.ids.next(s.now())
	}
	if u.Discriminator == "" {
		u.Discriminator = "0"
	}
	if u.Username == "" {
		u.Username = "user" + u.ID
	}
	s.users[u.ID] = &userState{user: u}
	s.bumpLocked()
	return &u
}

// SetDMsClosed makes messages to the user's DM channel fail with 403 (code
// 50007) as when a member disallows DMs from server members.
func (s *Server) SetDMsClosed(userID string, closed bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[userID]
	if !ok {
		return fmt.Errorf("set DMs closed: user %s: %w", userID, ErrNotFound)
	}
	u.dmsClosed = closed
	return nil
}

// AddGuild adds a guild with its @everyone role (id = guild id) and the bot as
// a member, and returns a copy. An empty ID gets a snowflake; an OwnerID that
// names an unknown user is ignored (the bot becomes the owner).
func (s *Server) AddGuild(g discordgo.Guild) *discordgo.Guild {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if g.ID == "" {
		g.ID = s.ids.next(now)
	}
	if _, ok := s.users[g.OwnerID]; !ok {
		g.OwnerID = s.bot.ID
	}
	if g.Name == "" {
		g.Name = "guild" + g.ID
	}
	if g.JoinedAt.IsZero() {
		g.JoinedAt = now
	}
	if g.PreferredLocale == "" {
		g.PreferredLocale = string(discordgo.EnglishUS)
	}
	g.Roles, g.Members, g.Channels = nil, nil, nil
	gs := &guildState{
		guild:   g,
		members: map[string]*discordgo.Member{},
		roles: []*discordgo.Role{{
			ID:          g.ID,
			Name:        "@everyone",
			Permissions: discordgo.PermissionViewChannel | discordgo.PermissionSendMessages | discordgo.PermissionReadMessageHistory | discordgo.PermissionAddReactions | discordgo.PermissionUseSlashCommands | discordgo.PermissionAttachFiles | discordgo.PermissionEmbedLinks,
		}},
	}
	s.guilds[g.ID] = gs
	s.guildOrder = append(s.guildOrder, g.ID)
	bot := s.bot
	s.addMemberLocked(gs, &discordgo.Member{User: &bot, JoinedAt: now})
	s.bumpLocked()
	out := g
	return &out
}

// AddRole adds a role to a guild and returns a copy; an empty ID gets a snowflake.
func (s *Server) AddRole(guildID string, r discordgo.Role) (*discordgo.Role, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs, ok := s.guilds[guildID]
	if !ok {
		return nil, fmt.Errorf("add role: guild %s: %w", guildID, ErrNotFound)
	}
	if r.ID == "" {
		r.ID = s.ids.next(s.now())
	}
	if r.Position == 0 {
		r.Position = len(gs.roles)
	}
	gs.roles = append(gs.roles, &r)
	s.bumpLocked()
	out := r
	return &out, nil
}

// AddMember adds (or replaces) a guild member. m.User must be set; a user the
// fake does not know yet is added. Roles must exist in the guild; a zero
// JoinedAt becomes now. It returns a copy with guild_id and permissions filled.
func (s *Server) AddMember(guildID string, m discordgo.Member) (*discordgo.Member, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs, ok := s.guilds[guildID]
	if !ok {
		return nil, fmt.Errorf("add member: guild %s: %w", guildID, ErrNotFound)
	}
	if m.User == nil {
		return nil, errors.New("discordtest: add member: member has no user")
	}
	u := *m.User
	if u.ID == "" {
		u.ID = s.ids.next(s.now())
	}
	if existing, ok := s.users[u.ID]; ok {
		u = existing.user
	} else {
		if u.Discriminator == "" {
			u.Discriminator = "0"
		}
		s.users[u.ID] = &userState{user: u}
	}
	for _, rid := range m.Roles {
		if findRole(gs, rid) == nil {
			return nil, fmt.Errorf("add member: role %s in guild %s: %w", rid, guildID, ErrNotFound)
		}
	}
	if m.JoinedAt.IsZero() {
		m.JoinedAt = s.now()
	}
	m.User = &u
	s.addMemberLocked(gs, &m)
	s.bumpLocked()
	return s.memberJSONLocked(gs, u.ID), nil
}

func (s *Server) addMemberLocked(gs *guildState, m *discordgo.Member) {
	m.GuildID = gs.guild.ID
	if m.Roles == nil {
		m.Roles = []string{}
	}
	if _, ok := gs.members[m.User.ID]; !ok {
		gs.memberOrder = append(gs.memberOrder, m.User.ID)
	}
	gs.members[m.User.ID] = m
}

// AddChannel adds a channel and returns a copy. Guild channels need an
// existing GuildID; the type defaults to a text channel. Use DMChannel for
// direct messages.
func (s *Server) AddChannel(c discordgo.Channel) (*discordgo.Channel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs, ok := s.guilds[c.GuildID]
	if !ok {
		return nil, fmt.Errorf("add channel: guild %q: %w", c.GuildID, ErrNotFound)
	}
	if c.ID == "" {
		c.ID = s.ids.next(s.now())
	}
	if c.Name == "" {
		c.Name = "channel" + c.ID
	}
	c.Position = len(gs.channels)
	gs.channels = append(gs.channels, c.ID)
	s.channels[c.ID] = &channelState{ch: c, byID: map[string]*storedMessage{}}
	s.bumpLocked()
	out := c
	return &out, nil
}

// DMChannel returns the DM channel between the bot and a user, creating it if
// needed (as POST /users/@me/channels does).
func (s *Server) DMChannel(userID string) (*discordgo.Channel, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, err := s.dmChannelLocked(userID)
	if err != nil {
		return nil, err
	}
	return s.channelJSONLocked(cs), nil
}

func (s *Server) dmChannelLocked(userID string) (*channelState, error) {
	if id, ok := s.dms[userID]; ok {
		return s.channels[id], nil
	}
	u, ok := s.users[userID]
	if !ok || userID == s.bot.ID {
		return nil, fmt.Errorf("dm channel: user %s: %w", userID, ErrNotFound)
	}
	rec := u.user
	c := discordgo.Channel{ID: s.ids.next(s.now()), Type: discordgo.ChannelTypeDM, Recipients: []*discordgo.User{&rec}}
	cs := &channelState{ch: c, byID: map[string]*storedMessage{}}
	s.channels[c.ID] = cs
	s.dms[userID] = c.ID
	s.bumpLocked()
	return cs, nil
}

// Channel returns a copy of a channel.
func (s *Server) Channel(channelID string) (*discordgo.Channel, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.channels[channelID]
	if !ok {
		return nil, false
	}
	return s.channelJSONLocked(cs), true
}

// Member returns a copy of a guild member with permissions computed from its roles.
func (s *Server) Member(guildID, userID string) (*discordgo.Member, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs, ok := s.guilds[guildID]
	if !ok {
		return nil, false
	}
	m := s.memberJSONLocked(gs, userID)
	return m, m != nil
}

func findRole(gs *guildState, id string) *discordgo.Role {
	i := slices.IndexFunc(gs.roles, func(r *discordgo.Role) bool { return r.ID == id })
	if i < 0 {
		return nil
	}
	return gs.roles[i]
}

// permissionsLocked computes a member's guild-level permissions as Discord
// does: the owner and administrators get everything, others the union of
// @everyone and their roles.
func permissionsLocked(gs *guildState, m *discordgo.Member) int64 {
	if m.User != nil && m.User.ID == gs.guild.OwnerID {
		return discordgo.PermissionAll
	}
	var p int64
	if r := findRole(gs, gs.guild.ID); r != nil {
		p |= r.Permissions
	}
	for _, id := range m.Roles {
		if r := findRole(gs, id); r != nil {
			p |= r.Permissions
		}
	}
	if p&discordgo.PermissionAdministrator != 0 {
		return discordgo.PermissionAll
	}
	return p
}

// memberJSONLocked returns a copy of a member with permissions, or nil.
func (s *Server) memberJSONLocked(gs *guildState, userID string) *discordgo.Member {
	m, ok := gs.members[userID]
	if !ok {
		return nil
	}
	out := *m
	u := *m.User
	if us, ok := s.users[userID]; ok {
		u = us.user
	}
	out.User = &u
	out.Roles = slices.Clone(m.Roles)
	out.Permissions = permissionsLocked(gs, m)
	return &out
}

func (s *Server) channelJSONLocked(cs *channelState) *discordgo.Channel {
	c := cs.ch
	if n := len(cs.messages); n > 0 {
		c.LastMessageID = cs.messages[n-1].msg.ID
	}
	c.Recipients = slices.Clone(cs.ch.Recipients)
	return &c
}

// guildJSONLocked returns the full guild object as GUILD_CREATE carries it.
func (s *Server) guildJSONLocked(gs *guildState, withMembers bool) *discordgo.Guild {
	g := gs.guild
	for _, r := range gs.roles {
		rc := *r
		g.Roles = append(g.Roles, &rc)
	}
	for _, id := range gs.channels {
		g.Channels = append(g.Channels, s.channelJSONLocked(s.channels[id]))
	}
	g.MemberCount = len(gs.members)
	if withMembers {
		for _, id := range gs.memberOrder {
			g.Members = append(g.Members, s.memberJSONLocked(gs, id))
		}
	}
	return &g
}

// SetMemberRoles replaces a guild member's roles (the bot's own too), as an
// admin would in Server Settings; nothing is dispatched. Roles must exist.
func (s *Server) SetMemberRoles(guildID, userID string, roles []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs, ok := s.guilds[guildID]
	if !ok {
		return fmt.Errorf("set member roles: guild %s: %w", guildID, ErrNotFound)
	}
	m, ok := gs.members[userID]
	if !ok {
		return fmt.Errorf("set member roles: member %s of guild %s: %w", userID, guildID, ErrNotFound)
	}
	for _, rid := range roles {
		if findRole(gs, rid) == nil {
			return fmt.Errorf("set member roles: role %s in guild %s: %w", rid, guildID, ErrNotFound)
		}
	}
	m.Roles = slices.Clone(roles)
	s.bumpLocked()
	return nil
}

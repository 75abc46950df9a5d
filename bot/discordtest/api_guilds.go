package discordtest

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/bwmarrin/discordgo"
)

func (s *Server) guildFor(r *http.Request) (*guildState, *apiError) {
	gs, ok := s.guilds[r.PathValue("guild")]
	if !ok {
		return nil, errUnknownGuild
	}
	return gs, nil
}

func (s *Server) getGuild(r *http.Request, _ *reqBody) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs, aerr := s.guildFor(r)
	if aerr != nil {
		return nil, aerr
	}
	g := s.guildJSONLocked(gs, false)
	// GET /guilds/{id} carries roles but not channels or members.
	g.Channels = nil
	return g, nil
}

func (s *Server) getGuildChannels(r *http.Request, _ *reqBody) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs, aerr := s.guildFor(r)
	if aerr != nil {
		return nil, aerr
	}
	out := []*discordgo.Channel{}
	for _, id := range gs.channels {
		out = append(out, s.channelJSONLocked(s.channels[id]))
	}
	return out, nil
}

func (s *Server) getGuildRoles(r *http.Request, _ *reqBody) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs, aerr := s.guildFor(r)
	if aerr != nil {
		return nil, aerr
	}
	out := []*discordgo.Role{}
	for _, role := range gs.roles {
		rc := *role
		out = append(out, &rc)
	}
	return out, nil
}

// listMembers answers GET /guilds/{guild}/members?limit=&after= in user id order.
func (s *Server) listMembers(r *http.Request, _ *reqBody) (any, *apiError) {
	limit := 1
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, errInvalidForm("limit", "int value should be between 1 and 1000")
		}
		limit = n
	}
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	gs, aerr := s.guildFor(r)
	if aerr != nil {
		return nil, aerr
	}
	ids := make([]uint64, 0, len(gs.members))
	for id := range gs.members {
		n, _ := strconv.ParseUint(id, 10, 64)
		if n > after {
			ids = append(ids, n)
		}
	}
	slices.Sort(ids)
	out := []*discordgo.Member{}
	for _, n := range ids {
		if len(out) == limit {
			break
		}
		out = append(out, s.memberJSONLocked(gs, strconv.FormatUint(n, 10)))
	}
	return out, nil
}

func (s *Server) getMember(r *http.Request, _ *reqBody) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs, aerr := s.guildFor(r)
	if aerr != nil {
		return nil, aerr
	}
	m := s.memberJSONLocked(gs, r.PathValue("user"))
	if m == nil {
		return nil, errUnknownMember
	}
	return m, nil
}

func (s *Server) getChannel(r *http.Request, _ *reqBody) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.channels[r.PathValue("channel")]
	if !ok {
		return nil, errUnknownChannel
	}
	return s.channelJSONLocked(cs), nil
}

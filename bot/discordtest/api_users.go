package discordtest

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"

	"github.com/bwmarrin/discordgo"
)

func (s *Server) getGateway(*http.Request, *reqBody) (any, *apiError) {
	return map[string]string{"url": s.GatewayURL()}, nil
}

func (s *Server) getGatewayBot(*http.Request, *reqBody) (any, *apiError) {
	s.mu.Lock()
	identified := 0
	for _, ev := range s.gw.log {
		if ev.Kind == GatewayIdentified {
			identified++
		}
	}
	s.mu.Unlock()
	return map[string]any{
		"url":    s.GatewayURL(),
		"shards": s.cfg.shards,
		"session_start_limit": map[string]int{
			"total": s.cfg.sessionStarts, "remaining": max(s.cfg.sessionStarts-identified, 0), "reset_after": 3600000,
			"max_concurrency": s.cfg.maxConcurrency,
		},
	}, nil
}

func (s *Server) getUser(r *http.Request, _ *reqBody) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := r.PathValue("user")
	if id == "@me" {
		id = s.bot.ID
	}
	u, ok := s.users[id]
	if !ok {
		return nil, errUnknownUser
	}
	out := u.user
	return &out, nil
}

// listMyGuilds answers GET /users/@me/guilds: the bot's guilds by id,
// paged with after and limit (1-200, default 200), as Discord does.
func (s *Server) listMyGuilds(r *http.Request, _ *reqBody) (any, *apiError) {
	if r.PathValue("user") != "@me" {
		return nil, errUnknownUser
	}
	limit := 200
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return nil, errInvalidForm("limit", "Must be between 1 and 200.")
		}
		limit = n
	}
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := slices.Clone(s.guildOrder)
	slices.SortFunc(ids, func(a, b string) int {
		x, _ := strconv.ParseUint(a, 10, 64)
		y, _ := strconv.ParseUint(b, 10, 64)
		return cmp.Compare(x, y)
	})
	out := []*discordgo.UserGuild{}
	for _, id := range ids {
		n, _ := strconv.ParseUint(id, 10, 64)
		if n <= after || len(out) == limit {
			continue
		}
		g := s.guilds[id].guild
		out = append(out, &discordgo.UserGuild{ID: g.ID, Name: g.Name, Owner: g.OwnerID == s.bot.ID})
	}
	return out, nil
}

func (s *Server) getApplication(*http.Request, *reqBody) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	bot := s.bot
	return map[string]any{
		"id":          s.cfg.appID,
		"name":        bot.Username,
		"bot":         &bot,
		"bot_public":  true,
		"flags":       0,
		"description": "",
	}, nil
}

// createDM answers POST /users/@me/channels: the DM channel with a user,
// created on first use.
func (s *Server) createDM(_ *http.Request, in *reqBody) (any, *apiError) {
	var p struct {
		RecipientID string `json:"recipient_id"`
	}
	if err := json.Unmarshal(orEmpty(in.json), &p); err != nil || p.RecipientID == "" {
		return nil, errInvalidForm("recipient_id", "This field is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, err := s.dmChannelLocked(p.RecipientID)
	if err != nil {
		return nil, errUnknownUser
	}
	return s.channelJSONLocked(cs), nil
}

func orEmpty(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return json.RawMessage("{}")
	}
	return raw
}

package api

import (
	"net/http"
	"strings"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// The horde's own status beside heartbeat, models and performance
// (status.go): its modes, its news, and one model.

// currentModes is the horde's modes now; all off without Options.Modes.
func (s *server) currentModes() horde.HordeModes {
	if s.opt.Modes == nil {
		return horde.HordeModes{}
	}
	return s.opt.Modes.Current()
}

// modesOut is m as the AI Horde shows it; raid mode only to moderators.
func modesOut(m horde.HordeModes, moderator bool) aihorde.HordeModes {
	out := aihorde.HordeModes{MaintenanceMode: m.Maintenance, InviteOnlyMode: m.InviteOnly}
	if moderator {
		raid := m.Raid
		out.RaidMode = &raid
	}
	return out
}

// modes answers the AI Horde's GET /status/modes: maintenance and
// invite-only as set by PUT. As on the AI Horde, a request with a key must
// be a moderator's (an unknown key is 401, another user's 403
// NotModerator), and is also told raid_mode.
func (s *server) modes(w http.ResponseWriter, r *http.Request) {
	moderator := false
	if strings.TrimSpace(r.Header.Get("apikey")) != "" {
		by, err := s.requestUser(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if !by.Moderator {
			s.writeError(w, r, horde.Errorf(horde.KindForbidden, "NotModerator", "only moderators may see the horde's raid mode; ask without a key for the others"))
			return
		}
		moderator = true
	}
	s.ok(w, modesOut(s.currentModes(), moderator))
}

// setModes is PUT /status/modes: a moderator sets maintenance (new
// generation requests are refused 503 MaintenanceMode), invite_only and
// raid (both stored and reported only: this horde has no worker
// invitations, and raid mode changes nothing yet). The answer is the
// modes after the change.
func (s *server) setModes(w http.ResponseWriter, r *http.Request) {
	if s.opt.Modes == nil {
		s.writeError(w, r, horde.Errorf(horde.KindDisabled, "FeatureDisabled", "the horde's modes cannot be changed on this installation"))
		return
	}
	var b aihorde.HordeModesInput
	if _, err := s.decodeBody(w, r, s.bodyLimit(limitSmall), &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	by, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.opt.Modes.Set(r.Context(), by, horde.HordeModesChange{Maintenance: b.Maintenance, InviteOnly: b.InviteOnly, Raid: b.Raid})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, modesOut(m, true))
}

// unlessMaintenance refuses a new generation request while the horde is
// in maintenance mode (503 MaintenanceMode), before reading its body.
func (s *server) unlessMaintenance(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.opt.Modes != nil {
			if err := s.opt.Modes.AdmitRequest(); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		next(w, r)
	}
}

// news answers GET /status/news: the news configured (Options.News),
// newest first as given; none is an empty list.
func (s *server) news(w http.ResponseWriter, r *http.Request) {
	out := make([]aihorde.Newspiece, 0, len(s.opt.News))
	for _, n := range s.opt.News {
		if n.Tags == nil {
			n.Tags = []string{}
		}
		if n.MoreInfoURLs == nil {
			n.MoreInfoURLs = []string{}
		}
		out = append(out, n)
	}
	s.ok(w, out)
}

// model answers GET /status/models/{name}: the model's line of
// /status/models (image or text, whichever serves or queues it), as a list
// as on the AI Horde; a model nobody serves or asks for is an empty list.
func (s *server) model(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	out := []aihorde.ActiveModel{}
	for _, kind := range []horde.RequestKind{horde.KindImage, horde.KindText} {
		ms, err := s.h.Models(r.Context(), kind)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		for _, m := range ms {
			if m.Name == name {
				out = append(out, aihorde.ActiveModel{
					Name: m.Name, Count: m.Workers, Performance: m.Performance, Queued: m.Queued,
					Jobs: m.Jobs, ETA: m.ETA, Type: string(kind),
				})
			}
		}
		if len(out) > 0 {
			break // as on the AI Horde: the first kind that has it
		}
	}
	s.ok(w, out)
}

package api

import (
	"net/http"
	"strings"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// The horde's own status beside heartbeat, models and performance
// (status.go): its modes, its news, and one model.

// modes answers the AI Horde's GET /status/modes. This horde has neither a
// maintenance nor a worker invite-only mode, so both are false. As on the
// AI Horde, a request with a key must be a moderator's (an unknown key is
// 401, another user's 403 NotModerator), and is also told raid_mode.
func (s *server) modes(w http.ResponseWriter, r *http.Request) {
	out := aihorde.HordeModes{}
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
		raid := false
		out.RaidMode = &raid
	}
	s.ok(w, out)
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

package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

func (s *server) userOf(info horde.UserInfo) aihorde.User {
	ids := info.WorkerIDs
	if ids == nil {
		ids = []string{}
	}
	var age int64
	if !info.User.CreatedAt.IsZero() {
		age = max(int64(s.clock.Now().Sub(info.User.CreatedAt).Seconds()), 0)
	}
	return aihorde.User{
		Username:      info.User.Username(),
		ID:            info.User.ID,
		Kudos:         info.Kudos,
		WorkerIDs:     ids,
		WorkerCount:   len(ids),
		Concurrency:   info.Concurrency,
		Trusted:       info.User.Trusted,
		Flagged:       info.User.Flagged,
		Moderator:     info.User.Moderator,
		Pseudonymous:  info.User.Anonymous(),
		AccountAge:    age,
		Usage:         aihorde.UserUsage{Requests: info.Requested},
		Contributions: aihorde.UserContributions{Fulfillments: info.Generated},
		// The horde counts items, not kinds: totals are reported as images.
		Records: aihorde.UserRecords{
			Request:     aihorde.UserCounts{Image: info.Requested},
			Fulfillment: aihorde.UserCounts{Image: info.Generated},
		},
	}
}

// findUser answers the details of the key's own user. As on the AI Horde,
// an unknown key is 404 (no such user), not 401.
func (s *server) findUser(w http.ResponseWriter, r *http.Request) {
	c, err := s.authenticate(r)
	if horde.IsKind(err, horde.KindUnauthorized) {
		err = horde.NotFoundf("UserNotFound", "no user has this API key")
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	info, err := s.h.UserInfo(r.Context(), c.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, s.userOf(info))
}

// user answers the public details of a user by id.
func (s *server) user(w http.ResponseWriter, r *http.Request) {
	raw := r.PathValue("id")
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 0 {
		s.writeError(w, r, horde.NotFoundf("UserNotFound", "no user with id %s", horde.QuoteInput(raw)))
		return
	}
	info, err := s.h.UserInfo(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, s.userOf(info))
}

// parseUsername reads the AI Horde's "name#id" form and returns the id and name.
func parseUsername(field, v string) (int64, string, error) {
	i := strings.LastIndexByte(v, '#')
	if i < 0 {
		return 0, "", horde.Invalidf(field, "%s must look like name#id", field)
	}
	id, err := strconv.ParseInt(v[i+1:], 10, 64)
	if err != nil || id < 0 {
		return 0, "", horde.Invalidf(field, "%s must look like name#id", field)
	}
	return id, v[:i], nil
}

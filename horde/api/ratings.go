package api

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// maxRatings bounds the ratings of one set: a request has at most
// aihorde.MaxN images.
const maxRatings = aihorde.MaxN

// rate is POST /generate/rate/{id}: the key's user rates the images of a
// finished shared request and earns kudos for it (horde.Ratings.Rate).
func (s *server) rate(w http.ResponseWriter, r *http.Request) {
	if s.opt.Ratings == nil {
		s.writeError(w, r, horde.Errorf(horde.KindDisabled, "FeatureDisabled", "ratings are not enabled on this horde"))
		return
	}
	var b aihorde.RatePayload
	if _, err := s.decodeBody(w, r, s.bodyLimit(limitSmall), &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	var c check
	set := horde.RatingSet{Best: strings.TrimSpace(valueOr(b.Best, ""))}
	if len(b.Ratings) > maxRatings {
		c.fail("ratings", "at most %d ratings", maxRatings)
	}
	for i, in := range b.Ratings {
		field := "ratings." + strconv.Itoa(i)
		id := strings.TrimSpace(valueOr(in.ID, ""))
		if id == "" {
			c.fail(field+".id", "%s.id is required", field)
		}
		if in.Rating == nil {
			c.fail(field+".rating", "%s.rating is required", field)
		}
		set.Ratings = append(set.Ratings, horde.Rating{
			GenerationID: id, Rating: valueOr(in.Rating, 0), Artifacts: valueOr(in.Artifacts, horde.NoArtifacts),
		})
	}
	if c.err != nil {
		s.writeError(w, r, c.err)
		return
	}
	by, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	paid, err := s.opt.Ratings.Rate(r.Context(), by, r.PathValue("id"), set)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, aihorde.SubmitResponse{Reward: float64(paid)})
}

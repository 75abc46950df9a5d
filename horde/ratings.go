package horde

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

// Ratings of generations: a member rates the images of a finished, shared
// image request (the AI Horde's POST /generate/rate/{id}) and earns kudos
// by kudos.RatingReward, as a ledger entry of kind rating. Each member rates
// an image once, never an image their own worker made, and earns at most
// RatingConfig.DailyCap kudos a day from ratings.

// Rating limits.
const (
	MinRating, MaxRating       = 1, 10
	MinArtifacts, MaxArtifacts = 0, 5
	// NoArtifacts is a Rating's Artifacts when the rater scored none.
	NoArtifacts = -1
)

// Rating is one image's rating.
type Rating struct {
	GenerationID string // the job id, as in the request's status
	Rating       int    // 1..10
	Artifacts    int    // 0 (none) .. 5, or NoArtifacts
}

// RatingSet is what a rater says of one request's images: the best one
// and/or a rating for each or some.
type RatingSet struct {
	Best    string
	Ratings []Rating
}

// RatingRecord is one stored rating.
type RatingRecord struct {
	UserID       int64
	GenerationID string
	RequestID    string
	Rating       int // 0 when the image was only named best
	Artifacts    int
	Best         bool
	At           time.Time
}

// RatingStore keeps ratings.
type RatingStore interface {
	// RecordRatings, in one transaction, stores rows and pays entry, cut
	// so that what the rater earned from ratings since dayStart stays at or
	// below dailyCap (0: no cap); it returns what it paid. A row whose
	// (user, generation) is already rated fails the whole call with
	// ErrDuplicate and writes nothing.
	RecordRatings(ctx context.Context, rows []RatingRecord, entry kudos.Entry, dayStart time.Time, dailyCap int64) (int64, error)
	// PublishRequest marks a request shared (its images may be rated); an
	// unknown request is ErrNotFound.
	PublishRequest(ctx context.Context, requestID string) error
	// RequestRatings sums up the ratings of a request's images.
	RequestRatings(ctx context.Context, requestID string) (RatingSummary, error)
}

// RatingSummary is what the raters of a request said: how many members
// rated its images and their average rating (0 with none).
type RatingSummary struct {
	Raters  int
	Average float64
}

// RatingConfig tunes ratings. Zero values take the defaults.
type RatingConfig struct {
	// DailyCap is the most a member earns from ratings in a (UTC) day
	// (default kudos.DefaultRatingDailyCap); negative: no cap.
	DailyCap int64
}

// Ratings rates generations. It is safe for concurrent use.
type Ratings struct {
	h   *Horde
	st  RatingStore
	cap int64
}

// NewRatings returns the ratings of h's requests, kept in st.
func NewRatings(h *Horde, st RatingStore, cfg RatingConfig) *Ratings {
	c := cfg.DailyCap
	if c == 0 {
		c = kudos.DefaultRatingDailyCap
	}
	if c < 0 {
		c = 0
	}
	return &Ratings{h: h, st: st, cap: c}
}

// Publish makes a finished image request's images ratable, as a request
// made with shared: true is: the Discord bot calls it when a member shares
// their images in an art channel. Only the requester may.
func (rs *Ratings) Publish(ctx context.Context, by User, requestID string) error {
	p, err := rs.h.Check(ctx, requestID)
	if err != nil {
		return err
	}
	if p.Request.UserID != by.ID {
		return Errorf(KindForbidden, "NotRequester", "only the member who asked for these images can share them")
	}
	if p.Request.Shared {
		return nil
	}
	if err := rs.st.PublishRequest(ctx, requestID); err != nil {
		return fmt.Errorf("publish request %s: %w", requestID, err)
	}
	return nil
}

// Summary sums up the ratings of a request's images.
func (rs *Ratings) Summary(ctx context.Context, requestID string) (RatingSummary, error) {
	sum, err := rs.st.RequestRatings(ctx, requestID)
	if err != nil {
		return RatingSummary{}, fmt.Errorf("ratings of request %s: %w", requestID, err)
	}
	return sum, nil
}

// Rate records by's ratings of the images of request requestID and pays
// them; it returns the kudos paid. Refusals, with the AI Horde's rc: an
// unknown (or text) request RequestNotFound; unfinished
// AestheticsNotCompleted; not shared AestheticsNotPublic; an image not of
// the request ProcGenNotFound; one image twice AestheticsDuplicate;
// nothing rated AestheticsMissing; only a best of a single image
// AestheticsSolo; a best that is not among the highest rated
// AestheticsConfused; an image rated before AestheticsAlreadyExist; an
// image of the rater's own worker InvalidAestheticAttempt; the anonymous
// user AnonForbidden. A rating out of range is KindInvalid naming it.
func (rs *Ratings) Rate(ctx context.Context, by User, requestID string, set RatingSet) (int64, error) {
	if by.Anonymous() {
		return 0, Errorf(KindForbidden, "AnonForbidden", "the anonymous key cannot rate images; use your own API key")
	}
	if by.Flagged {
		return 0, Errorf(KindForbidden, "UserFlagged", "your account is flagged and may not rate images").InCase("rate")
	}
	for i, r := range set.Ratings {
		field := "ratings." + strconv.Itoa(i)
		if r.Rating < MinRating || r.Rating > MaxRating {
			return 0, Invalidf(field+".rating", "%s.rating must be between %d and %d", field, MinRating, MaxRating)
		}
		if r.Artifacts != NoArtifacts && (r.Artifacts < MinArtifacts || r.Artifacts > MaxArtifacts) {
			return 0, Invalidf(field+".artifacts", "%s.artifacts must be between %d and %d", field, MinArtifacts, MaxArtifacts)
		}
	}
	p, gens, err := rs.h.Status(ctx, requestID)
	if err != nil {
		return 0, err
	}
	if p.Request.Kind != KindImage {
		return 0, NotFoundf("RequestNotFound", "no image request has id %s", QuoteInput(requestID))
	}
	if p.Request.State != RequestDone {
		return 0, aesthetics("AestheticsNotCompleted", "you can only rate finished requests")
	}
	if !p.Request.Shared {
		return 0, aesthetics("AestheticsNotPublic", "you can only rate requests that were shared (shared: true)")
	}
	byID := make(map[string]Generation, len(gens))
	for _, g := range gens {
		byID[g.JobID] = g
	}
	seen := map[string]bool{}
	for _, r := range set.Ratings {
		if _, ok := byID[r.GenerationID]; !ok {
			return 0, NotFoundf("ProcGenNotFound", "no image %s in this request", QuoteInput(r.GenerationID))
		}
		if seen[r.GenerationID] {
			return 0, aesthetics("AestheticsDuplicate", "image %s is rated twice", QuoteInput(r.GenerationID))
		}
		seen[r.GenerationID] = true
	}
	if set.Best != "" {
		if _, ok := byID[set.Best]; !ok {
			return 0, NotFoundf("ProcGenNotFound", "no image %s in this request", QuoteInput(set.Best))
		}
	}
	switch {
	case len(set.Ratings) == 0 && set.Best == "":
		return 0, aesthetics("AestheticsMissing", "name the best image (best) or rate some (ratings)")
	case len(set.Ratings) == 0 && len(gens) <= 1:
		return 0, aesthetics("AestheticsSolo", "the best of a single image says nothing; rate it instead")
	}
	if len(set.Ratings) > 1 && set.Best != "" {
		top := 0
		for _, r := range set.Ratings {
			top = max(top, r.Rating)
		}
		var tops []string
		for _, r := range set.Ratings {
			if r.Rating == top {
				tops = append(tops, r.GenerationID)
			}
		}
		if len(tops) > 1 && !contains(tops, set.Best) {
			return 0, aesthetics("AestheticsConfused", "the best image must be one of those you rated highest")
		}
	}
	rated := make([]string, 0, len(set.Ratings)+1)
	for _, r := range set.Ratings {
		rated = append(rated, r.GenerationID)
	}
	if set.Best != "" && !seen[set.Best] {
		rated = append(rated, set.Best)
	}
	for _, id := range rated {
		if w, err := rs.h.Worker(ctx, byID[id].WorkerID); err == nil && w.OwnerID == by.ID {
			return 0, aesthetics("InvalidAestheticAttempt", "you cannot rate images your own worker made")
		}
	}

	now := rs.h.clock.Now()
	rows := make([]RatingRecord, 0, len(rated))
	withArtifacts := 0
	for _, r := range set.Ratings {
		if r.Artifacts != NoArtifacts {
			withArtifacts++
		}
		rows = append(rows, RatingRecord{UserID: by.ID, GenerationID: r.GenerationID, RequestID: requestID,
			Rating: r.Rating, Artifacts: r.Artifacts, Best: r.GenerationID == set.Best, At: now})
	}
	if set.Best != "" && !seen[set.Best] {
		rows = append(rows, RatingRecord{UserID: by.ID, GenerationID: set.Best, RequestID: requestID,
			Artifacts: NoArtifacts, Best: true, At: now})
	}
	reward := kudos.RatingReward(kudos.RatingSet{
		Ratings: len(set.Ratings), WithArtifacts: withArtifacts, Best: set.Best != "",
		LowSingle: len(set.Ratings) == 1 && len(gens) > 1 && set.Ratings[0].Rating < 7 && set.Best != set.Ratings[0].GenerationID,
		Consumed:  p.Request.Kudos,
	})
	entry := kudos.Entry{
		UserID: by.ID, Delta: reward, Kind: kudos.KindRating, Reason: "rated images of a shared request",
		Ref: requestID, Key: fmt.Sprintf("rating:%d:%s", by.ID, rows[0].GenerationID), Floor: kudos.NoFloor, At: now,
	}
	y, m, d := now.UTC().Date()
	paid, err := rs.st.RecordRatings(ctx, rows, entry, time.Date(y, m, d, 0, 0, 0, 0, time.UTC), rs.cap)
	if duplicate(err) {
		return 0, aesthetics("AestheticsAlreadyExist", "you have rated these images already")
	}
	if err != nil {
		return 0, fmt.Errorf("record ratings of request %s: %w", requestID, err)
	}
	return paid, nil
}

// aesthetics is a refused rating: the AI Horde's InvalidAestheticAttempt
// family, all 400.
func aesthetics(code, format string, args ...any) error {
	return Errorf(KindInvalid, code, format, args...)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

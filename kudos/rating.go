package kudos

// Ratings: what a member earns for rating the images of a shared request
// (the AI Horde's POST /generate/rate/{id}, horde/apis/v2/stable.py
// Aesthetics): 5 kudos a rating, 5 more for a rating that also scores
// artifacts, 15 for only pointing at the best image of a set, 15 more for a
// single rating below 7 beside another image named best. Never as much as
// the request cost: at most its kudos minus one.

// Rating rewards, as on the AI Horde.
const (
	RatingKudos    int64 = 5  // per rating
	ArtifactsKudos int64 = 5  // per rating that scores artifacts
	BestOfKudos    int64 = 15 // for naming the best image of a set
	// DefaultRatingDailyCap is the most a member earns from ratings in a day.
	DefaultRatingDailyCap int64 = 150
)

// RatingSet is what a rater sent about one request's images.
type RatingSet struct {
	Ratings       int  // images rated
	WithArtifacts int  // of them, those that also score artifacts
	Best          bool // an image was named best
	// LowSingle: exactly one image was rated, below 7, in a set of more.
	LowSingle bool
	// Consumed is what the request cost its requester.
	Consumed int64
}

// RatingReward is what a rating set earns before the daily cap.
func RatingReward(s RatingSet) int64 {
	var k int64
	if s.Ratings > 0 {
		k = RatingKudos*int64(s.Ratings) + ArtifactsKudos*int64(s.WithArtifacts)
		if s.LowSingle && s.Best {
			k += BestOfKudos
		}
	} else if s.Best {
		k = BestOfKudos
	}
	if k >= s.Consumed {
		k = s.Consumed - 1
	}
	return max(k, 0)
}

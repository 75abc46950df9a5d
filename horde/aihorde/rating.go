package aihorde

// The body of POST /generate/rate/{id} (the AI Horde's AestheticsPayload);
// the answer is a SubmitResponse with the kudos earned.

// RatePayload rates the images of a shared request.
type RatePayload struct {
	Best    *string           `json:"best"`
	Ratings []AestheticRating `json:"ratings"`
}

// AestheticRating is one image's rating: rating 1..10, artifacts 0..5.
type AestheticRating struct {
	ID        *string `json:"id"`
	Rating    *int    `json:"rating"`
	Artifacts *int    `json:"artifacts"`
}

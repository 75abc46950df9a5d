package aihorde

// The bodies of /sharedkeys (the AI Horde's SharedKeyInput and
// SharedKeyDetails). A limit of -1 is no limit.

// SharedKeyInput creates (PUT /sharedkeys, defaults: kudos 5000, no expiry,
// no limits) or changes (PATCH /sharedkeys/{id}: the fields sent) a key.
// expiry is in days from now; -1 is never.
type SharedKeyInput struct {
	Kudos          *int64  `json:"kudos"`
	Expiry         *int    `json:"expiry"`
	Name           *string `json:"name"`
	MaxImagePixels *int    `json:"max_image_pixels"`
	MaxImageSteps  *int    `json:"max_image_steps"`
	MaxTextTokens  *int    `json:"max_text_tokens"`
}

// SharedKeyDetails is a key as the AI Horde shows it; the id is the key
// (left out where hordebot shows a key to others than its holder: a
// style's shared_key).
type SharedKeyDetails struct {
	ID             string  `json:"id,omitempty"`
	Username       string  `json:"username"`
	Name           string  `json:"name"`
	Kudos          int64   `json:"kudos"`
	Expiry         *string `json:"expiry"`
	Utilized       int64   `json:"utilized"`
	MaxImagePixels int     `json:"max_image_pixels"`
	MaxImageSteps  int     `json:"max_image_steps"`
	MaxTextTokens  int     `json:"max_text_tokens"`
}

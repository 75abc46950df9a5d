package aihorde

// SubmitRequest is the body of POST /generate/submit and
// /generate/text/submit. An image's Generation is "R2" after a PUT to the
// job's r2_upload URL, or the base64 image; its Seed is required. State is
// StateOK when left out.
type SubmitRequest struct {
	ID          string        `json:"id"`
	Generation  string        `json:"generation"`
	State       string        `json:"state"`
	Seed        *int64        `json:"seed,omitempty"`
	Censored    bool          `json:"censored,omitempty"` // obsolete: state "censored" says it
	GenMetadata []GenMetadata `json:"gen_metadata,omitempty"`
}

// NewSubmitRequest is a submit with the AI Horde's defaults (state ok).
func NewSubmitRequest() SubmitRequest { return SubmitRequest{State: StateOK} }

// GenMetadata is a gen_metadata entry: something a worker reports about a
// generation (type lora, ti, censorship, source_image, ...; value, ref).
type GenMetadata struct {
	Type  string `json:"type"`
	Value string `json:"value"`
	Ref   string `json:"ref,omitempty"`
}

// SubmitResponse is the answer to a submit: the kudos the worker earned.
type SubmitResponse struct {
	Reward float64 `json:"reward"`
}

// Error is the body of every error answer.
type Error struct {
	Message string            `json:"message"`
	RC      string            `json:"rc"`
	Errors  map[string]string `json:"errors,omitempty"`
}

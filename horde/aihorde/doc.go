// Package aihorde holds the AI Horde v2 wire format: the JSON bodies of its
// HTTP API with their tags, the defaults and limits the AI Horde applies to
// them, and the "positive ### negative" prompt convention.
//
// It is shared by the server (horde/api, which translates these shapes to
// and from the scheduler's domain types at its edge) and by the client
// (horde/worker, which speaks them directly), so that the worker binary links
// no scheduler code. It imports only the standard library, and nothing of
// hordebot, so that horde/ may use its defaults and limits for the domain's
// own validation.
//
// Where a value is the AI Horde's (Haidra-Org/AI-Horde,
// horde/apis/models/stable_v2.py and kobold_v2.py), its doc comment says so;
// the others are hordebot's own bounds on what it accepts.
package aihorde

// Kind is what a request or a worker generates, as the AI Horde names it in
// /status/models?type= and in a worker's "type".
type Kind string

// The kinds.
const (
	KindImage Kind = "image"
	KindText  Kind = "text"
)

// Result states a worker submits (the submit body's "state").
const (
	StateOK       = "ok"
	StateCensored = "censored"
	StateFaulted  = "faulted"
	StateCSAM     = "csam"
)

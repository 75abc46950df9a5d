package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// errorBody is the AI Horde's error shape. Errors maps an invalid field to
// its message, as flask-restx does for payload validation failures.
type errorBody struct {
	Message string            `json:"message"`
	RC      string            `json:"rc"`
	Errors  map[string]string `json:"errors,omitempty"`
}

// StatusClientClosed is the status logged for a request whose client went
// away before its answer (nginx's 499): not a failure of the server.
const StatusClientClosed = 499

// statusRC is an HTTP status and an AI Horde "rc".
type statusRC struct {
	status int
	rc     string
}

// kindStatus is the one mapping from a domain error kind (horde/errs) to an
// HTTP status and the default AI Horde "rc", used when the error carries no
// code. A kudos refusal is an error of its kind like any other: its code
// (e.g. "insufficient", "ping_pong") is the rc.
var kindStatus = map[horde.Kind]statusRC{
	horde.KindInvalid:      {http.StatusBadRequest, "BadRequest"},
	horde.KindUnauthorized: {http.StatusUnauthorized, "InvalidAPIKey"},
	horde.KindForbidden:    {http.StatusForbidden, "Forbidden"},
	horde.KindNotFound:     {http.StatusNotFound, "NotFound"},
	horde.KindConflict:     {http.StatusBadRequest, "DuplicateGen"},
	horde.KindRateLimited:  {http.StatusTooManyRequests, "TooManyRequests"},
	horde.KindKudosUpfront: {http.StatusForbidden, "KudosUpfront"},
	horde.KindDisabled:     {http.StatusForbidden, "FeatureDisabled"},
	horde.KindUnavailable:  {http.StatusServiceUnavailable, "ServiceUnavailable"},
	horde.KindInternal:     {http.StatusInternalServerError, "InternalServerError"},
}

// aiHordeRC is the rc the AI Horde answers for the case of a hordebot code,
// where it has one (its README_return_codes.md, horde/exceptions.py's
// KNOWN_RC, which clients generated from its swagger type the field with):
// the domain keeps its own vocabulary (kudos refusals are shared with the
// bot), the wire speaks the AI Horde's. A code not listed is its own rc
// (hordebot's, where the AI Horde has no such case: BodyTooLarge,
// TooManyRequests, TransfersDisabled, ...).
var aiHordeRC = map[string]string{
	"ValidationError":  "BadRequest", // the generic bad input; the AI Horde's generic 400
	"JobNotFound":      "InvalidJobID",
	"JobNotProcessing": "AbortedGen", // a submit for a job aborted past its TTL, or faulted
	"WorkerNameTaken":  "WorkerNameAlreadyExists",
	"WrongWorkerType":  "PolymorphicNameConflict", // the name is a worker of the other kind
	"InvalidImage":     "ImageValidationFailed",
	// Kudos refusals (kudos/ledger.go), as the AI Horde's transfer and award
	// answer them; transfers tell the two sides apart (transferRC).
	kudos.RefuseInsufficient: "KudosTransferNotEnough",
	kudos.RefuseSelf:         "KudosTransferToSelf",
	kudos.RefuseAmount:       "NegativeKudosTransfer",
	kudos.RefuseFlagged:      "SourceAccountFlagged",
	kudos.RefuseAnonymous:    "KudosTransferFromAnon",
	kudos.RefusePingPong:     "TooFastKudosTransfers",
	kudos.RefuseUnknownUser:  "UserNotFound",
	kudos.RefuseNotModerator: "NotAllowedAwards",
	kudos.RefuseKeyReused:    "IdempotencyKeyConflict",
}

// codeStatus overrides its kind's status for a code: an Idempotency-Key
// reused for other content is 409 Conflict (issue 9.6), not the 400 the AI
// Horde answers its other conflicts with.
//
// A preview of a job that is no longer processing is 409 JobFinished
// (hordebot's live previews; the AI Horde has no such route).
var codeStatus = map[string]int{kudos.RefuseKeyReused: http.StatusConflict, "JobFinished": http.StatusConflict}

// RC is the rc a hordebot error code answers with (aiHordeRC).
func RC(code string) string {
	if rc, ok := aiHordeRC[code]; ok {
		return rc
	}
	return code
}

// statusOf returns the HTTP status, the rc and the user-safe body for err:
// its kind's status (kindStatus) and its code as the rc, in the AI Horde's
// name where it has one (RC). A body over its size limit is a 400
// naming the field "body" (as every bad input is). Internal errors show a
// generic message and the default rc, never their own text or code.
func statusOf(err error) (int, errorBody) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		msg := fmt.Sprintf("request body is larger than %d bytes", tooLarge.Limit)
		return http.StatusBadRequest, errorBody{Message: msg, RC: "BodyTooLarge", Errors: map[string]string{"body": msg}}
	}
	kind := horde.KindOf(err)
	m, ok := kindStatus[kind]
	if !ok {
		kind, m = horde.KindInternal, kindStatus[horde.KindInternal]
	}
	body := errorBody{Message: clipMessage(horde.MessageOf(err)), RC: m.rc}
	var he *horde.Error
	if errors.As(err, &he) && kind != horde.KindInternal {
		if he.Code != "" {
			body.RC = RC(he.Code)
			if st, ok := codeStatus[he.Code]; ok {
				m.status = st
			}
		}
		if he.Field != "" {
			body.Errors = map[string]string{clipMessage(he.Field): clipMessage(he.Message)}
		}
	}
	return m.status, body
}

// maxMessage bounds an error message, so that a message that quotes client
// input without horde.QuoteInput still cannot echo a megabyte back.
const maxMessage = 2*horde.MaxQuoted + 200

// clipMessage cuts msg to maxMessage characters.
func clipMessage(msg string) string {
	if utf8.RuneCountInString(msg) <= maxMessage {
		return msg
	}
	n := 0
	for i := range msg {
		if n == maxMessage {
			return msg[:i] + "…"
		}
		n++
	}
	return msg
}

// unavailableRetryAfter is the Retry-After of a 503: long enough for an
// admin to free disk space or lift a quota, short enough for a worker's
// retry loop.
const unavailableRetryAfter = 60 * time.Second

// writeError answers err as JSON. Internal and unavailable errors are logged
// with their full text, which never reaches the client. A 503 (the store
// cannot write: disk full, quota reached, read-only) says when to retry.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil && errors.Is(err, context.Canceled) {
		// The client hung up (a worker stopping mid-pop): nothing failed
		// here, and nobody reads an answer.
		s.log.DebugContext(r.Context(), "client closed the request", "method", r.Method, "path", r.URL.Path, "err", err)
		w.WriteHeader(StatusClientClosed)
		return
	}
	status, body := statusOf(err)
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds(unavailableRetryAfter)))
	}
	if status >= http.StatusInternalServerError {
		s.log.ErrorContext(r.Context(), "request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	} else {
		s.log.DebugContext(r.Context(), "request refused", "method", r.Method, "path", r.URL.Path, "status", status, "rc", body.RC, "err", err)
	}
	writeJSON(w, s.log, status, body)
}

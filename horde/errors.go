package horde

import "github.com/hordebot/hordebot/horde/errs"

// Kind classifies a domain error so that each transport can map it once
// (horde/api/errors.go to an HTTP status, bot/ to an ephemeral reply). It is
// errs.Kind: horde and kudos share one error model.
type Kind = errs.Kind

// The closed set of error kinds (errs.Kind).
const (
	KindInternal     = errs.KindInternal     // a bug or an infrastructure failure; its text is never shown
	KindInvalid      = errs.KindInvalid      // bad input: 400
	KindUnauthorized = errs.KindUnauthorized // missing or wrong API key: 401
	KindForbidden    = errs.KindForbidden    // the caller may not do this: 403
	KindNotFound     = errs.KindNotFound     // unknown id: 404
	KindConflict     = errs.KindConflict     // e.g. a second submit of one job: 400 on the AI Horde
	KindRateLimited  = errs.KindRateLimited  // too many requests: 429
	KindKudosUpfront = errs.KindKudosUpfront // the request needs kudos the user does not have: 403
	KindUnavailable  = errs.KindUnavailable  // the store cannot write (disk full, read-only, busy): 503
	KindDisabled     = errs.KindDisabled     // a feature switched off on this installation: 403
)

// Error is the horde's error type, errs.Error. Message is safe to show to
// a user; Code is the AI Horde "rc" string (e.g. "InvalidAPIKey"); Field
// names the offending input field for KindInvalid.
type Error = errs.Error

// Errorf builds an *Error of the given kind with a user-safe message.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return errs.Errorf(kind, code, format, args...)
}

// Invalidf builds a KindInvalid error naming the offending field.
func Invalidf(field, format string, args ...any) *Error {
	return errs.Invalidf(field, format, args...)
}

// NotFoundf builds a KindNotFound error.
func NotFoundf(code, format string, args ...any) *Error {
	return errs.NotFoundf(code, format, args...)
}

// ErrNotFound is returned by stores for a missing row; callers turn it into a
// specific *Error (e.g. "request not found") where they know what was asked.
var ErrNotFound = &Error{Kind: KindNotFound, Code: "NotFound", Message: "not found"}

// ErrDuplicate is returned by stores when an operation was already applied
// (an idempotency key or a job submitted twice).
var ErrDuplicate = &Error{Kind: KindConflict, Code: "DuplicateGen", Message: "already submitted"}

// KindOf returns the Kind of err: the Kind of the first *Error in its chain,
// KindInternal otherwise.
func KindOf(err error) Kind { return errs.KindOf(err) }

// IsKind reports whether err has the given kind.
func IsKind(err error, k Kind) bool { return errs.IsKind(err, k) }

// MessageOf returns the user-safe message of err, or a generic message for
// internal errors (whose text must not leak).
func MessageOf(err error) string { return errs.MessageOf(err) }

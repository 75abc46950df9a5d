package horde

import (
	"errors"
	"fmt"
)

// Kind classifies a domain error so that each transport can map it once
// (horde/api/errors.go to an HTTP status, bot/ to an ephemeral reply).
type Kind int

// The closed set of error kinds.
const (
	KindInternal     Kind = iota // a bug or an infrastructure failure; its text is never shown
	KindInvalid                  // bad input: 400
	KindUnauthorized             // missing or wrong API key: 401
	KindForbidden                // the caller may not do this: 403
	KindNotFound                 // unknown id: 404
	KindConflict                 // e.g. a second submit of one job: 400 on the AI Horde
	KindRateLimited              // too many requests: 429
	KindKudosUpfront             // the request needs kudos the user does not have: 403
	KindUnavailable              // the store cannot write (disk full, read-only): 503
)

func (k Kind) String() string {
	switch k {
	case KindInvalid:
		return "invalid"
	case KindUnauthorized:
		return "unauthorized"
	case KindForbidden:
		return "forbidden"
	case KindNotFound:
		return "not found"
	case KindConflict:
		return "conflict"
	case KindRateLimited:
		return "rate limited"
	case KindKudosUpfront:
		return "kudos upfront"
	case KindUnavailable:
		return "unavailable"
	default:
		return "internal"
	}
}

// Error is the horde's error type. Message is safe to show to a user;
// Code is the AI Horde "rc" string (e.g. "InvalidAPIKey"); Field names the
// offending input field for KindInvalid.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Field   string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error of the given kind with a user-safe message.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalidf builds a KindInvalid error naming the offending field.
func Invalidf(field, format string, args ...any) *Error {
	return &Error{Kind: KindInvalid, Code: "ValidationError", Field: field, Message: fmt.Sprintf(format, args...)}
}

// NotFoundf builds a KindNotFound error.
func NotFoundf(code, format string, args ...any) *Error {
	return &Error{Kind: KindNotFound, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrNotFound is returned by stores for a missing row; callers turn it into a
// specific *Error (e.g. "request not found") where they know what was asked.
var ErrNotFound = &Error{Kind: KindNotFound, Code: "NotFound", Message: "not found"}

// ErrDuplicate is returned by stores when an operation was already applied
// (an idempotency key or a job submitted twice).
var ErrDuplicate = &Error{Kind: KindConflict, Code: "DuplicateGen", Message: "already submitted"}

// KindOf returns the Kind of err: the Kind of the first *Error in its chain,
// KindInternal otherwise.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return KindInternal
}

// IsKind reports whether err has the given kind.
func IsKind(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// MessageOf returns the user-safe message of err, or a generic message for
// internal errors (whose text must not leak).
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Kind != KindInternal {
		return e.Message
	}
	return "internal error; it has been logged"
}

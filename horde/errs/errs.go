// Package errs is the one error model of the domains: an error has a Kind
// from a small closed set, a stable Code, a Message safe to show a member or
// a client, the Field of the input it concerns, and the wrapped cause.
//
// horde and kudos both build their errors with it (horde re-exports it as
// horde.Error, kudos' refusals are *errs.Error values too), so that each
// transport maps kinds once, in one table: horde/api to an HTTP status and
// the AI Horde's rc, bot to an ephemeral reply. It imports only the
// standard library, so that every domain package may import it.
package errs

import (
	"errors"
	"fmt"
	"maps"
)

// Kind classifies an error so that each transport can map it once.
type Kind int

// The closed set of error kinds. The zero Kind is KindInternal, so an
// error built without a kind never shows its text.
const (
	KindInternal     Kind = iota // a bug or an infrastructure failure; its text is never shown
	KindInvalid                  // bad input
	KindUnauthorized             // a missing or wrong API key
	KindForbidden                // the caller may not do this (a rule saying no)
	KindNotFound                 // an unknown id or member
	KindConflict                 // already done (a second submit, an award twice, a reused key)
	KindRateLimited              // too many, or too much, in a period (rate limits, daily caps)
	KindKudosUpfront             // it needs kudos the user does not have
	KindUnavailable              // the store cannot write now (disk full, read-only, busy): try again later
	KindDisabled                 // a feature switched off on this installation: retrying does not help
)

// Kinds is every kind, for the transports' table tests.
func Kinds() []Kind {
	return []Kind{KindInternal, KindInvalid, KindUnauthorized, KindForbidden, KindNotFound, KindConflict,
		KindRateLimited, KindKudosUpfront, KindUnavailable, KindDisabled}
}

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
	case KindDisabled:
		return "disabled"
	default:
		return "internal"
	}
}

// Error is the domains' error type. Message is safe to show to a user;
// Code is stable (the AI Horde "rc" string such as "InvalidAPIKey", or a
// kudos refusal code such as "ping_pong"); Field names the offending input
// field, mostly for KindInvalid; Err is the cause, never shown.
//
// Case and Params are for transports that word the message themselves in
// the member's language (the bot's message catalogs): Case tells apart the
// situations one Code covers ("award" and "transfer" for the kudos code
// "self"), Params are the values the message shows, by name ({"Amount":
// 50}). Both are optional: without a wording of its own a transport shows
// Message.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Field   string
	Case    string
	Params  map[string]any
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Message, e.Err)
	}
	return e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// With returns a copy of e that also carries the value its message shows
// under name (Params); e itself is unchanged, so a shared error value may
// be extended safely.
func (e *Error) With(name string, value any) *Error {
	c := *e
	c.Params = maps.Clone(e.Params)
	if c.Params == nil {
		c.Params = map[string]any{}
	}
	c.Params[name] = value
	return &c
}

// InCase returns a copy of e naming the situation its Code covers (Case).
func (e *Error) InCase(name string) *Error {
	c := *e
	c.Case = name
	return &c
}

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

// Internalf builds a KindInternal error: message and cause are logged,
// never shown.
func Internalf(code string, cause error, format string, args ...any) *Error {
	return &Error{Kind: KindInternal, Code: code, Message: fmt.Sprintf(format, args...), Err: cause}
}

// As returns the first *Error in err's chain, or nil.
func As(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// KindOf returns the Kind of err: the Kind of the first *Error in its chain,
// KindInternal otherwise.
func KindOf(err error) Kind {
	if e := As(err); e != nil {
		return e.Kind
	}
	return KindInternal
}

// IsKind reports whether err has the given kind.
func IsKind(err error, k Kind) bool { return err != nil && KindOf(err) == k }

// CodeOf returns the Code of the first *Error in err's chain, or "".
func CodeOf(err error) string {
	if e := As(err); e != nil {
		return e.Code
	}
	return ""
}

// GenericMessage is what MessageOf says of an internal error.
const GenericMessage = "internal error; it has been logged"

// MessageOf returns the user-safe message of err, or GenericMessage for
// internal errors (whose text must not leak).
func MessageOf(err error) string {
	if e := As(err); e != nil && e.Kind != KindInternal {
		return e.Message
	}
	return GenericMessage
}

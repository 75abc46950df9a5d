package api

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// check collects the first validation failure of a request body, so that
// a decoder reads as a list of rules. Each rule names the JSON field.
type check struct {
	err error
}

func (c *check) fail(field, format string, args ...any) {
	if c.err == nil {
		c.err = horde.Invalidf(field, format, args...)
	}
}

// failRC is fail with the AI Horde's rc for the case (e.g. InvalidSize).
func (c *check) failRC(rc, field, format string, args ...any) {
	if c.err == nil {
		c.err = &horde.Error{Kind: horde.KindInvalid, Code: rc, Field: field, Message: fmt.Sprintf(format, args...)}
	}
}

// add records err, a domain validation error, when it is the first failure.
func (c *check) add(err error) {
	if c.err == nil && err != nil {
		c.err = err
	}
}

// workerName requires a valid worker name (horde.ValidWorkerName, the rule
// /worker register applies) and returns it trimmed.
func (c *check) workerName(v string) string {
	name, err := horde.ValidWorkerName(v)
	c.add(err)
	return name
}

// intRange requires lo <= v <= hi.
func (c *check) intRange(field string, v, lo, hi int) {
	if v < lo || v > hi {
		c.fail(field, "%s must be between %d and %d, not %d", field, lo, hi, v)
	}
}

// floatRange requires lo <= v <= hi.
func (c *check) floatRange(field string, v, lo, hi float64) {
	if v < lo || v > hi {
		c.fail(field, "%s must be between %g and %g, not %g", field, lo, hi, v)
	}
}

// side requires an image side in range and a multiple of 64 (InvalidSize, as on the AI Horde).
func (c *check) side(field string, v int) {
	c.intRange(field, v, aihorde.MinSide, aihorde.MaxSide)
	if v%aihorde.SideMultiple != 0 {
		c.failRC("InvalidSize", field, "%s must be a multiple of %d, not %d", field, aihorde.SideMultiple, v)
	}
}

// prompt requires a prompt (MissingPrompt) of at most max characters
// (InvalidPromptSize), with the AI Horde's rcs.
func (c *check) prompt(v string, max int) {
	if strings.TrimSpace(v) == "" {
		c.failRC("MissingPrompt", "prompt", "prompt must not be empty")
		return
	}
	if n := utf8.RuneCountInString(v); n > max {
		c.failRC("InvalidPromptSize", "prompt", "prompt must be at most %d characters, not %d", max, n)
	}
}

// text requires a string of at most max characters, and not blank when required.
func (c *check) text(field, v string, required bool, max int) {
	if required && strings.TrimSpace(v) == "" {
		c.fail(field, "%s must not be empty", field)
		return
	}
	if n := utf8.RuneCountInString(v); n > max {
		c.fail(field, "%s must be at most %d characters, not %d", field, max, n)
	}
}

// list requires at most max entries, each non-blank and at most maxLen characters.
func (c *check) list(field string, v []string, max, maxLen int) {
	if len(v) > max {
		c.fail(field, "%s may have at most %d entries, not %d", field, max, len(v))
		return
	}
	for _, s := range v {
		c.text(field, s, true, maxLen)
	}
}

// oneOf requires v to be one of the allowed values.
func (c *check) oneOf(field, v string, allowed ...string) {
	for _, a := range allowed {
		if v == a {
			return
		}
	}
	c.fail(field, "%s must be one of %s, not %s", field, strings.Join(allowed, ", "), horde.QuoteInput(v))
}

// valueOr returns *p, or def when p is nil.
func valueOr[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

package horde

import "github.com/hordebot/hordebot/horde/filter"

// PromptFilter decides what happens to a prompt before it is queued: the
// one thing the scheduler asks of the prompt filter. *filter.Filter is the
// implementation; Config.Filter takes any.
type PromptFilter interface {
	// Check returns the verdict on prompt in the given context. It never
	// fails: a prompt it cannot read is allowed or refused, never an error.
	Check(prompt string, fc filter.Context) filter.Verdict
}

var _ PromptFilter = (*filter.Filter)(nil)

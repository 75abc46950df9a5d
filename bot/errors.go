package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/horde"
)

// unknownInteraction is an interaction the bot has no handler for (a
// command removed since Discord cached it, an old button).
func unknownInteraction(what string) error {
	return horde.Errorf(horde.KindNotFound, "UnknownInteraction", "This %s is no longer available.", what)
}

// kindReply is how a member is told an error of one kind: the emoji that
// opens the reply, the fixed text shown instead of the error's own message
// (for kinds whose message is not for members), what follows the message,
// and whether the error is a failure on our side, logged in full.
type kindReply struct {
	emoji    string
	fixed    string
	hint     string
	internal bool
}

// kindReplies is the one mapping from a domain error kind (horde/errs) to
// what a member reads; a kudos refusal is an error of its kind like any
// other. KindInvalid also names the option at fault (see UserMessage).
var kindReplies = map[horde.Kind]kindReply{
	horde.KindInvalid:      {emoji: "⚠️"},
	horde.KindUnauthorized: {emoji: "🚫"},
	horde.KindForbidden:    {emoji: "🚫"},
	horde.KindNotFound:     {emoji: "🔍"},
	horde.KindConflict:     {emoji: "⚠️"},
	horde.KindRateLimited:  {emoji: "⏱️"},
	horde.KindKudosUpfront: {emoji: "💸", hint: " Running a worker earns kudos: `/worker register` in a DM with me."},
	horde.KindDisabled:     {emoji: "🔌"},
	horde.KindUnavailable:  {emoji: "🛠️", fixed: "The horde's storage is unavailable right now; please try again in a few minutes.", internal: true},
	horde.KindInternal:     {emoji: "⚠️", fixed: "Something went wrong on our side; it has been logged. Please try again later.", internal: true},
}

// UserMessage is the one mapping from an error to what a member reads
// (kindReplies). internal is true when the error's details were withheld
// and must be logged.
func UserMessage(err error) (msg string, internal bool) {
	kind := horde.KindOf(err)
	if kind == horde.KindInternal && errors.Is(err, context.DeadlineExceeded) {
		return "⌛ That took too long; please try again.", true
	}
	r, ok := kindReplies[kind]
	if !ok {
		r = kindReplies[horde.KindInternal]
	}
	if r.fixed != "" {
		return r.emoji + " " + r.fixed, r.internal
	}
	var he *horde.Error
	errors.As(err, &he) // kind is not internal: there is one
	m := sentence(he.Message)
	if kind == horde.KindInvalid && he.Field != "" && !strings.Contains(strings.ToLower(m), strings.ToLower(he.Field)) {
		m = fmt.Sprintf("%s (option `%s`)", m, he.Field)
	}
	return r.emoji + " " + m + r.hint, r.internal
}

// replyError tells the caller what went wrong, ephemerally, and logs
// internal errors with their context.
func (b *Bot) replyError(ctx context.Context, ix *interact.Interaction, err error) {
	msg, internal := UserMessage(err)
	attrs := []any{"interaction", ix.I.ID, "type", ix.I.Type.String(), "user", ix.Caller.ID, "guild", ix.I.GuildID, "err", err}
	if internal {
		b.log.Error("interaction failed", attrs...)
	} else {
		b.log.Debug("interaction refused", attrs...)
	}
	if ferr := ix.Fail(ctx, msg); ferr != nil {
		b.log.Warn("could not report the failure to the member", "interaction", ix.I.ID, "err", ferr)
	}
}

// sentence capitalises the first letter and ends with a full stop.
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	r := []rune(s)
	if r[0] >= 'a' && r[0] <= 'z' {
		r[0] -= 'a' - 'A'
	}
	s = string(r)
	if !strings.HasSuffix(s, ".") && !strings.HasSuffix(s, "!") && !strings.HasSuffix(s, "?") && !strings.HasSuffix(s, ":") {
		s += "."
	}
	return s
}

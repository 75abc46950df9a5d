package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// genericFailure is what a member sees of an internal error (logged in full).
const genericFailure = "⚠️ Something went wrong on our side; it has been logged. Please try again later."

// unknownInteraction is an interaction the bot has no handler for (a
// command removed since Discord cached it, an old button).
func unknownInteraction(what string) error {
	return horde.Errorf(horde.KindNotFound, "UnknownInteraction", "This %s is no longer available.", what)
}

// UserMessage is the one mapping from an error to what a member reads.
// internal is true when the error's details were withheld and must be logged.
func UserMessage(err error) (msg string, internal bool) {
	var ref *kudos.Refusal
	if errors.As(err, &ref) {
		return "🚫 " + sentence(ref.Message), false
	}
	var he *horde.Error
	if errors.As(err, &he) {
		m := sentence(he.Message)
		switch he.Kind {
		case horde.KindInvalid:
			if he.Field != "" && !strings.Contains(strings.ToLower(m), strings.ToLower(he.Field)) {
				return fmt.Sprintf("⚠️ %s (option `%s`)", m, he.Field), false
			}
			return "⚠️ " + m, false
		case horde.KindUnauthorized, horde.KindForbidden:
			return "🚫 " + m, false
		case horde.KindNotFound:
			return "🔍 " + m, false
		case horde.KindConflict:
			return "⚠️ " + m, false
		case horde.KindRateLimited:
			return "⏱️ " + m, false
		case horde.KindKudosUpfront:
			return "💸 " + m + " Running a worker earns kudos: `/worker register` in a DM with me.", false
		case horde.KindUnavailable:
			return "🛠️ The horde's storage is unavailable right now; please try again in a few minutes.", true
		}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "⌛ That took too long; please try again.", true
	}
	return genericFailure, true
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

package bot

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/hordebot/hordebot/bot/interact"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/errs"
)

// unknownInteraction is an interaction the bot has no handler for (a
// command removed since Discord cached it, an old button): what is
// "command", "button" or "form" (the error's Case), name its name.
func unknownInteraction(what, name string) error {
	english := map[string]string{"command": "command /" + name, "button": "button " + name, "form": "form " + name}[what]
	return horde.Errorf(horde.KindNotFound, "UnknownInteraction", "This %s is no longer available.", english).
		InCase(what).With("Name", name)
}

// kindReply is how a member is told an error of one kind: the emoji that
// opens the reply, whether the error's own message is withheld (for kinds
// whose message is not for members: the catalog's error.kind.<kind> is
// shown instead), whether a hint follows (error.hint.<kind>), and whether
// the error is a failure on our side, logged in full.
type kindReply struct {
	emoji    string
	fixed    bool
	hint     bool
	internal bool
}

// kindReplies is the one mapping from a domain error kind (horde/errs) to
// what a member reads; a kudos refusal is an error of its kind like any
// other. KindInvalid also names the option at fault (see Reply).
var kindReplies = map[horde.Kind]kindReply{
	horde.KindInvalid:      {emoji: "⚠️"},
	horde.KindUnauthorized: {emoji: "🚫"},
	horde.KindForbidden:    {emoji: "🚫"},
	horde.KindNotFound:     {emoji: "🔍"},
	horde.KindConflict:     {emoji: "⚠️"},
	horde.KindRateLimited:  {emoji: "⏱️"},
	horde.KindKudosUpfront: {emoji: "💸", hint: true},
	horde.KindDisabled:     {emoji: "🔌"},
	horde.KindUnavailable:  {emoji: "🛠️", fixed: true, internal: true},
	horde.KindInternal:     {emoji: "⚠️", fixed: true, internal: true},
}

// UserMessage is what a member reads of an error in English (Reply).
func UserMessage(err error) (msg string, internal bool) {
	return Reply(locale.Default().English(), err)
}

// Reply is the one mapping from an error to what a member reads, in the
// printer's language (kindReplies). The wording is the catalog's
// error.<Code>.<Case> (or error.<Code> for an error without a case) with
// the error's Params and Field in its placeholders; the horde's own
// validation errors are worded by their field (validation_wording.go); an
// error the catalogs do not word is shown with its English message,
// introduced by its kind's generic reply (error.kind.<kind>) in the
// member's language. internal is
// true when the error's details were withheld and must be logged.
func Reply(p *locale.Printer, err error) (msg string, internal bool) {
	emoji, text, internal := wording(p, err)
	return emoji + " " + text, internal
}

// wording is Reply in parts: the emoji that opens it, and the text.
func wording(p *locale.Printer, err error) (emoji, text string, internal bool) {
	kind := horde.KindOf(err)
	if kind == horde.KindInternal && errors.Is(err, context.DeadlineExceeded) {
		return "⌛", p.T("error.timeout", nil), true
	}
	r, ok := kindReplies[kind]
	if !ok {
		kind, r = horde.KindInternal, kindReplies[horde.KindInternal]
	}
	if r.fixed {
		return r.emoji, p.T(kindKey(kind), nil), r.internal
	}
	he := errs.As(err) // kind is not internal: there is one
	data := locale.Args{"Field": he.Field}
	for k, v := range he.Params {
		if d, ok := v.(time.Duration); ok {
			v = p.Duration(d) // "7 days", in the member's language
		}
		data[k] = v
	}
	key := "error." + he.Code
	if he.Case != "" {
		key += "." + he.Case
	}
	m, worded := p.Lookup(key, data)
	byField := false // the wording names the field itself
	if !worded && he.Code == "ValidationError" && he.Case == "" {
		if limits, ok := validationLimits(p, he.Field); ok {
			m, worded = p.Lookup(validationFieldKey(he.Field), limits)
			byField = worded
		}
	}
	if !worded {
		m = p.T(kindKey(kind), locale.Args{"Message": sentence(he.Message)})
	}
	if kind == horde.KindInvalid && he.Field != "" && !byField && !strings.Contains(strings.ToLower(m), strings.ToLower(he.Field)) {
		m = p.T("error.option", locale.Args{"Message": m, "Field": he.Field})
	}
	if r.hint {
		m += " " + p.T(hintKey(kind), nil)
	}
	return r.emoji, m, r.internal
}

// kindKey and hintKey are the catalog keys of a kind's generic reply and hint.
func kindKey(k horde.Kind) string { return "error.kind." + strings.ReplaceAll(k.String(), " ", "_") }
func hintKey(k horde.Kind) string { return "error.hint." + strings.ReplaceAll(k.String(), " ", "_") }

// replyError tells the caller what went wrong, ephemerally, and logs
// internal errors with their context.
func (b *Bot) replyError(ctx context.Context, ix *interact.Interaction, err error) {
	msg, internal := Reply(ix.Printer(), err)
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

package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/errs"
	"github.com/hordebot/hordebot/kudos"
)

// TestUserMessage is the bot's kind table, as a member reads it: every kind
// of the one error model has a row, kudos refusals are errors of their kind.
// "Kudos are not enabled" is Disabled: the member reads that, not "the
// horde's storage is unavailable", and it is not logged as a failure; an
// invalid ledger entry is a bug: the member reads the generic failure, not
// "Invalid ledger entry.".
func TestUserMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		err          error
		want         string
		wantInternal bool
		mustNotLeak  string
	}{
		{"refusal", fmt.Errorf("give: %w", kudos.Refuse(kudos.RefuseFlagged, "your account is flagged: you cannot give kudos")), "🚫 Your account is flagged: you cannot give kudos.", false, ""},
		{"refusal of bad input", kudos.Refuse(kudos.RefuseSelf, "you cannot give kudos to yourself"), "⚠️ You cannot give kudos to yourself.", false, ""},
		{"refusal of a cap", kudos.Refuse(kudos.RefuseGiverCap, "you have reached today's limit of 50 kudos given"), "⏱️ You have reached today's limit", false, ""},
		{"refusal of an unknown member", kudos.Refuse(kudos.RefuseUnknownUser, "that member has no kudos account yet"), "🔍 That member has no kudos account yet.", false, ""},
		{"refusal of an award twice", kudos.Refuse(kudos.RefuseDuplicate, "you already awarded this message"), "⚠️ You already awarded this message.", false, ""},
		{"invalid names the option", horde.Invalidf("workers", "too many"), "(option `workers`)", false, ""},
		{"the horde's validation of a field is worded by its field", horde.Invalidf("steps", "steps must be between 1 and 500"), "⚠️ The steps must be between 1 and 500.", false, ""},
		{"unauthorized", horde.Errorf(horde.KindUnauthorized, "X", "that key is unknown"), "🚫 That key is unknown.", false, ""},
		{"forbidden", horde.Errorf(horde.KindForbidden, "X", "Not yours."), "🚫 Not yours.", false, ""},
		{"not found", horde.NotFoundf("X", "no such worker"), "🔍 No such worker.", false, ""},
		{"conflict", horde.Errorf(horde.KindConflict, "X", "already shared"), "⚠️ Already shared.", false, ""},
		{"rate limited", horde.Errorf(horde.KindRateLimited, "X", "slow down"), "⏱️ Slow down.", false, ""},
		{"upfront kudos points to workers", horde.Errorf(horde.KindKudosUpfront, "X", "This needs 50 kudos."), "/worker register", false, ""},
		{"disabled says so", horde.Errorf(horde.KindDisabled, "KudosDisabled", "Kudos are not enabled on this bot."), "🔌 Kudos are not enabled on this bot.", false, ""},
		{"unavailable", &horde.Error{Kind: horde.KindUnavailable, Message: "storage", Err: errors.New("SQLITE_FULL at /data/x.db")}, "unavailable", true, "/data"},
		{"internal does not leak", fmt.Errorf("query: %w", errors.New("secret dsn=/srv/db")), "logged", true, "secret"},
		{"an internal *Error does not leak", errs.Internalf("InvalidLedgerEntry", errors.New("empty kind"), "invalid ledger entry"), "Something went wrong on our side", true, "ledger"},
		{"timeout", fmt.Errorf("submit: %w", context.DeadlineExceeded), "too long", true, ""},
	}
	seen := map[errs.Kind]bool{}
	for _, tt := range tests {
		seen[errs.KindOf(tt.err)] = true
		t.Run(tt.name, func(t *testing.T) {
			got, internal := bot.UserMessage(tt.err)
			if !strings.Contains(got, tt.want) || internal != tt.wantInternal {
				t.Fatalf("UserMessage = %q internal %v, want %q internal %v", got, internal, tt.want, tt.wantInternal)
			}
			if tt.mustNotLeak != "" && strings.Contains(got, tt.mustNotLeak) {
				t.Fatalf("%q leaks %q", got, tt.mustNotLeak)
			}
		})
	}
	for _, k := range errs.Kinds() {
		if !seen[k] {
			t.Errorf("kind %s has no row in the table test", k)
		}
	}
}

// TestReplyInLanguages: the error replies in German and Spanish: every
// kind's own reply, a domain error worded by its code and case with its
// values (a duration in the member's words), the option at fault, and an
// error the catalogs do not word (its English message under the kind's
// reply).
func TestReplyInLanguages(t *testing.T) {
	t.Parallel()
	de := locale.Default().For(discordgo.German, "")
	es := locale.Default().For(discordgo.SpanishLATAM, "")
	tooNew := kudos.Refuse(kudos.RefuseTooNew, "your Discord account must be at least 7 days old to give kudos").
		InCase("account").With("Duration", 7*24*time.Hour)
	tests := []struct {
		name    string
		p       *locale.Printer
		err     error
		want    string
		intern  bool
		noLeaks string
	}{
		{"internal, German", de, errors.New("dsn=/srv/db"), "⚠️ Bei uns ist etwas schiefgelaufen", true, "/srv"},
		{"unavailable, Spanish", es, &horde.Error{Kind: horde.KindUnavailable, Message: "disk", Err: errors.New("SQLITE_FULL")}, "🛠️ El almacenamiento de la horda no está disponible", true, "SQLITE"},
		{"timeout, German", de, fmt.Errorf("x: %w", context.DeadlineExceeded), "⌛ Das hat zu lange gedauert", true, ""},
		{"a case with a value, German", de, kudos.Refuse(kudos.RefuseInsufficient, "you do not have 9 kudos to give").InCase("transfer").With("Amount", 9), "⚠️ Du hast keine 9 Kudos zum Verschenken.", false, ""},
		{"a duration in words, Spanish", es, tooNew, "🚫 Tu cuenta de Discord debe tener al menos 7 días para dar kudos.", false, ""},
		{"a duration in words, German", de, tooNew, "mindestens 7 Tage alt", false, ""},
		{"the option at fault, German", de, horde.Invalidf("steps", "too many").InCase("nope"), "⚠️ Ungültige Eingabe: Too many. (Option `steps`)", false, ""},
		{"the horde's validation of a field, German", de, horde.Invalidf("max_length", "max_length must be between 16 and 4096"), "⚠️ Die Länge muss zwischen 16 und 4096 Tokens liegen.", false, "max_length"},
		{"the horde's validation of a field, Spanish", es, horde.Invalidf("denoising_strength", "denoising_strength must be between 0.01 and 1"), "⚠️ La intensidad debe estar entre 0,01 y 1.", false, "denoising"},
		{"a code without a wording keeps its English message", es, horde.NotFoundf("NoSuchThing", "no such thing"), "🔍 No encontrado: No such thing.", false, ""},
		{"a wording whose value the error lacks keeps the English message", de, kudos.Refuse(kudos.RefuseGiverCap, "you have reached today's limit of 50 kudos given"), "⏱️ Zu viel auf einmal: You have reached today's limit of 50 kudos given.", false, ""},
		{"kudos upfront has its hint", de, horde.Errorf(horde.KindKudosUpfront, "KudosUpfront", "this needs 50 kudos"), "`/worker registrieren`", false, ""},
		{"disabled, Spanish", es, horde.Errorf(horde.KindDisabled, "KudosDisabled", "Kudos are not enabled on this bot."), "🔌 Los kudos no están activados en este bot.", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, internal := bot.Reply(tt.p, tt.err)
			if !strings.Contains(got, tt.want) || internal != tt.intern {
				t.Fatalf("Reply = %q internal %v, want %q internal %v", got, internal, tt.want, tt.intern)
			}
			if tt.noLeaks != "" && strings.Contains(got, tt.noLeaks) {
				t.Fatalf("%q leaks %q", got, tt.noLeaks)
			}
		})
	}
	// Every kind has its reply in every language.
	for _, l := range locale.Languages {
		p := locale.Default().For(l.Discord[0], "")
		for _, k := range errs.Kinds() {
			got, _ := bot.Reply(p, &errs.Error{Kind: k, Code: "NoWording", Message: "the detail"})
			if strings.Contains(got, "error.kind.") {
				t.Errorf("%s: kind %s has no reply: %q", l.Code, k, got)
			}
		}
	}
}

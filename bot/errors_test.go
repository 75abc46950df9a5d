package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/bot"
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
		{"invalid names the option", horde.Invalidf("steps", "too many"), "(option `steps`)", false, ""},
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

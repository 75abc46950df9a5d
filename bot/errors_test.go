package bot_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/bot"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

func TestUserMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		err          error
		want         string
		wantInternal bool
		mustNotLeak  string
	}{
		{"refusal", fmt.Errorf("give: %w", &kudos.Refusal{Code: kudos.RefuseSelf, Message: "you cannot give kudos to yourself"}), "🚫 You cannot give kudos to yourself.", false, ""},
		{"invalid names the option", horde.Invalidf("steps", "too many"), "(option `steps`)", false, ""},
		{"forbidden", horde.Errorf(horde.KindForbidden, "X", "Not yours."), "🚫 Not yours.", false, ""},
		{"not found", horde.NotFoundf("X", "no such worker"), "🔍 No such worker.", false, ""},
		{"rate limited", horde.Errorf(horde.KindRateLimited, "X", "slow down"), "⏱️ Slow down.", false, ""},
		{"upfront kudos points to workers", horde.Errorf(horde.KindKudosUpfront, "X", "This needs 50 kudos."), "/worker register", false, ""},
		{"unavailable", &horde.Error{Kind: horde.KindUnavailable, Message: "storage", Err: errors.New("SQLITE_FULL at /data/x.db")}, "unavailable", true, "/data"},
		{"internal does not leak", fmt.Errorf("query: %w", errors.New("secret dsn=/srv/db")), "logged", true, "secret"},
		{"timeout", fmt.Errorf("submit: %w", context.DeadlineExceeded), "too long", true, ""},
	}
	for _, tt := range tests {
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
}

package errs_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde/errs"
)

// TestKinds: every kind has its own name, and an error built without a kind
// is internal, so that its text never reaches a member or a client.
func TestKinds(t *testing.T) {
	names := map[string]errs.Kind{}
	for _, k := range errs.Kinds() {
		if other, dup := names[k.String()]; dup {
			t.Errorf("kinds %d and %d are both named %q", other, k, k)
		}
		names[k.String()] = k
	}
	var zero errs.Error
	if zero.Kind != errs.KindInternal {
		t.Fatalf("the zero kind is %s, want internal", zero.Kind)
	}
}

func TestMessageOf(t *testing.T) {
	cause := errors.New("disk /srv/secret is full")
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"a refusal shows its message", fmt.Errorf("give: %w", errs.Errorf(errs.KindForbidden, "flagged", "your account is flagged")), "your account is flagged"},
		{"a field error shows its message", errs.Invalidf("steps", "too many steps"), "too many steps"},
		{"an internal error shows nothing of itself", errs.Internalf("InvalidLedgerEntry", cause, "invalid ledger entry"), errs.GenericMessage},
		{"an error without a kind is internal", &errs.Error{Code: "X", Message: "secret detail"}, errs.GenericMessage},
		{"a plain error is internal", cause, errs.GenericMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errs.MessageOf(tt.err); got != tt.want {
				t.Fatalf("MessageOf = %q, want %q", got, tt.want)
			}
			if strings.Contains(errs.MessageOf(tt.err), "/srv/secret") {
				t.Fatal("the cause leaks")
			}
		})
	}
	if !errors.Is(errs.Internalf("C", cause, "m"), cause) {
		t.Fatal("an *Error does not unwrap to its cause")
	}
}

// TestKindsListsEveryKind: Kinds (which the transports' table tests walk)
// is every kind there is, from the zero kind to the last named one.
func TestKindsListsEveryKind(t *testing.T) {
	ks := errs.Kinds()
	for i, k := range ks {
		if int(k) != i {
			t.Fatalf("Kinds()[%d] = %d (%s): not the kinds in order", i, k, k)
		}
		if k != errs.KindInternal && k.String() == errs.KindInternal.String() {
			t.Errorf("kind %d has no name", k)
		}
	}
	if next := errs.Kind(len(ks)); next.String() != errs.KindInternal.String() {
		t.Errorf("kind %d (%s) is named but not in Kinds()", next, next)
	}
}

// TestWithCopies: With and InCase leave the error they extend unchanged,
// so a shared error value (kudos.ErrInsufficient) is never altered.
func TestWithCopies(t *testing.T) {
	base := errs.Errorf(errs.KindInvalid, "insufficient", "not enough kudos")
	got := base.With("Amount", 5).InCase("held").With("Held", 2)
	if base.Params != nil || base.Case != "" {
		t.Fatalf("base changed: %+v", base)
	}
	if got.Case != "held" || got.Params["Amount"] != 5 || got.Params["Held"] != 2 || got.Message != base.Message {
		t.Fatalf("extended error %+v", got)
	}
	again := got.With("Amount", 7)
	if got.Params["Amount"] != 5 || again.Params["Amount"] != 7 {
		t.Fatalf("With changed its receiver: %v, %v", got.Params, again.Params)
	}
}

package kudos

import (
	"errors"
	"fmt"
)

// Refusal codes beyond those in ledger.go.
const (
	RefuseUnknownUser = "unknown_user" // the user has no hordebot account
	RefuseNotEnabled  = "not_enabled"  // the feature or category is switched off
)

// refuse builds a *Refusal with a member-readable message.
func refuse(code, format string, args ...any) *Refusal {
	return &Refusal{Code: code, Message: fmt.Sprintf(format, args...)}
}

// RefusalCode returns the code of the *Refusal in err's chain, or "" if err
// is not a refusal.
func RefusalCode(err error) string {
	var r *Refusal
	if errors.As(err, &r) {
		return r.Code
	}
	return ""
}

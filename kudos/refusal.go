package kudos

import (
	"github.com/hordebot/hordebot/horde/errs"
)

// Refusal codes beyond those in ledger.go.
const (
	RefuseUnknownUser = "unknown_user" // the user has no hordebot account
	RefuseNotEnabled  = "not_enabled"  // the feature or category is switched off
)

// refusalKinds is the kind of each refusal code: what sort of "no" it is,
// which is what the transports show (horde/api: the HTTP status; bot: the
// reply). Input the member can correct is Invalid; a rule about who may do
// it is Forbidden; a cap over a period is RateLimited.
var refusalKinds = map[string]errs.Kind{
	RefuseInsufficient: errs.KindInvalid,
	RefuseSelf:         errs.KindInvalid,
	RefuseAmount:       errs.KindInvalid,
	RefuseBot:          errs.KindForbidden,
	RefuseFlagged:      errs.KindForbidden,
	RefuseAnonymous:    errs.KindForbidden,
	RefusePingPong:     errs.KindForbidden,
	RefuseTooNew:       errs.KindForbidden,
	RefuseRole:         errs.KindForbidden,
	RefuseNotModerator: errs.KindForbidden,
	RefuseGiverCap:     errs.KindRateLimited,
	RefuseReceiverCap:  errs.KindRateLimited,
	RefusePairCap:      errs.KindRateLimited,
	RefuseDuplicate:    errs.KindConflict,
	RefuseKeyReused:    errs.KindConflict,
	RefuseUnknownUser:  errs.KindNotFound,
	RefuseNotEnabled:   errs.KindDisabled,
	RefusePartyRunning: errs.KindConflict,
	RefuseNoParty:      errs.KindNotFound,
	RefuseNotHost:      errs.KindForbidden,
	RefusePartyPlace:   errs.KindInvalid,
}

// RefusalKind returns the kind of a refusal code; an unknown code is
// KindForbidden (a rule saying no).
func RefusalKind(code string) errs.Kind {
	if k, ok := refusalKinds[code]; ok {
		return k
	}
	return errs.KindForbidden
}

// Refuse builds a refusal: a rule saying no, as an *errs.Error with the
// code's kind (RefusalKind), the stable code and a member-readable message.
// The kudos store and the commands use it for the refusals they decide.
func Refuse(code, format string, args ...any) *errs.Error {
	return errs.Errorf(RefusalKind(code), code, format, args...)
}

// refuse is Refuse, for this package's rules.
func refuse(code, format string, args ...any) *errs.Error { return Refuse(code, format, args...) }

// IsRefusal reports whether err is a rule saying no, whose message is meant
// for the member: an *errs.Error in its chain whose kind is neither
// internal nor unavailable (a failure, not a rule).
func IsRefusal(err error) bool {
	e := errs.As(err)
	return e != nil && e.Kind != errs.KindInternal && e.Kind != errs.KindUnavailable
}

// RefusalCode returns the code of the refusal in err's chain, or "" if err
// is not a refusal (IsRefusal).
func RefusalCode(err error) string {
	if !IsRefusal(err) {
		return ""
	}
	return errs.CodeOf(err)
}

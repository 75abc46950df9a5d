package bot

import (
	"regexp"
	"strconv"
	"time"

	"github.com/hordebot/hordebot/bot/interact/locale"
)

// The horde words the reasons of its moderation events in English
// (horde/moderation.go, horde/trust.go); the audit channel shows them in
// the moderators' language. Each reason the horde writes has a pattern and
// a catalog key audit.reason.<name>; a reason a moderator typed is shown
// as it is.

// auditReason is one shape of reason the horde writes: its pattern and the
// catalog key and values it is shown with.
type auditReason struct {
	re   *regexp.Regexp
	key  string
	args func(p *locale.Printer, m []string) locale.Args
}

var auditReasons = []auditReason{
	{regexp.MustCompile(`^rule (\S+)$`), "audit.reason.rule", func(_ *locale.Printer, m []string) locale.Args {
		return locale.Args{"Rule": m[1]}
	}},
	{regexp.MustCompile(`^rule (\S+); matched (.+)$`), "audit.reason.rule_matched", func(_ *locale.Printer, m []string) locale.Args {
		return locale.Args{"Rule": m[1], "Matched": m[2]}
	}},
	{regexp.MustCompile(`^(\d+) (\S+) strikes \(threshold (\d+)\)$`), "audit.reason.strikes", func(_ *locale.Printer, m []string) locale.Args {
		return locale.Args{locale.CountArg: atoi(m[1]), "Strike": m[2], "Threshold": m[3]}
	}},
	{regexp.MustCompile(`^(\d+) (\S+) reports from (\d+) trusted owners \(threshold (\d+) from (\d+) owners\)$`), "audit.reason.reports",
		func(_ *locale.Printer, m []string) locale.Args {
			return locale.Args{locale.CountArg: atoi(m[1]), "Strike": m[2], "Owners": m[3], "Threshold": m[4], "OwnersToFlag": m[5]}
		}},
	{regexp.MustCompile(`^earned (\d+) kudos from generations; account (\S+) old$`), "audit.reason.earned", func(p *locale.Printer, m []string) locale.Args {
		age := m[2]
		if d, err := time.ParseDuration(age); err == nil {
			age = p.Duration(d.Round(24 * time.Hour))
			if d < 48*time.Hour {
				age = p.Duration(d.Round(time.Hour))
			}
		}
		return locale.Args{"Kudos": m[1], "Age": age}
	}},
	{regexp.MustCompile(`^(\d+) results faster than (\d+) megapixel-steps/s \(last (\d+)\)$`), "audit.reason.too_fast", func(_ *locale.Printer, m []string) locale.Args {
		return locale.Args{locale.CountArg: atoi(m[1]), "Limit": m[2], "Rate": m[3]}
	}},
}

// AuditReason is a moderation event's reason in p's language: the
// catalog's wording of a reason the horde writes, else the reason as it is.
func AuditReason(p *locale.Printer, reason string) string {
	for _, r := range auditReasons {
		if m := r.re.FindStringSubmatch(reason); m != nil {
			return p.T(r.key, r.args(p, m))
		}
	}
	return reason
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

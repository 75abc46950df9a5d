package web

import (
	"fmt"
	"net/url"
	"time"
)

// duration says how long in words a person reads at a glance: "45 s",
// "3 min", "2 h 5 min", "4 d".
func duration(d time.Duration) string {
	switch {
	case d <= 0:
		return "none"
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()+0.5))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()+0.5))
	case d < 48*time.Hour:
		h := int(d.Hours())
		if m := int(d.Minutes()) % 60; m > 0 {
			return fmt.Sprintf("%d h %d min", h, m)
		}
		return fmt.Sprintf("%d h", h)
	default:
		return fmt.Sprintf("%d d", int(d.Hours()/24))
	}
}

// ago says how long before now t was: "5 min ago".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < time.Minute {
		return "just now"
	}
	return duration(d) + " ago"
}

// pathEscape escapes one path segment.
func pathEscape(s string) string { return url.PathEscape(s) }

// userURL is a member's page; a member whose name others share too is
// told apart by id.
func userURL(name string, id int64) string {
	return "/u/" + url.PathEscape(name) + "?id=" + fmt.Sprint(id)
}

package kudos

import (
	"fmt"
	"time"
)

// Period is a calendar span in the engine's timezone: a day, an ISO week
// (Monday first) or a month. Name is what tally_runs records ("2026-03-05",
// "2026-W10", "2026-03").
type Period struct {
	Name     string
	From, To time.Time // [From, To)
}

// Day returns the day containing t in loc.
func Day(t time.Time, loc *time.Location) Period {
	from := startOfDay(t, loc)
	return Period{Name: from.Format("2006-01-02"), From: from, To: from.AddDate(0, 0, 1)}
}

// Week returns the ISO week (Monday to Sunday) containing t in loc.
func Week(t time.Time, loc *time.Location) Period {
	day := startOfDay(t, loc)
	from := day.AddDate(0, 0, -((int(day.Weekday()) + 6) % 7))
	y, w := from.ISOWeek()
	return Period{Name: fmt.Sprintf("%04d-W%02d", y, w), From: from, To: from.AddDate(0, 0, 7)}
}

// Month returns the calendar month containing t in loc.
func Month(t time.Time, loc *time.Location) Period {
	t = t.In(loc)
	from := time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, loc)
	return Period{Name: from.Format("2006-01"), From: from, To: from.AddDate(0, 1, 0)}
}

func startOfDay(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc)
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, loc)
}

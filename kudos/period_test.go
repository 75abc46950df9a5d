package kudos_test

import (
	"testing"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

func TestPeriods(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skipf("no tzdata: %v", err)
	}
	tests := []struct {
		name     string
		got      kudos.Period
		wantName string
		wantFrom time.Time
		wantTo   time.Time
	}{
		{"day utc", kudos.Day(t0, time.UTC), "2026-03-04",
			time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)},
		{"day in new york is still the 3rd at 02:00 utc", kudos.Day(time.Date(2026, 3, 4, 2, 0, 0, 0, time.UTC), ny), "2026-03-03",
			time.Date(2026, 3, 3, 0, 0, 0, 0, ny), time.Date(2026, 3, 4, 0, 0, 0, 0, ny)},
		{"week starts monday", kudos.Week(t0, time.UTC), "2026-W10",
			time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)},
		{"sunday belongs to the week before", kudos.Week(time.Date(2026, 3, 8, 23, 0, 0, 0, time.UTC), time.UTC), "2026-W10",
			time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC)},
		{"iso week of a new year", kudos.Week(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), time.UTC), "2026-W53",
			time.Date(2026, 12, 28, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 4, 0, 0, 0, 0, time.UTC)},
		{"dst day is 23 hours", kudos.Day(time.Date(2026, 3, 8, 12, 0, 0, 0, ny), ny), "2026-03-08",
			time.Date(2026, 3, 8, 0, 0, 0, 0, ny), time.Date(2026, 3, 9, 0, 0, 0, 0, ny)},
		{"month", kudos.Month(t0, time.UTC), "2026-03",
			time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got.Name != tt.wantName || !tt.got.From.Equal(tt.wantFrom) || !tt.got.To.Equal(tt.wantTo) {
				t.Fatalf("got %s [%v, %v), want %s [%v, %v)", tt.got.Name, tt.got.From, tt.got.To, tt.wantName, tt.wantFrom, tt.wantTo)
			}
		})
	}
}

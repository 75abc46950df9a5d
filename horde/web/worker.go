package web

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/hordebot/hordebot/horde"
)

type workerData struct {
	Worker  horde.Worker
	Owner   horde.User
	Hidden  bool // its owner is flagged: only the name is shown
	Online  bool
	Speed   string
	Day     Chart // online minutes per hour, last 24 hours
	Month   Chart // online hours per day, last 30 days
	Uptime  time.Duration
	Serving bool // online, not paused, not in maintenance
}

// worker is GET /w/{name}: a worker's models, speed, uptime charts, jobs
// done and trusted/paused/maintenance state.
func (w *Handler) worker(ctx context.Context, r *http.Request) (string, page, error) {
	name := r.PathValue("name")
	wk, err := w.h.WorkerByName(ctx, name)
	if horde.IsKind(err, horde.KindNotFound) {
		return "", page{}, notFound("No worker is called %s.", horde.QuoteInput(name))
	}
	if err != nil {
		return "", page{}, fmt.Errorf("worker %q: %w", name, err)
	}
	d := workerData{Worker: wk}
	p := page{Title: wk.Name, Path: "/w/", Data: &d}
	if d.Owner, err = w.st.User(ctx, wk.OwnerID); err != nil {
		return "", page{}, fmt.Errorf("owner of worker %s: %w", wk.ID, err)
	}
	if d.Owner.Flagged {
		d.Hidden = true
		d.Worker = horde.Worker{Name: wk.Name}
		return "worker", p, nil
	}
	now := w.clock.Now()
	d.Online = wk.Online(now)
	d.Serving = d.Online && !wk.Paused && !wk.Maintenance
	d.Uptime = time.Duration(wk.UptimeSeconds) * time.Second
	if wk.Kind == horde.KindText {
		d.Speed = num(wk.Performance) + " tokens/s"
	} else {
		d.Speed = num(wk.Performance) + " megapixel-steps/s"
	}
	hour := now.UTC().Truncate(time.Hour)
	today := now.UTC().Truncate(24 * time.Hour)
	from := today.AddDate(0, 0, -(MemberDays - 1))
	hours, err := w.st.WorkerUptime(ctx, wk.ID, from, hour.Add(time.Hour))
	if err != nil {
		return "", page{}, fmt.Errorf("uptime of worker %s: %w", wk.ID, err)
	}
	byHour := map[time.Time]int64{}
	byDay := map[time.Time]int64{}
	for _, u := range hours {
		byHour[u.Hour.UTC()] += u.Minutes
		byDay[u.Hour.UTC().Truncate(24*time.Hour)] += u.Minutes
	}
	d.Day = Chart{ID: "uptime-day", Title: "Minutes online per hour, last 24 hours", Unit: "min"}
	for i := 23; i >= 0; i-- {
		h := hour.Add(-time.Duration(i) * time.Hour)
		d.Day.Points = append(d.Day.Points, Point{At: h, Value: float64(byHour[h])})
	}
	d.Month = Chart{ID: "uptime-month", Title: fmt.Sprintf("Hours online per day, last %d days", MemberDays), Unit: "h"}
	for i := 0; i < MemberDays; i++ {
		day := from.AddDate(0, 0, i)
		d.Month.Points = append(d.Month.Points, Point{At: day, Value: float64(byDay[day]) / 60})
	}
	return "worker", p, nil
}

package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

// MemberDays is how many days the member page's kudos chart covers.
const MemberDays = 30

type memberData struct {
	User    horde.User
	Hidden  bool // flagged: the page shows only the name
	Others  []horde.User
	Balance int64
	Kudos   Chart
	Awards  []awardRow
	Workers []horde.Worker
	Online  map[string]bool
	Art     []Art
}

type awardRow struct {
	Label        string
	Count, Kudos int64
}

// awardKinds are the ledger kinds the member page sums, in display order.
var awardKinds = []struct {
	kind  kudos.EntryKind
	label string
}{
	{kudos.KindAwardHelpful, "Helpful"},
	{kudos.KindAwardArt, "Art"},
	{kudos.KindAwardModeration, "Moderation"},
	{kudos.KindGeneration, "Worker rewards"},
	{kudos.KindUptime, "Worker uptime"},
}

// member is GET /u/{name}[?id=N]: a member's kudos over time, awards by
// category, workers and recent shared art. Names are not unique: ?id picks
// one, otherwise the oldest, and the others of that name are listed. A
// flagged member's page shows the name only.
func (w *Handler) member(ctx context.Context, r *http.Request) (string, page, error) {
	name := r.PathValue("name")
	users, err := w.st.UsersNamed(ctx, name)
	if err != nil {
		return "", page{}, fmt.Errorf("member %q: %w", name, err)
	}
	if len(users) == 0 {
		return "", page{}, notFound("No member is called %s.", horde.QuoteInput(name))
	}
	d := memberData{User: users[0]}
	if id := r.URL.Query().Get("id"); id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		found := false
		for _, u := range users {
			if err == nil && u.ID == n {
				d.User, found = u, true
			}
		}
		if !found {
			return "", page{}, notFound("No member called %s has that id.", horde.QuoteInput(name))
		}
	}
	for _, u := range users {
		if u.ID != d.User.ID && !u.Flagged {
			d.Others = append(d.Others, u)
		}
	}
	p := page{Title: d.User.Name, Path: "/u/", Data: &d}
	if d.User.Flagged {
		d.Hidden, d.Others = true, nil
		return "member", p, nil
	}
	if err := w.memberDetails(ctx, &d); err != nil {
		return "", page{}, fmt.Errorf("member %d: %w", d.User.ID, err)
	}
	return "member", p, nil
}

func (w *Handler) memberDetails(ctx context.Context, d *memberData) error {
	uid := d.User.ID
	var err error
	if d.Balance, err = w.st.Balance(ctx, uid); err != nil {
		return err
	}
	// A busy worker owner has an entry per job: their ledger sums come from
	// the memo (a few minutes old at most), their balance is read live.
	now := w.clock.Now()
	l, err := w.ledgers.get(ctx, fmt.Sprint(uid), now, func(ctx context.Context) (memberLedger, error) {
		return w.memberLedger(ctx, uid, now)
	})
	if err != nil {
		return err
	}
	d.Kudos = balanceChart(l.balance, l.from, l.days)
	for _, a := range awardKinds {
		row := awardRow{Label: a.label}
		for _, t := range l.awards {
			if t.Kind == a.kind {
				row.Count, row.Kudos = t.Count, t.Kudos
			}
		}
		d.Awards = append(d.Awards, row)
	}
	all, err := w.h.Workers(ctx, "")
	if err != nil {
		return err
	}
	d.Online = map[string]bool{}
	for _, wk := range all {
		if wk.OwnerID == uid {
			d.Workers = append(d.Workers, wk)
			d.Online[wk.ID] = wk.Online(now)
		}
	}
	if d.User.DiscordID != "" {
		if d.Art, err = w.st.SharedArt(ctx, ArtQuery{Order: ArtNewest, DiscordUserID: d.User.DiscordID, Limit: 8}); err != nil {
			return err
		}
	}
	return nil
}

// memberLedger is what the member page sums of a member's ledger: the
// balance and the entries per day behind the chart, and the awards.
type memberLedger struct {
	balance int64
	from    time.Time
	days    []KudosDay
	awards  []AwardTotal
}

func (w *Handler) memberLedger(ctx context.Context, uid int64, now time.Time) (memberLedger, error) {
	var l memberLedger
	var err error
	if l.balance, err = w.st.Balance(ctx, uid); err != nil {
		return l, err
	}
	today := now.UTC().Truncate(24 * time.Hour)
	l.from = today.AddDate(0, 0, -(MemberDays - 1))
	if l.days, err = w.st.KudosByDay(ctx, uid, l.from, today.AddDate(0, 0, 1)); err != nil {
		return l, err
	}
	kinds := make([]kudos.EntryKind, len(awardKinds))
	for i, a := range awardKinds {
		kinds[i] = a.kind
	}
	l.awards, err = w.st.AwardsReceived(ctx, uid, kinds)
	return l, err
}

// balanceChart draws the balance at the end of each of MemberDays days
// from from: today's is the balance now, each earlier one today's less
// the entries since.
func balanceChart(balance int64, from time.Time, days []KudosDay) Chart {
	delta := map[time.Time]int64{}
	for _, d := range days {
		delta[d.Day.UTC()] = d.Delta
	}
	pts := make([]Point, MemberDays)
	v := balance
	for i := MemberDays - 1; i >= 0; i-- {
		day := from.AddDate(0, 0, i)
		pts[i] = Point{At: day, Value: float64(v)}
		v -= delta[day]
	}
	return Chart{ID: "kudos", Title: fmt.Sprintf("Kudos balance, last %d days", MemberDays), Unit: "kudos", Points: pts}
}

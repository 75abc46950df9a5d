package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/web"
	"github.com/hordebot/hordebot/kudos"
)

// What the web pages (horde/web) read: a member's kudos per day and awards,
// and the shared art of the gallery.

// KudosByDay sums a member's ledger entries per UTC day in [from, to): the
// whole days from the ledger's day rollup, a partial day at either end from
// the ledger itself.
func (s *Store) KudosByDay(ctx context.Context, userID int64, from, to time.Time) ([]web.KudosDay, error) {
	f, t := nanos(from), nanos(to)
	if t <= f {
		return nil, nil
	}
	what := fmt.Sprintf("kudos per day of user %d", userID)
	var out []web.KudosDay
	// partial adds the entries of [lo, hi), a part of one day.
	partial := func(lo, hi int64) error {
		if lo >= hi {
			return nil
		}
		var n, sum int64
		if err := s.r.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(delta), 0) FROM ledger WHERE user_id = ? AND at >= ? AND at < ?`,
			userID, lo, hi).Scan(&n, &sum); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if n > 0 {
			out = append(out, web.KudosDay{Day: fromNanos(floorTo(lo, day)), Delta: sum})
		}
		return nil
	}
	first, last := ceilTo(f, day), floorTo(t, day)
	if first > last { // within one day
		return out, partial(f, t)
	}
	if err := partial(f, first); err != nil {
		return nil, err
	}
	if first < last {
		days, err := queryRows(ctx, s.r, what, func(row scanner) (web.KudosDay, error) {
			var d web.KudosDay
			var n int64
			err := row.Scan(&n, &d.Delta)
			d.Day = fromNanos(n)
			return d, err
		}, `SELECT day, sum(net) FROM ledger_days WHERE user_id = ? AND day >= ? AND day < ? GROUP BY day ORDER BY day`,
			userID, first, last)
		if err != nil {
			return nil, err
		}
		out = append(out, days...)
	}
	if err := partial(last, t); err != nil {
		return nil, err
	}
	return out, nil
}

// AwardsReceived sums a member's positive entries of the given kinds, all
// time, from the ledger's all-time rollup.
func (s *Store) AwardsReceived(ctx context.Context, userID int64, kinds []kudos.EntryKind) ([]web.AwardTotal, error) {
	if len(kinds) == 0 {
		return nil, nil
	}
	args := []any{userID}
	for _, k := range kinds {
		args = append(args, string(k))
	}
	return queryRows(ctx, s.r, fmt.Sprintf("awards of user %d", userID), func(row scanner) (web.AwardTotal, error) {
		var a web.AwardTotal
		var kind string
		err := row.Scan(&kind, &a.Count, &a.Kudos)
		a.Kind = kudos.EntryKind(kind)
		return a, err
	}, `SELECT kind, gains, earned FROM ledger_totals WHERE user_id = ? AND kind IN (?`+strings.Repeat(",?", len(kinds)-1)+`)
AND gains > 0 ORDER BY kind`, args...)
}

// SharedArt returns the posts shared to the art channel that q selects,
// with their images; never those of flagged members, nor those whose
// request is gone.
func (s *Store) SharedArt(ctx context.Context, q web.ArtQuery) ([]web.Art, error) {
	if q.Limit <= 0 {
		return nil, nil
	}
	nsfw := 0
	if q.NSFW {
		nsfw = 1
	}
	where, args := "", []any{nsfw}
	if q.DiscordUserID != "" {
		where = " AND p.discord_user_id = ?"
		args = append(args, q.DiscordUserID)
	}
	order := "p.created_at DESC, p.message_id"
	if q.Order == web.ArtMostReacted {
		order = "reactions DESC, p.created_at DESC, p.message_id"
	}
	args = append(args, q.Limit)
	arts, err := queryRows(ctx, s.r, "shared art", func(row scanner) (web.Art, error) {
		var a web.Art
		var at int64
		var prompt string
		u, err := scanUser(row, &a.MessageID, &a.RequestID, &at, &prompt, &a.NSFW, &a.Reactions, &a.Raters, &a.Rating)
		a.Artist, a.SharedAt = u, fromNanos(at)
		a.Prompt, _, _ = strings.Cut(prompt, "###")
		a.Prompt = strings.TrimSpace(a.Prompt)
		return a, err
	}, `SELECT `+userColumns+`, p.message_id, p.request_id, p.created_at, r.prompt, r.nsfw,
(SELECT count(DISTINCT x.reactor_id) FROM art_reactions x WHERE x.message_id = p.message_id) AS reactions,
(SELECT count(DISTINCT y.user_id) FROM ratings y WHERE y.request_id = p.request_id),
(SELECT coalesce(avg(CASE WHEN y.rating > 0 THEN y.rating END), 0) FROM ratings y WHERE y.request_id = p.request_id)
FROM shared_posts p
JOIN users u ON u.discord_id = p.discord_user_id
JOIN requests r ON r.id = p.request_id
WHERE u.flagged = 0 AND (? = 1 OR r.nsfw = 0)`+where+`
ORDER BY `+order+` LIMIT ?`, args...)
	if err != nil || len(arts) == 0 {
		return arts, err
	}
	ids := make([]any, len(arts))
	byReq := make(map[string][]int, len(arts))
	for i, a := range arts {
		ids[i] = a.RequestID
		byReq[a.RequestID] = append(byReq[a.RequestID], i)
	}
	type img struct {
		req string
		web.ArtImage
	}
	imgs, err := queryRows(ctx, s.r, "shared art images", func(row scanner) (img, error) {
		var im img
		err := row.Scan(&im.req, &im.Ref, &im.Model)
		return im, err
	}, `SELECT request_id, blob_ref, model FROM generations
WHERE request_id IN (?`+strings.Repeat(",?", len(ids)-1)+`) AND state = ? AND blob_ref != ''
ORDER BY request_id, item`, append(ids, horde.ResultOK)...)
	if err != nil {
		return nil, err
	}
	for _, im := range imgs {
		for _, i := range byReq[im.req] {
			arts[i].Images = append(arts[i].Images, im.ArtImage)
		}
	}
	return arts, nil
}

// ForgetSharedPost deletes the record of a shared post whose message was
// deleted on Discord: it leaves the gallery, and reactions on it credit
// nobody any more. A message that was no shared post changes nothing.
func (s *Store) ForgetSharedPost(ctx context.Context, messageID string) error {
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM shared_posts WHERE message_id = ?`, messageID)
		return err
	})
	if err != nil {
		return unavailable(fmt.Errorf("forget shared post %s: %w", messageID, err))
	}
	return nil
}

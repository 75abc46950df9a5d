package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/hordebot/hordebot/kudos"
)

var _ kudos.PartyStore = (*Store)(nil)

const (
	partyColumns = `id, key, guild_id, channel_id, host_id, theme, award, budget, spent, refunded, interval_ns,
generations, starts_at, ends_at, ended, ended_at, ended_by, announced`
	qPartyByKey  = `SELECT ` + partyColumns + ` FROM parties WHERE key = ?`
	qPartyByID   = `SELECT ` + partyColumns + ` FROM parties WHERE id = ?`
	qPartyOpenIn = `SELECT ` + partyColumns + ` FROM parties WHERE channel_id = ? AND ended = 0`
	qInsertParty = `INSERT INTO parties (key, guild_id, channel_id, host_id, theme, award, budget, interval_ns, starts_at, ends_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`
	// Counting first takes the party's row lock (PostgreSQL), so a close
	// running at the same time either sees this generation's award or
	// makes it count nothing.
	qCountPartyGeneration   = `UPDATE parties SET generations = generations + 1 WHERE id = ? AND ended = 0`
	qUncountPartyGeneration = `UPDATE parties SET generations = generations - 1 WHERE id = ?`
	qInsertPartyGeneration  = `INSERT INTO party_generations (party_id, request_id, member_id, image_ref, at)
VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	qInsertPartyAward = `INSERT INTO party_awards (party_id, member_id, slot, request_id, amount, at)
VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`
	qDeletePartyAward = `DELETE FROM party_awards WHERE party_id = ? AND member_id = ? AND slot = ?`
	qSpendParty       = `UPDATE parties SET spent = spent + ?1 WHERE id = ?2 AND ended = 0 AND spent + ?1 <= budget`
	qCloseParty       = `UPDATE parties SET ended = 1, ended_at = ?, ended_by = ?, refunded = budget - spent WHERE id = ? AND ended = 0`
)

func scanParty(row scanner) (kudos.Party, error) {
	var (
		p                             kudos.Party
		interval, starts, ends, endAt int64
		ended, announced              int64
	)
	err := row.Scan(&p.ID, &p.Key, &p.GuildID, &p.ChannelID, &p.HostID, &p.Theme, &p.Award, &p.Budget, &p.Spent, &p.Refunded,
		&interval, &p.Generations, &starts, &ends, &ended, &endAt, &p.EndedBy, &announced)
	if err != nil {
		return kudos.Party{}, err
	}
	p.Interval = time.Duration(interval)
	p.StartsAt, p.EndsAt, p.EndedAt = fromNanos(starts), fromNanos(ends), fromNanos(endAt)
	p.Ended, p.Announced = ended != 0, announced != 0
	return p, nil
}

// noParty is the refusal of a channel (or id) without an open party.
func noParty() error {
	return kudos.Refuse(kudos.RefuseNoParty, "there is no party running in this channel")
}

// partyRow reads one party with query in tx (or the read pool when tx is nil).
func (s *Store) partyRow(ctx context.Context, tx *sql.Tx, what, query string, args ...any) (kudos.Party, error) {
	var row *sql.Row
	if tx != nil {
		row = tx.QueryRowContext(ctx, query, args...)
	} else {
		row = s.r.QueryRowContext(ctx, query, args...)
	}
	p, err := scanParty(row)
	if errors.Is(err, sql.ErrNoRows) {
		return kudos.Party{}, noParty()
	}
	if err != nil {
		return kudos.Party{}, unavailable(fmt.Errorf("read party (%s): %w", what, err))
	}
	return p, nil
}

// OpenParty records a party and holds its budget in one transaction (see
// kudos.PartyStore): a replayed key returns the party it recorded; the
// channel's open party (the partial unique index) refuses it; a host who
// cannot cover the budget fails it with kudos.ErrInsufficient.
func (s *Store) OpenParty(ctx context.Context, p kudos.Party, budget kudos.Entry) (kudos.Party, bool, error) {
	if err := budget.Validate(); err != nil {
		return kudos.Party{}, false, invalidEntry(err)
	}
	var (
		got     kudos.Party
		created bool
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		got, created = kudos.Party{}, false
		was, err := s.partyRow(ctx, tx, "by key", qPartyByKey, p.Key)
		if err == nil {
			got = was
			return nil // a replay: already started
		}
		if kudos.RefusalCode(err) != kudos.RefuseNoParty {
			return err
		}
		var id int64
		err = tx.QueryRowContext(ctx, qInsertParty, p.Key, p.GuildID, p.ChannelID, p.HostID, p.Theme, p.Award, p.Budget,
			int64(p.Interval), nanos(p.StartsAt), nanos(p.EndsAt)).Scan(&id)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			// The key is new (read above): the conflict is the channel's open party.
			return kudos.Refuse(kudos.RefusePartyRunning, "a party is already running in this channel; it must end before another starts")
		case isForeignKeyViolation(err):
			return kudos.Refuse(kudos.RefuseUnknownUser, "that member has no kudos account yet")
		case err != nil:
			return unavailable(fmt.Errorf("record party in channel %s: %w", p.ChannelID, err))
		}
		floored, err := s.heldFloors(ctx, tx, []kudos.Entry{budget}) // what the host's queued work holds, on PostgreSQL
		if err != nil {
			return err
		}
		if _, err := s.applyEntries(ctx, tx, floored); err != nil {
			return err
		}
		got, created = p, true
		got.ID = id
		return nil
	})
	if err != nil {
		return kudos.Party{}, false, err
	}
	return got, created, nil
}

// OpenPartyIn returns the open party of a channel; RefuseNoParty if none.
func (s *Store) OpenPartyIn(ctx context.Context, channelID string) (kudos.Party, error) {
	return s.partyRow(ctx, nil, "open in channel "+channelID, qPartyOpenIn, channelID)
}

// Party returns a party by id; RefuseNoParty if unknown.
func (s *Store) Party(ctx context.Context, id int64) (kudos.Party, error) {
	return s.partyRow(ctx, nil, fmt.Sprint("id ", id), qPartyByID, id)
}

// errPartyState is a party's rows out of step with the ledger.
var errPartyState = errors.New("party and ledger out of step")

// RecordPartyGeneration counts a generation for an open party and pays its
// award, in one transaction (see kudos.PartyStore). Each rule is a
// statement's condition or key, never a read then a write: the count needs
// the party open, the generation row is keyed by request, the award row by
// (party, member, slot), and the spend needs spent + award <= budget.
func (s *Store) RecordPartyGeneration(ctx context.Context, r kudos.PartyRecord, award *kudos.Entry) (kudos.PartyRecorded, error) {
	if award != nil {
		if err := award.Validate(); err != nil {
			return kudos.PartyRecorded{}, invalidEntry(err)
		}
	}
	at := r.At
	if at.IsZero() {
		at = s.clock.Now()
	}
	var out kudos.PartyRecorded
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = kudos.PartyRecorded{}
		n, err := rowsAffected(s.exec(ctx, tx, qCountPartyGeneration, r.PartyID))
		if err != nil {
			return unavailable(fmt.Errorf("count generation of party %d: %w", r.PartyID, err))
		}
		if n == 0 {
			return nil // ended (or unknown): nothing counts any more
		}
		n, err = rowsAffected(s.exec(ctx, tx, qInsertPartyGeneration, r.PartyID, r.RequestID, r.MemberID, r.ImageRef, nanos(at)))
		if err != nil {
			return unavailable(fmt.Errorf("record generation %s of party %d: %w", r.RequestID, r.PartyID, err))
		}
		if n == 0 { // counted already: a replayed delivery
			if _, err := s.exec(ctx, tx, qUncountPartyGeneration, r.PartyID); err != nil {
				return unavailable(fmt.Errorf("uncount generation of party %d: %w", r.PartyID, err))
			}
			return nil
		}
		out.Counted = true
		if award != nil && r.Amount > 0 {
			if out.Refused, err = s.payPartyAward(ctx, tx, r, *award, at); err != nil {
				return err
			}
			out.Awarded = out.Refused == ""
		}
		out.Party, err = s.partyRow(ctx, tx, "after a generation", qPartyByID, r.PartyID)
		return err
	})
	if err != nil {
		return kudos.PartyRecorded{}, err
	}
	return out, nil
}

// payPartyAward records and pays one award in tx; it returns why it did
// not (kudos.PartyNoAwardInterval, kudos.PartyNoAwardBudget) or "".
func (s *Store) payPartyAward(ctx context.Context, tx *sql.Tx, r kudos.PartyRecord, award kudos.Entry, at time.Time) (string, error) {
	n, err := rowsAffected(s.exec(ctx, tx, qInsertPartyAward, r.PartyID, r.MemberID, r.Slot, r.RequestID, r.Amount, nanos(at)))
	if err != nil {
		return "", unavailable(fmt.Errorf("record award of party %d: %w", r.PartyID, err))
	}
	if n == 0 {
		return kudos.PartyNoAwardInterval, nil
	}
	n, err = rowsAffected(s.exec(ctx, tx, qSpendParty, r.Amount, r.PartyID))
	if err != nil {
		return "", unavailable(fmt.Errorf("spend budget of party %d: %w", r.PartyID, err))
	}
	if n == 0 {
		if _, err := s.exec(ctx, tx, qDeletePartyAward, r.PartyID, r.MemberID, r.Slot); err != nil {
			return "", unavailable(fmt.Errorf("undo award of party %d: %w", r.PartyID, err))
		}
		return kudos.PartyNoAwardBudget, nil
	}
	applied, err := s.applyEntries(ctx, tx, []kudos.Entry{award})
	if err != nil {
		return "", err
	}
	if !applied[0] {
		// The entry's key is the award row's key: it cannot exist without the row.
		return "", fmt.Errorf("award %q of party %d exists without its award row: %w", award.Key, r.PartyID, errPartyState)
	}
	return "", nil
}

// CloseParty ends an open party and refunds what it did not spend, in one
// transaction (see kudos.PartyStore).
func (s *Store) CloseParty(ctx context.Context, id, byID int64, at time.Time) (kudos.Party, bool, error) {
	if at.IsZero() {
		at = s.clock.Now()
	}
	var (
		p      kudos.Party
		closed bool
	)
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		closed = false
		n, err := rowsAffected(s.exec(ctx, tx, qCloseParty, nanos(at), byID, id))
		if err != nil {
			return unavailable(fmt.Errorf("close party %d: %w", id, err))
		}
		if p, err = s.partyRow(ctx, tx, "closing", qPartyByID, id); err != nil {
			return err
		}
		if n == 0 {
			return nil // ended already
		}
		if e, ok := p.RefundEntry(at); ok {
			applied, err := s.applyEntries(ctx, tx, []kudos.Entry{e})
			if err != nil {
				return err
			}
			if !applied[0] {
				return fmt.Errorf("refund %q of party %d exists but the party was open: %w", e.Key, id, errPartyState)
			}
		}
		closed = true
		return nil
	})
	if err != nil {
		return kudos.Party{}, false, err
	}
	return p, closed, nil
}

// DueParties returns open parties whose end time has passed, earliest first.
func (s *Store) DueParties(ctx context.Context, now time.Time, limit int) ([]kudos.Party, error) {
	return queryRows(ctx, s.r, "due parties", scanParty,
		`SELECT `+partyColumns+` FROM parties WHERE ended = 0 AND ends_at <= ? ORDER BY ends_at, id LIMIT ?`, nanos(now), limit)
}

// UnannouncedParties returns ended parties whose summary was not claimed.
func (s *Store) UnannouncedParties(ctx context.Context, limit int) ([]kudos.Party, error) {
	return queryRows(ctx, s.r, "unannounced parties", scanParty,
		`SELECT `+partyColumns+` FROM parties WHERE ended = 1 AND announced = 0 ORDER BY ended_at, id LIMIT ?`, limit)
}

// ClaimPartyAnnouncement marks an ended party's summary posted; true for
// the one call that did.
func (s *Store) ClaimPartyAnnouncement(ctx context.Context, id int64) (bool, error) {
	var claimed bool
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		n, err := rowsAffected(tx.ExecContext(ctx, `UPDATE parties SET announced = 1 WHERE id = ? AND ended = 1 AND announced = 0`, id))
		if err != nil {
			return unavailable(fmt.Errorf("claim summary of party %d: %w", id, err))
		}
		claimed = n > 0
		return nil
	})
	return claimed, err
}

// ReleasePartyAnnouncement undoes a claim.
func (s *Store) ReleasePartyAnnouncement(ctx context.Context, id int64) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE parties SET announced = 0 WHERE id = ?`, id); err != nil {
			return unavailable(fmt.Errorf("release summary of party %d: %w", id, err))
		}
		return nil
	})
}

// PartyReport returns a party, its members (most kudos first, then most
// generations, then who came first) and up to images of its images: the
// first of each member in order of their first generation, then later ones.
func (s *Store) PartyReport(ctx context.Context, id int64, images int) (kudos.PartyReport, error) {
	p, err := s.Party(ctx, id)
	if err != nil {
		return kudos.PartyReport{}, err
	}
	r := kudos.PartyReport{Party: p}
	r.Members, err = queryRows(ctx, s.r, fmt.Sprint("members of party ", id), func(row scanner) (kudos.PartyMember, error) {
		var m kudos.PartyMember
		err := row.Scan(&m.UserID, &m.Generations, &m.Awards, &m.Kudos)
		return m, err
	}, `
SELECT g.member_id, g.n, coalesce(a.n, 0), coalesce(a.kudos, 0)
FROM (SELECT member_id, count(*) AS n, min(at) AS first FROM party_generations WHERE party_id = ?1 GROUP BY member_id) g
LEFT JOIN (SELECT member_id, count(*) AS n, sum(amount) AS kudos FROM party_awards WHERE party_id = ?1 GROUP BY member_id) a
  ON a.member_id = g.member_id
ORDER BY coalesce(a.kudos, 0) DESC, g.n DESC, g.first, g.member_id`, id)
	if err != nil {
		return kudos.PartyReport{}, err
	}
	if images <= 0 {
		return r, nil
	}
	all, err := queryRows(ctx, s.r, fmt.Sprint("images of party ", id), func(row scanner) (kudos.PartyImage, error) {
		var im kudos.PartyImage
		err := row.Scan(&im.UserID, &im.RequestID, &im.ImageRef)
		return im, err
	}, `SELECT member_id, request_id, image_ref FROM party_generations WHERE party_id = ? AND image_ref != '' ORDER BY at, request_id LIMIT ?`,
		id, 64) // enough to find one per member among the first few
	if err != nil {
		return kudos.PartyReport{}, err
	}
	r.Images = pickPartyImages(all, images)
	return r, nil
}

// pickPartyImages takes up to n images: each member's first, in order, then
// the rest in order.
func pickPartyImages(all []kudos.PartyImage, n int) []kudos.PartyImage {
	var out, rest []kudos.PartyImage
	seen := map[int64]bool{}
	for _, im := range all {
		if !seen[im.UserID] && len(out) < n {
			seen[im.UserID] = true
			out = append(out, im)
			continue
		}
		rest = append(rest, im)
	}
	for _, im := range rest {
		if len(out) >= n {
			break
		}
		out = append(out, im)
	}
	return out
}

// VerifyParties returns the parties whose ledger entries (kind party, their
// ref) do not net to minus what they hold, or whose award rows do not sum to
// their spent.
func (s *Store) VerifyParties(ctx context.Context) ([]kudos.PartyMismatch, error) {
	return queryRows(ctx, s.r, "verify parties", func(row scanner) (kudos.PartyMismatch, error) {
		var m kudos.PartyMismatch
		err := row.Scan(&m.PartyID, &m.Ledger, &m.Want, &m.Awards, &m.Spent)
		return m, err
	}, `
SELECT p.id, coalesce(l.net, 0), p.spent + p.refunded - p.budget, coalesce(a.total, 0), p.spent
FROM parties p
LEFT JOIN (SELECT ref, sum(delta) AS net FROM ledger WHERE kind = ? GROUP BY ref) l ON l.ref = 'party:' || p.key
LEFT JOIN (SELECT party_id, sum(amount) AS total FROM party_awards GROUP BY party_id) a ON a.party_id = p.id
WHERE coalesce(l.net, 0) != p.spent + p.refunded - p.budget OR coalesce(a.total, 0) != p.spent
ORDER BY p.id`, string(kudos.KindParty))
}

// rowsAffected is the row count of an Exec's result.
func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

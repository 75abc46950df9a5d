package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/hordebot/hordebot/kudos"
)

// RoleStandings returns the standing of the members with these Discord ids
// who have a horde account (the others are absent from the map): balance,
// trust, and all-time earnings per ledger kind, for the role rewards
// (kudos.RoleRewards). OnlineWorker is left to the caller, which knows the
// workers' presence.
func (s *Store) MemberStandings(ctx context.Context, discordIDs []string) (map[string]kudos.MemberStanding, error) {
	out := make(map[string]kudos.MemberStanding, len(discordIDs))
	for start := 0; start < len(discordIDs); start += standingsChunk {
		chunk := discordIDs[start:min(start+standingsChunk, len(discordIDs))]
		if err := s.roleStandingsChunk(ctx, chunk, out); err != nil {
			return nil, fmt.Errorf("role standings: %w", err)
		}
	}
	return out, nil
}

func (s *Store) roleStandingsChunk(ctx context.Context, discordIDs []string, out map[string]kudos.MemberStanding) error {
	args := make([]any, len(discordIDs))
	for i, id := range discordIDs {
		args[i] = id
	}
	in := `(?` + strings.Repeat(",?", len(discordIDs)-1) + `)`
	rows, err := s.r.QueryContext(ctx, `SELECT u.discord_id, u.id, u.trusted, coalesce(b.kudos, 0)
FROM users u LEFT JOIN balances b ON b.user_id = u.id WHERE u.discord_id IN `+in, args...)
	if err != nil {
		return err
	}
	byUser := map[int64]string{}
	for rows.Next() {
		var (
			did string
			rs  kudos.MemberStanding
		)
		if err := rows.Scan(&did, &rs.UserID, &rs.Trusted, &rs.Balance); err != nil {
			rows.Close()
			return err
		}
		rs.Earned = map[kudos.EntryKind]int64{}
		out[did] = rs
		byUser[rs.UserID] = did
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil || len(byUser) == 0 {
		return err
	}
	uargs := make([]any, 0, len(byUser))
	for id := range byUser {
		uargs = append(uargs, id)
	}
	// The all-time rollup of positive entries (ledger_rollups.go), kept by every ledger insert.
	// Both IN lists make it seeks on the (kind, user_id) key.
	kinds := make([]any, len(kudos.EarningKinds))
	for i, k := range kudos.EarningKinds {
		kinds[i] = string(k)
	}
	rows, err = s.r.QueryContext(ctx, `SELECT user_id, kind, earned FROM ledger_totals
WHERE kind IN (?`+strings.Repeat(",?", len(kinds)-1)+`) AND user_id IN (?`+strings.Repeat(",?", len(uargs)-1)+`)`,
		append(kinds, uargs...)...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			uid  int64
			kind string
			sum  int64
		)
		if err := rows.Scan(&uid, &kind, &sum); err != nil {
			return err
		}
		out[byUser[uid]].Earned[kudos.EntryKind(kind)] = sum
	}
	return rows.Err()
}

// KudosChangedSince returns the Discord ids of members with a ledger entry
// after the entry id cursor (at most limit entries are read), and the
// cursor to ask from next time. A cursor below 0 asks only for the current
// end of the ledger: the ids are nil.
func (s *Store) KudosChangedSince(ctx context.Context, cursor int64, limit int) ([]string, int64, error) {
	if cursor < 0 {
		var last int64
		if err := s.r.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM ledger`).Scan(&last); err != nil {
			return nil, cursor, fmt.Errorf("end of the ledger: %w", err)
		}
		return nil, last, nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT l.id, coalesce(u.discord_id, '') FROM ledger l
JOIN users u ON u.id = l.user_id WHERE l.id > ? ORDER BY l.id LIMIT ?`, cursor, limit)
	if err != nil {
		return nil, cursor, fmt.Errorf("kudos changed since entry %d: %w", cursor, err)
	}
	defer rows.Close()
	seen := map[string]bool{}
	var ids []string
	for rows.Next() {
		var did string
		if err := rows.Scan(&cursor, &did); err != nil {
			return nil, cursor, fmt.Errorf("kudos changed: %w", err)
		}
		if did != "" && !seen[did] {
			seen[did] = true
			ids = append(ids, did)
		}
	}
	return ids, cursor, rows.Err()
}

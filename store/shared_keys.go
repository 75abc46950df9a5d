package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
)

var _ horde.SharedKeyStore = (*Store)(nil)

const sharedKeyColumns = `key_hash, user_id, name, kudos, utilized, max_image_pixels, max_image_steps, max_text_tokens, expiry, created_at`

// sharedKeyStyles counts the styles a key (in a query over shared_keys k) is assigned to.
const sharedKeyStyles = `(SELECT count(*) FROM styles st WHERE st.shared_key_hash = k.key_hash)`

func scanSharedKey(row interface{ Scan(...any) error }) (horde.SharedKey, error) {
	var k horde.SharedKey
	var expiry, created int64
	if err := row.Scan(&k.Hash, &k.OwnerID, &k.Name, &k.Kudos, &k.Utilized, &k.MaxImagePixels, &k.MaxImageSteps,
		&k.MaxTextTokens, &expiry, &created); err != nil {
		return horde.SharedKey{}, err
	}
	if expiry != 0 {
		k.Expiry = fromNanos(expiry)
	}
	k.CreatedAt = fromNanos(created)
	return k, nil
}

func expiryNanos(k horde.SharedKey) int64 {
	if k.Expiry.IsZero() {
		return 0
	}
	return nanos(k.Expiry)
}

// CreateSharedKey stores a new key unless its owner has max keys already.
func (s *Store) CreateSharedKey(ctx context.Context, k horde.SharedKey, max int) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM shared_keys WHERE user_id = ?`, k.OwnerID).Scan(&n); err != nil {
			return unavailable(fmt.Errorf("count shared keys of user %d: %w", k.OwnerID, err))
		}
		if max > 0 && n >= max {
			return horde.Errorf(horde.KindForbidden, "Forbidden", "you cannot have more than %d shared keys", max)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO shared_keys (`+sharedKeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.Hash, k.OwnerID, k.Name, k.Kudos, k.Utilized, k.MaxImagePixels, k.MaxImageSteps, k.MaxTextTokens,
			expiryNanos(k), nanos(k.CreatedAt))
		if err != nil {
			return unavailable(fmt.Errorf("create shared key of user %d: %w", k.OwnerID, err))
		}
		return nil
	})
}

// SharedKey returns a key by hash; ErrNotFound if none.
func (s *Store) SharedKey(ctx context.Context, hash string) (horde.SharedKey, error) {
	var k horde.SharedKey
	var expiry, created int64
	err := s.r.QueryRowContext(ctx, `SELECT `+sharedKeyColumns+`, `+sharedKeyStyles+` FROM shared_keys k WHERE key_hash = ?`, hash).
		Scan(&k.Hash, &k.OwnerID, &k.Name, &k.Kudos, &k.Utilized, &k.MaxImagePixels, &k.MaxImageSteps,
			&k.MaxTextTokens, &expiry, &created, &k.Styles)
	if err != nil {
		return horde.SharedKey{}, notFound(err, "read shared key")
	}
	if expiry != 0 {
		k.Expiry = fromNanos(expiry)
	}
	k.CreatedAt = fromNanos(created)
	return k, nil
}

// UpdateSharedKey saves a key's name, budget, limits and expiry.
func (s *Store) UpdateSharedKey(ctx context.Context, k horde.SharedKey) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE shared_keys SET name = ?, kudos = ?, max_image_pixels = ?, max_image_steps = ?,
max_text_tokens = ?, expiry = ? WHERE key_hash = ?`, k.Name, k.Kudos, k.MaxImagePixels, k.MaxImageSteps, k.MaxTextTokens,
			expiryNanos(k), k.Hash)
		if err != nil {
			return unavailable(fmt.Errorf("update shared key: %w", err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("update shared key: %w", horde.ErrNotFound)
		}
		return nil
	})
}

// DeleteSharedKey removes a key; ErrNotFound if none.
func (s *Store) DeleteSharedKey(ctx context.Context, hash string) error {
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM shared_keys WHERE key_hash = ?`, hash)
		if err != nil {
			return unavailable(fmt.Errorf("delete shared key: %w", err))
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("delete shared key: %w", horde.ErrNotFound)
		}
		return nil
	})
}

// SharedKeys returns a user's keys, oldest first.
func (s *Store) SharedKeys(ctx context.Context, userID int64) ([]horde.SharedKey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+sharedKeyColumns+` FROM shared_keys WHERE user_id = ? ORDER BY created_at`, userID)
	if err != nil {
		return nil, fmt.Errorf("read shared keys of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []horde.SharedKey
	for rows.Next() {
		k, err := scanSharedKey(rows)
		if err != nil {
			return nil, fmt.Errorf("read shared keys of user %d: %w", userID, err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// insertRequestExtras records what r carries beside its row (its shared
// key, its webhook, its style), if anything, and counts the use of its
// style and collection. Part of CreateRequest's transaction, so that a
// style is counted once per stored request.
func insertRequestExtras(ctx context.Context, tx *sql.Tx, r horde.Request) error {
	x := r.Extras
	if x == nil || *x == (horde.RequestExtras{Interaction: x.Interaction}) {
		return nil // the interaction is linked apart (linkDiscordInteraction)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO request_extras (request_id, shared_key_hash, webhook, style_id, collection_id, style_owner)
VALUES (?, ?, ?, ?, ?, ?)`, r.ID, x.SharedKey, x.Webhook, x.StyleID, x.CollectionID, x.StyleOwner); err != nil {
		return unavailable(fmt.Errorf("store extras of request %s: %w", r.ID, err))
	}
	for _, use := range []struct{ table, id string }{{"styles", x.StyleID}, {"style_collections", x.CollectionID}} {
		if use.id == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+use.table+` SET use_count = use_count + 1 WHERE id = ?`, use.id); err != nil {
			return unavailable(fmt.Errorf("count the style of request %s: %w", r.ID, err))
		}
	}
	return nil
}

// qSpendSharedKey charges a request's shared key (if it has one) what the
// request was charged: arguments charged, request id. Every submit runs it.
const qSpendSharedKey = `UPDATE shared_keys SET utilized = utilized + ?1,
kudos = CASE WHEN kudos = -1 THEN -1 WHEN kudos > ?1 THEN kudos - ?1 ELSE 0 END
WHERE key_hash = (SELECT shared_key_hash FROM request_extras WHERE request_id = ?2 AND shared_key_hash != '')`

// spendSharedKey charges what a finished job's requester was charged to the
// shared key its request was made with, if any: the budget goes down (never
// below 0; an unlimited one stays) and utilized up. Part of FinishJob's
// transaction.
func (s *Store) spendSharedKey(ctx context.Context, tx *sql.Tx, requestID string, charged int64) error {
	if charged <= 0 {
		return nil
	}
	_, err := s.exec(ctx, tx, qSpendSharedKey, charged, requestID)
	if err != nil {
		return unavailable(fmt.Errorf("spend shared key of request %s: %w", requestID, err))
	}
	return nil
}

// openRequestExtras fills in the shared keys and webhooks of open requests.
func openRequestExtras(ctx context.Context, tx *sql.Tx, reqs []horde.Request) error {
	if len(reqs) == 0 {
		return nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT e.request_id, e.shared_key_hash, e.webhook, e.style_id, e.collection_id, e.style_owner
FROM request_extras e JOIN requests r ON r.id = e.request_id WHERE r.state IN ('waiting', 'processing')`)
	if err != nil {
		return fmt.Errorf("open request extras: %w", err)
	}
	defer rows.Close()
	by := map[string]horde.RequestExtras{}
	for rows.Next() {
		var id string
		var x horde.RequestExtras
		if err := rows.Scan(&id, &x.SharedKey, &x.Webhook, &x.StyleID, &x.CollectionID, &x.StyleOwner); err != nil {
			return fmt.Errorf("open request extras: %w", err)
		}
		by[id] = x
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("open request extras: %w", err)
	}
	for i := range reqs {
		if x, ok := by[reqs[i].ID]; ok {
			reqs[i].Extras = &x
		}
	}
	return nil
}

// chargedOf is what a finished job's entries charge its requester.
func chargedOf(entries []kudos.Entry) int64 {
	var c int64
	for _, e := range entries {
		if e.Kind == kudos.KindRequestCost {
			c -= e.Delta
		}
	}
	return c
}

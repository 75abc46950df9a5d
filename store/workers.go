package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/hordebot/hordebot/horde"
)

// SaveWorker inserts or updates a worker by ID (CreatedAt is kept from the
// first save). A name taken by another worker (case-insensitively) is
// KindConflict; an unknown owner is KindInvalid.
func (s *Store) SaveWorker(ctx context.Context, w horde.Worker) error {
	if w.ID == "" {
		return horde.Invalidf("id", "a worker needs an id")
	}
	if w.Name == "" {
		return horde.Invalidf("name", "a worker needs a name")
	}
	if w.CreatedAt.IsZero() {
		w.CreatedAt = s.clock.Now()
	}
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.saveWorkerSQL(),
			w.ID, w.Name, w.OwnerID, string(w.Kind), w.Info, stringList(w.Models), w.MaxPixels, w.NSFW,
			stringList(w.Blacklist), w.AllowImg2Img, w.AllowPainting, w.AllowPostProcessing, w.AllowLora,
			w.MaxLength, w.MaxContextLength, w.Threads, w.BridgeAgent, w.Maintenance, w.Paused,
			nanos(w.LastPop), nanos(w.CreatedAt), w.Fulfilled, w.Dropped, w.KudosEarned, w.UptimeSeconds,
			w.Performance)
		switch {
		case isUniqueViolation(err, "workers.name"):
			return conflict("NameAlreadyExists", "a worker named %q already exists", w.Name)
		case isForeignKeyViolation(err):
			return horde.Invalidf("owner", "worker %s: owner %d does not exist", w.ID, w.OwnerID)
		case err != nil:
			return unavailable(fmt.Errorf("save worker %s: %w", w.ID, err))
		}
		return nil
	})
}

// saveWorkerSQL is SaveWorker's upsert: the counters, the uptime and the
// last pop never go down (worker_counts.go).
func (s *Store) saveWorkerSQL() string {
	up := s.larger()
	return `INSERT INTO workers (id, name, owner_id, kind, info, models, max_pixels, nsfw,
	blacklist, allow_img2img, allow_painting, allow_post_processing, allow_lora, max_length, max_context_length,
	threads, bridge_agent, maintenance, paused, last_pop, created_at, fulfilled, dropped, kudos_earned,
	uptime_seconds, performance)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET name = excluded.name, owner_id = excluded.owner_id, kind = excluded.kind,
	info = excluded.info, models = excluded.models, max_pixels = excluded.max_pixels, nsfw = excluded.nsfw,
	blacklist = excluded.blacklist, allow_img2img = excluded.allow_img2img,
	allow_painting = excluded.allow_painting, allow_post_processing = excluded.allow_post_processing,
	allow_lora = excluded.allow_lora, max_length = excluded.max_length,
	max_context_length = excluded.max_context_length, threads = excluded.threads,
	bridge_agent = excluded.bridge_agent, maintenance = excluded.maintenance, paused = excluded.paused,
	last_pop = ` + up + `(workers.last_pop, excluded.last_pop),
	fulfilled = ` + up + `(workers.fulfilled, excluded.fulfilled),
	dropped = ` + up + `(workers.dropped, excluded.dropped),
	kudos_earned = ` + up + `(workers.kudos_earned, excluded.kudos_earned),
	uptime_seconds = ` + up + `(workers.uptime_seconds, excluded.uptime_seconds),
	performance = excluded.performance`
}

// Workers returns every worker, ordered by name, with Trusted copied from its owner.
func (s *Store) Workers(ctx context.Context) ([]horde.Worker, error) {
	return queryRows(ctx, s.r, "list workers", scanWorker, `SELECT w.id, w.name, w.owner_id, w.kind, w.info, w.models, w.max_pixels,
	w.nsfw, w.blacklist, w.allow_img2img, w.allow_painting, w.allow_post_processing, w.allow_lora, w.max_length,
	w.max_context_length, w.threads, w.bridge_agent, w.maintenance, w.paused, u.trusted, w.last_pop,
	w.created_at, w.fulfilled, w.dropped, w.kudos_earned, w.uptime_seconds, w.performance
FROM workers w JOIN users u ON u.id = w.owner_id ORDER BY w.name`)
}

// scanWorker reads a row of Workers.
func scanWorker(row scanner) (horde.Worker, error) {
	var w horde.Worker
	var kind, models, blacklist string
	var lastPop, created int64
	err := row.Scan(&w.ID, &w.Name, &w.OwnerID, &kind, &w.Info, &models, &w.MaxPixels, &w.NSFW,
		&blacklist, &w.AllowImg2Img, &w.AllowPainting, &w.AllowPostProcessing, &w.AllowLora, &w.MaxLength,
		&w.MaxContextLength, &w.Threads, &w.BridgeAgent, &w.Maintenance, &w.Paused, &w.Trusted, &lastPop,
		&created, &w.Fulfilled, &w.Dropped, &w.KudosEarned, &w.UptimeSeconds, &w.Performance)
	if err != nil {
		return horde.Worker{}, err
	}
	w.Kind = horde.RequestKind(kind)
	if w.Models, err = parseStringList(models); err != nil {
		return horde.Worker{}, fmt.Errorf("worker %s models: %w", w.ID, err)
	}
	if w.Blacklist, err = parseStringList(blacklist); err != nil {
		return horde.Worker{}, fmt.Errorf("worker %s blacklist: %w", w.ID, err)
	}
	w.LastPop = fromNanos(lastPop)
	w.CreatedAt = fromNanos(created)
	return w, nil
}

// DeleteWorker removes a worker and its key; ErrNotFound if none. Its past
// jobs and generations stay.
func (s *Store) DeleteWorker(ctx context.Context, id string) error {
	defer s.creds.invalidate()
	return s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM api_keys WHERE worker_id = ?`, id); err != nil {
			return unavailable(fmt.Errorf("delete key of worker %s: %w", id, err))
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM workers WHERE id = ?`, id)
		if err != nil {
			return unavailable(fmt.Errorf("delete worker %s: %w", id, err))
		}
		return mustAffect(res, "delete worker %s", id)
	})
}

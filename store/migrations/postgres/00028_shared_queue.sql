-- The shared queue: one row per (request, model bucket) while the request
-- has waiting items, so that several schedulers on this database claim work
-- with SELECT ... FOR UPDATE SKIP LOCKED over (kind, model, score). model is
-- '' for a request naming no model; score is horde.PriorityScore (kudos*1000
-- minus 5 per millisecond of submit time), the key the in-memory queue of
-- SQLite orders by, so the order is the same in both engines.

-- +goose Up
CREATE TABLE queue_entries (
    request_id TEXT    NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    model      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    user_id    BIGINT  NOT NULL,
    score      BIGINT  NOT NULL,
    created_at BIGINT  NOT NULL,
    PRIMARY KEY (request_id, model)
);
-- A pop walks the buckets of its worker's models in priority order.
CREATE INDEX queue_entries_pick ON queue_entries (kind, model, score DESC, created_at, request_id);
-- A worker serves its owner's requests first.
CREATE INDEX queue_entries_user ON queue_entries (kind, user_id, score DESC, created_at, request_id);
-- What a member's open requests hold, counted against their concurrency.
CREATE INDEX requests_open_user ON requests (user_id) WHERE state IN ('waiting', 'processing');

-- The requests waiting when the migration runs.
INSERT INTO queue_entries (request_id, model, kind, user_id, score, created_at)
SELECT r.id, m.model, r.kind, r.user_id,
       LEAST(GREATEST(r.priority, -1000000000000), 1000000000000) * 1000 - 5 * (r.created_at / 1000000),
       r.created_at
FROM requests r
CROSS JOIN LATERAL (
    SELECT DISTINCT e.model FROM jsonb_array_elements_text(r.models::jsonb) AS e(model)
    UNION ALL
    SELECT '' WHERE jsonb_array_length(r.models::jsonb) = 0
) m
WHERE r.state IN ('waiting', 'processing')
  AND EXISTS (SELECT 1 FROM items i WHERE i.request_id = r.id AND i.state = 'waiting')
ON CONFLICT DO NOTHING;

-- +goose Down
DROP INDEX requests_open_user;
DROP TABLE queue_entries;

-- Twin of ../00035_generation_totals_shards.sql. The per-model totals of
-- the stored results (00016) are split into shards: a write adds to the
-- first shard of its model that no other transaction holds, or to a new
-- one numbered for its session (store/genstats.go); a read sums them.
-- Every finished job adds to its model's total, and a row lock lasts
-- until the group commit that took it commits: with one row per model,
-- the group commits of two processes waited for each other on it (and
-- deadlocked when they took two models' rows in opposite orders). SQLite,
-- with one writer, keeps every total in shard 0. The rows so far become
-- shard 0.

-- +goose Up
ALTER TABLE generation_totals ADD COLUMN shard INTEGER NOT NULL DEFAULT 0;
ALTER TABLE generation_totals DROP CONSTRAINT generation_totals_pkey;
ALTER TABLE generation_totals ADD PRIMARY KEY (kind, model, shard);

-- +goose Down
CREATE TABLE generation_totals_merged AS
SELECT kind, model, sum(count)::bigint AS count, sum(units)::bigint AS units FROM generation_totals GROUP BY kind, model;
DROP TABLE generation_totals;
CREATE TABLE generation_totals (
    kind  TEXT    NOT NULL,
    model TEXT    NOT NULL,
    count BIGINT  NOT NULL,
    units BIGINT  NOT NULL,
    PRIMARY KEY (kind, model)
);
INSERT INTO generation_totals (kind, model, count, units) SELECT kind, model, count, units FROM generation_totals_merged;
DROP TABLE generation_totals_merged;

-- Twin of postgres/00035_generation_totals_shards.sql. The per-model
-- totals of the stored results (00016) get a shard in their key: on
-- PostgreSQL a write adds to a shard no other transaction holds, so that
-- several processes' group commits do not all wait for one row per model;
-- reads sum the shards. SQLite has one writer and keeps every
-- total in shard 0 (the rows so far).

-- +goose Up
CREATE TABLE generation_totals_sharded (
    kind  TEXT    NOT NULL,
    model TEXT    NOT NULL,
    shard INTEGER NOT NULL DEFAULT 0,
    count INTEGER NOT NULL,
    units INTEGER NOT NULL,
    PRIMARY KEY (kind, model, shard)
) WITHOUT ROWID;
INSERT INTO generation_totals_sharded (kind, model, shard, count, units)
SELECT kind, model, 0, count, units FROM generation_totals;
DROP TABLE generation_totals;
ALTER TABLE generation_totals_sharded RENAME TO generation_totals;

-- +goose Down
CREATE TABLE generation_totals_merged (
    kind  TEXT    NOT NULL,
    model TEXT    NOT NULL,
    count INTEGER NOT NULL,
    units INTEGER NOT NULL,
    PRIMARY KEY (kind, model)
) WITHOUT ROWID;
INSERT INTO generation_totals_merged (kind, model, count, units)
SELECT kind, model, sum(count), sum(units) FROM generation_totals GROUP BY kind, model;
DROP TABLE generation_totals;
ALTER TABLE generation_totals_merged RENAME TO generation_totals;

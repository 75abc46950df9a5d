-- Twin of ../00032_queue_estimates.sql. The shared queue's estimates: one
-- row, rewritten by the process holding the "sweeps" lease every sweep
-- (horde.Horde.SweepShared), read by every process at most every couple of
-- seconds (store/queue_estimates.go encodes body). A row rewritten whole
-- leaves one dead tuple a sweep, where a row per waiting request would
-- leave one per request.

-- +goose Up
CREATE TABLE queue_estimates (
    name        TEXT   PRIMARY KEY,       -- 'queue'
    computed_at BIGINT NOT NULL,          -- unix nanoseconds of the queue it describes
    body        BYTEA  NOT NULL
);

-- +goose Down
DROP TABLE queue_estimates;

-- The shared queue's estimates (queue positions, waits, queue counts),
-- computed by the one process holding the "sweeps" lease and read by every
-- process, live in PostgreSQL only: on SQLite the one scheduler computes
-- them from its memory. This migration is the twin of
-- postgres/00032_queue_estimates.sql and changes nothing here.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;

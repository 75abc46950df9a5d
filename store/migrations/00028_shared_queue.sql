-- The shared queue (queue_entries) lives in PostgreSQL only: on SQLite the
-- waiting queue is the memory of the one scheduler process (horde's
-- queueIndex), rebuilt from requests and items at start. This migration is
-- the twin of postgres/00028_shared_queue.sql and changes nothing here.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;

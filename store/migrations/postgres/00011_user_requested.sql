-- +goose Up
-- How many items each user ever requested (find_user's usage.requests), kept
-- as a counter so that it outlives the retention purge of old requests.
ALTER TABLE users ADD COLUMN requested BIGINT  NOT NULL DEFAULT 0;
UPDATE users SET requested = (SELECT COALESCE(SUM(n), 0) FROM requests WHERE requests.user_id = users.id);

-- +goose Down
ALTER TABLE users DROP COLUMN requested;

-- +goose Up
-- What moderators set on users and say to workers' owners over the AI Horde
-- API (PUT /users/{id}, /workers/messages).

-- A moderator's override of the horde's concurrency cap for one user
-- (find_user's "concurrency"); NULL: the horde's default.
ALTER TABLE users ADD COLUMN concurrency BIGINT;

-- Messages to workers (the AI Horde's WorkerMessage). user_id is the user
-- who reads it: the owner of worker_id, or for a message to no worker in
-- particular (worker_id NULL) its author. Times are unix nanoseconds.
CREATE TABLE worker_messages (
    id         TEXT    PRIMARY KEY,
    worker_id  TEXT    REFERENCES workers (id) ON DELETE CASCADE,
    user_id    BIGINT  NOT NULL,
    author_id  BIGINT  NOT NULL,
    message    TEXT    NOT NULL,
    origin     TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    expires_at BIGINT  NOT NULL
);
CREATE INDEX worker_messages_user ON worker_messages (user_id, created_at);
CREATE INDEX worker_messages_worker ON worker_messages (worker_id, created_at);

-- +goose Down
DROP TABLE worker_messages;
ALTER TABLE users DROP COLUMN concurrency;

-- Shared keys and what a request carries beside its row. Times are unix
-- nanoseconds.

-- +goose Up
-- A shared key lets others request on its owner's kudos, within its
-- limits. Only the key's hash is stored (the key is its AI Horde "id",
-- shown once). kudos is what is left to spend (-1: no limit), utilized what
-- was spent; a limit of -1 is no limit; expiry 0 is never.
CREATE TABLE shared_keys (
    key_hash         TEXT    PRIMARY KEY,
    user_id          BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             TEXT    NOT NULL DEFAULT '',
    kudos            BIGINT  NOT NULL DEFAULT -1 CHECK (kudos >= -1),
    utilized         BIGINT  NOT NULL DEFAULT 0,
    max_image_pixels BIGINT  NOT NULL DEFAULT -1,
    max_image_steps  BIGINT  NOT NULL DEFAULT -1,
    max_text_tokens  BIGINT  NOT NULL DEFAULT -1,
    expiry           BIGINT  NOT NULL DEFAULT 0,
    created_at       BIGINT  NOT NULL
);
CREATE INDEX shared_keys_user ON shared_keys (user_id);

-- What a request was made with beside its own columns: the shared key that
-- pays for it and the webhook told of each finished generation. A row only
-- for requests with either; it goes with its request.
CREATE TABLE request_extras (
    request_id      TEXT PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    shared_key_hash TEXT NOT NULL DEFAULT '',
    webhook         TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE request_extras;
DROP TABLE shared_keys;

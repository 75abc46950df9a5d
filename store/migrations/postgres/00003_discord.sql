-- +goose Up
-- Results still owed to Discord: a restart resumes watching them.
CREATE TABLE discord_deliveries (
    request_id TEXT PRIMARY KEY,
    payload    BYTEA NOT NULL,   -- JSON written by the commands package
    created_at BIGINT  NOT NULL -- unix nanoseconds
);
CREATE INDEX discord_deliveries_created ON discord_deliveries (created_at);

-- Small pieces of bot state, such as the hash of the registered slash commands.
CREATE TABLE discord_settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE discord_settings;
DROP INDEX discord_deliveries_created;
DROP TABLE discord_deliveries;

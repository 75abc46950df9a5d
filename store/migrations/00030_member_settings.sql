-- A Discord member's generation defaults (/settings), one row per horde
-- user; doc is the JSON of store.storedSettings.

-- +goose Up
CREATE TABLE member_settings (
    user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    doc        TEXT    NOT NULL DEFAULT '{}',
    updated_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE member_settings;

-- +goose Up
-- Image and text styles (the AI Horde's /styles): a prompt template with its
-- params and models. doc holds the rest as JSON (storedStyle, store/styles.go).
CREATE TABLE styles (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    public     BIGINT  NOT NULL DEFAULT 1,
    nsfw       BIGINT  NOT NULL DEFAULT 0,
    use_count  BIGINT  NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL,
    doc        TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX styles_owner_name ON styles (user_id, kind, name);
CREATE INDEX styles_name ON styles (kind, name);

-- +goose Down
DROP TABLE styles;

-- +goose Up
-- Collections of styles of one kind (the AI Horde's /collections). doc holds
-- the info and the style ids as JSON (storedCollection, store/styles.go).
CREATE TABLE style_collections (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    public     BIGINT  NOT NULL DEFAULT 1,
    use_count  BIGINT  NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL,
    doc        TEXT NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX style_collections_owner_name ON style_collections (user_id, name);
CREATE INDEX style_collections_name ON style_collections (name);

-- +goose Down
DROP TABLE style_collections;

-- Styles' shared keys and what a request owes its style.

-- +goose Up
-- The shared key (its hash) that pays for the requests using a style while
-- it can ('' none); a key assigned to styles pays only through them.
ALTER TABLE styles ADD COLUMN shared_key_hash TEXT NOT NULL DEFAULT '';
CREATE INDEX styles_shared_key ON styles (shared_key_hash) WHERE shared_key_hash != '';

-- The style a request used (and the collection it came from), counted in
-- their use_count with the request, and the style's creator, paid the
-- style reward with the request's first ok result (0: nobody).
ALTER TABLE request_extras ADD COLUMN style_id TEXT NOT NULL DEFAULT '';
ALTER TABLE request_extras ADD COLUMN collection_id TEXT NOT NULL DEFAULT '';
ALTER TABLE request_extras ADD COLUMN style_owner INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE request_extras DROP COLUMN style_owner;
ALTER TABLE request_extras DROP COLUMN collection_id;
ALTER TABLE request_extras DROP COLUMN style_id;
DROP INDEX styles_shared_key;
ALTER TABLE styles DROP COLUMN shared_key_hash;

-- A request's ratings, read together to show their average on the shared
-- post and the web gallery.

-- +goose Up
CREATE INDEX ratings_request ON ratings (request_id);

-- +goose Down
DROP INDEX ratings_request;

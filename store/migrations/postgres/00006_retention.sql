-- Retention and blob garbage collection: the indexes that let the store
-- find which rows still name a blob, which finished requests are past their
-- retention, and which requests a shared art post keeps.

-- +goose Up
-- Does any row still reference this blob? (queries add blob_ref != '' so
-- that the partial index applies.)
CREATE INDEX generations_blob ON generations (blob_ref) WHERE blob_ref != '';
CREATE INDEX uploads_blob ON uploads (blob_ref);
-- Finished requests oldest first, for the retention purge.
CREATE INDEX requests_finished ON requests (finished_at) WHERE state IN ('done', 'faulted', 'cancelled');
-- Requests a shared art post refers to are kept past the retention.
CREATE INDEX shared_posts_request ON shared_posts (request_id) WHERE request_id != '';

-- +goose Down
DROP INDEX shared_posts_request;
DROP INDEX requests_finished;
DROP INDEX uploads_blob;
DROP INDEX generations_blob;

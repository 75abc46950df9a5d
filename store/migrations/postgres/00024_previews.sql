-- Live previews (hordebot's extension, horde/previews.go): the latest
-- preview image of a request, one row per request (latest wins). A row
-- exists only while the job that sent it is processing: it is deleted when
-- that job ends (FinishJob, FailJob), when its request ends (EndRequest),
-- and with the request by retention (ON DELETE CASCADE). Each image is
-- bounded by the API (256 KiB by default). Times are unix nanoseconds.

-- +goose Up
CREATE TABLE previews (
    request_id   TEXT    PRIMARY KEY REFERENCES requests (id) ON DELETE CASCADE,
    job_id       TEXT    NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    content_type TEXT    NOT NULL,
    image        BYTEA   NOT NULL,
    etag         TEXT    NOT NULL,
    at           BIGINT  NOT NULL
);
CREATE INDEX previews_job ON previews (job_id);

-- +goose Down
DROP INDEX previews_job;
DROP TABLE previews;

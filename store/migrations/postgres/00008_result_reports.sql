-- Workers' reports of results they would not deliver (state csam or
-- censored). Times are unix nanoseconds.

-- +goose Up
-- One row per reported job and kind (key "job:<id>:<kind>"), whoever
-- reported it: reports from untrusted owners are kept for the moderators
-- (/mod info) though they carry no automatic consequence. owner_id and
-- trusted are the reporting worker's owner and their trust at the time; an
-- automatic flag counts the distinct trusted owners among the live reports.
-- A moderator unflagging the user sets live to 0 (the rows stay on record).
CREATE TABLE result_reports (
    key       TEXT    PRIMARY KEY,
    user_id   BIGINT  NOT NULL,
    kind      TEXT    NOT NULL CHECK (kind IN ('csam', 'censored')),
    job_id    TEXT    NOT NULL,
    worker_id TEXT    NOT NULL,
    owner_id  BIGINT  NOT NULL,
    trusted   BIGINT  NOT NULL CHECK (trusted IN (0, 1)),
    live      BIGINT  NOT NULL DEFAULT 1 CHECK (live IN (0, 1)),
    at        BIGINT  NOT NULL
);
CREATE INDEX result_reports_live ON result_reports (user_id, kind, owner_id) WHERE live = 1;

-- +goose Down
DROP TABLE result_reports;

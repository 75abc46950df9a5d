-- +goose Up
-- A worker's submit of generation "R2" that came before its upload: the job
-- stays processing until the bytes are in (then it is settled with this
-- submission) or its deadline passes (then it is faulted).
CREATE TABLE pending_submits (
    job_id   TEXT    PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    state    TEXT    NOT NULL,
    seed     BIGINT  NOT NULL DEFAULT 0,
    metadata TEXT    NOT NULL DEFAULT '[]', -- JSON gen_metadata
    at       BIGINT  NOT NULL               -- unix nanoseconds
);

-- +goose Down
DROP TABLE pending_submits;

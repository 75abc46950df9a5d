-- Alchemy (horde/alchemy.go): interrogations, the AI Horde's requests for
-- captions, interrogations, nsfw verdicts and post-processing of one source
-- image, and their forms, each one queue item an alchemist pops. Times are
-- unix nanoseconds (0: unset); booleans are 0/1.

-- +goose Up
CREATE TABLE interrogations (
    id              TEXT    PRIMARY KEY,
    user_id         BIGINT  NOT NULL,
    source_ref      TEXT    NOT NULL, -- the source image in the blob store
    width           BIGINT  NOT NULL,
    height          BIGINT  NOT NULL,
    tiles           BIGINT  NOT NULL, -- 512x512 tiles of the source
    trusted_workers BIGINT  NOT NULL DEFAULT 0,
    slow_workers    BIGINT  NOT NULL DEFAULT 1,
    client_agent    TEXT    NOT NULL DEFAULT '',
    source          TEXT    NOT NULL DEFAULT '', -- api or discord
    priority        BIGINT  NOT NULL DEFAULT 0, -- the requester's kudos at request time
    created_at      BIGINT  NOT NULL,
    finished_at     BIGINT  NOT NULL DEFAULT 0  -- when its last open form finished
);
-- New() reads the open ones; retention the finished ones by age.
CREATE INDEX interrogations_open ON interrogations (created_at) WHERE finished_at = 0;
CREATE INDEX interrogations_finished ON interrogations (finished_at) WHERE finished_at > 0;
CREATE INDEX interrogations_user ON interrogations (user_id, created_at);
CREATE INDEX interrogations_source ON interrogations (source_ref);

CREATE TABLE interrogation_forms (
    id               TEXT    PRIMARY KEY, -- what the alchemist submits
    interrogation_id TEXT    NOT NULL REFERENCES interrogations (id) ON DELETE CASCADE,
    idx              BIGINT  NOT NULL,
    name             TEXT    NOT NULL, -- caption, interrogation, nsfw, RealESRGAN_x4plus, ...
    payload          TEXT    NOT NULL DEFAULT '', -- the form's settings, a JSON object ('' for none)
    state            TEXT    NOT NULL DEFAULT 'waiting', -- waiting, processing, done, faulted, cancelled
    kudos            BIGINT  NOT NULL DEFAULT 0, -- the alchemist's reward
    cost             BIGINT  NOT NULL DEFAULT 0, -- what the requester pays: reward plus the horde's burn
    worker_id        TEXT    NOT NULL DEFAULT '',
    worker_name      TEXT    NOT NULL DEFAULT '',
    aborts           BIGINT  NOT NULL DEFAULT 0,
    started_at       BIGINT  NOT NULL DEFAULT 0,
    deadline         BIGINT  NOT NULL DEFAULT 0,
    finished_at      BIGINT  NOT NULL DEFAULT 0,
    result           TEXT    NOT NULL DEFAULT '', -- text forms: the result object as JSON
    blob_ref         TEXT    NOT NULL DEFAULT '', -- image forms: the result image
    upload_ref       TEXT    NOT NULL DEFAULT '', -- image forms: the r2 upload not yet submitted
    UNIQUE (interrogation_id, idx)
);
-- The blob collector asks whether a row names a blob.
CREATE INDEX interrogation_forms_blob ON interrogation_forms (blob_ref) WHERE blob_ref != '';
CREATE INDEX interrogation_forms_upload ON interrogation_forms (upload_ref) WHERE upload_ref != '';

-- +goose Down
DROP INDEX interrogation_forms_upload;
DROP INDEX interrogation_forms_blob;
DROP TABLE interrogation_forms;
DROP INDEX interrogations_source;
DROP INDEX interrogations_user;
DROP INDEX interrogations_finished;
DROP INDEX interrogations_open;
DROP TABLE interrogations;

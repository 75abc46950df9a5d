-- The initial schema. Times are unix nanoseconds (INTEGER, 0 for "unset");
-- booleans are 0/1; list fields are JSON arrays in TEXT columns.

-- +goose Up
CREATE TABLE users (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    discord_id TEXT    UNIQUE, -- NULL for API-only users
    trusted    INTEGER NOT NULL DEFAULT 0,
    flagged    INTEGER NOT NULL DEFAULT 0,
    moderator  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE workers (
    id                    TEXT    PRIMARY KEY,
    name                  TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    owner_id              INTEGER NOT NULL REFERENCES users (id),
    kind                  TEXT    NOT NULL,
    info                  TEXT    NOT NULL DEFAULT '',
    models                TEXT    NOT NULL DEFAULT '[]',
    max_pixels            INTEGER NOT NULL DEFAULT 0,
    nsfw                  INTEGER NOT NULL DEFAULT 0,
    blacklist             TEXT    NOT NULL DEFAULT '[]',
    allow_img2img         INTEGER NOT NULL DEFAULT 0,
    allow_painting        INTEGER NOT NULL DEFAULT 0,
    allow_post_processing INTEGER NOT NULL DEFAULT 0,
    allow_lora            INTEGER NOT NULL DEFAULT 0,
    max_length            INTEGER NOT NULL DEFAULT 0,
    max_context_length    INTEGER NOT NULL DEFAULT 0,
    threads               INTEGER NOT NULL DEFAULT 0,
    bridge_agent          TEXT    NOT NULL DEFAULT '',
    maintenance           INTEGER NOT NULL DEFAULT 0,
    paused                INTEGER NOT NULL DEFAULT 0,
    last_pop              INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL DEFAULT 0,
    fulfilled             INTEGER NOT NULL DEFAULT 0,
    dropped               INTEGER NOT NULL DEFAULT 0,
    kudos_earned          INTEGER NOT NULL DEFAULT 0,
    uptime_seconds        INTEGER NOT NULL DEFAULT 0,
    performance           REAL    NOT NULL DEFAULT 0
);
CREATE INDEX workers_owner ON workers (owner_id);

-- A user's own key has worker_id NULL; a worker key names its one worker.
CREATE TABLE api_keys (
    key_hash  TEXT    PRIMARY KEY,
    user_id   INTEGER NOT NULL REFERENCES users (id),
    worker_id TEXT    REFERENCES workers (id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE UNIQUE INDEX api_keys_user ON api_keys (user_id) WHERE worker_id IS NULL;
CREATE UNIQUE INDEX api_keys_worker ON api_keys (worker_id) WHERE worker_id IS NOT NULL;

CREATE TABLE requests (
    id               TEXT    PRIMARY KEY,
    kind             TEXT    NOT NULL,
    user_id          INTEGER NOT NULL,
    state            TEXT    NOT NULL,
    n                INTEGER NOT NULL,
    prompt           TEXT    NOT NULL,
    models           TEXT    NOT NULL DEFAULT '[]',
    params           TEXT    NOT NULL DEFAULT '{}', -- image or text parameters
    nsfw             INTEGER NOT NULL DEFAULT 0,
    trusted_workers  INTEGER NOT NULL DEFAULT 0,
    workers          TEXT    NOT NULL DEFAULT '[]',
    worker_blacklist INTEGER NOT NULL DEFAULT 0,
    r2               INTEGER NOT NULL DEFAULT 0,
    shared           INTEGER NOT NULL DEFAULT 0,
    client_agent     TEXT    NOT NULL DEFAULT '',
    source           TEXT    NOT NULL DEFAULT '',
    kudos            INTEGER NOT NULL DEFAULT 0,
    priority         INTEGER NOT NULL DEFAULT 0,
    faults           INTEGER NOT NULL DEFAULT 0,
    reason           TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    finished_at      INTEGER NOT NULL DEFAULT 0
);
-- Open() at start reads only unfinished requests.
CREATE INDEX requests_open ON requests (created_at) WHERE state IN ('waiting', 'processing');
CREATE INDEX requests_user ON requests (user_id, created_at);

CREATE TABLE items (
    request_id TEXT    NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    idx        INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    PRIMARY KEY (request_id, idx)
) WITHOUT ROWID;

CREATE TABLE jobs (
    id          TEXT    PRIMARY KEY,
    request_id  TEXT    NOT NULL REFERENCES requests (id) ON DELETE CASCADE,
    item        INTEGER NOT NULL,
    worker_id   TEXT    NOT NULL,
    model       TEXT    NOT NULL DEFAULT '',
    seed        INTEGER NOT NULL DEFAULT 0,
    state       TEXT    NOT NULL,
    started_at  INTEGER NOT NULL,
    deadline    INTEGER NOT NULL DEFAULT 0,
    finished_at INTEGER NOT NULL DEFAULT 0,
    kudos       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX jobs_request ON jobs (request_id, item);
CREATE INDEX jobs_processing ON jobs (request_id) WHERE state = 'processing';

CREATE TABLE generations (
    job_id      TEXT    PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    request_id  TEXT    NOT NULL,
    item        INTEGER NOT NULL,
    worker_id   TEXT    NOT NULL,
    worker_name TEXT    NOT NULL DEFAULT '',
    model       TEXT    NOT NULL DEFAULT '',
    seed        INTEGER NOT NULL DEFAULT 0,
    state       TEXT    NOT NULL,
    text        TEXT    NOT NULL DEFAULT '',
    blob_ref    TEXT    NOT NULL DEFAULT '',
    metadata    TEXT    NOT NULL DEFAULT '[]',
    created_at  INTEGER NOT NULL
);
CREATE INDEX generations_request ON generations (request_id, item);

-- Blobs PUT to a job's r2 upload URL before the worker submits "R2".
CREATE TABLE uploads (
    job_id   TEXT    PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    blob_ref TEXT    NOT NULL,
    at       INTEGER NOT NULL
) WITHOUT ROWID;

-- The append-only kudos ledger; balances is derived from it in the same
-- transaction that appends a row.
CREATE TABLE ledger (
    id       INTEGER PRIMARY KEY,
    user_id  INTEGER NOT NULL,
    delta    INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    reason   TEXT    NOT NULL DEFAULT '',
    actor_id INTEGER NOT NULL DEFAULT 0,
    ref      TEXT    NOT NULL DEFAULT '',
    key      TEXT    NOT NULL UNIQUE,
    at       INTEGER NOT NULL
);
CREATE INDEX ledger_user_at ON ledger (user_id, at);
CREATE INDEX ledger_kind_at ON ledger (kind, at);

CREATE TABLE balances (
    user_id INTEGER PRIMARY KEY,
    kudos   INTEGER NOT NULL DEFAULT 0
);

-- The shared anonymous user; its key is horde.HashKey("0000000000").
INSERT INTO users (id, name) VALUES (0, 'Anonymous');
INSERT INTO api_keys (key_hash, user_id)
VALUES ('84d9c4b849506b6d8f8075a9000e7e0a254be71060ea889fad3c88395988f4fc', 0);

-- +goose Down
DROP TABLE balances;
DROP TABLE ledger;
DROP TABLE uploads;
DROP TABLE generations;
DROP TABLE jobs;
DROP TABLE items;
DROP TABLE requests;
DROP TABLE api_keys;
DROP TABLE workers;
DROP TABLE users;

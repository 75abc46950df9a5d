-- Ratings of generations and moderators' IP timeouts. Times are unix
-- nanoseconds.

-- +goose Up
-- One rating per user and generation. kudos is what the rating set paid,
-- recorded on each of its rows' first (the rest 0), so that the daily cap
-- is a sum over the rater's rows of the day.
CREATE TABLE ratings (
    user_id       INTEGER NOT NULL,
    generation_id TEXT    NOT NULL,
    request_id    TEXT    NOT NULL,
    rating        INTEGER NOT NULL DEFAULT 0,
    artifacts     INTEGER NOT NULL DEFAULT -1,
    best          INTEGER NOT NULL DEFAULT 0,
    kudos         INTEGER NOT NULL DEFAULT 0,
    at            INTEGER NOT NULL,
    PRIMARY KEY (user_id, generation_id)
) WITHOUT ROWID;
CREATE INDEX ratings_user_at ON ratings (user_id, at);

-- An address or CIDR block refused by the API until its time is up.
CREATE TABLE ip_timeouts (
    ipaddr     TEXT    PRIMARY KEY,
    until      INTEGER NOT NULL,
    created_by INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE ip_timeouts;
DROP TABLE ratings;

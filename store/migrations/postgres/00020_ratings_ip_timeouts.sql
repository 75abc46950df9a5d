-- Ratings of generations and moderators' IP timeouts. Times are unix
-- nanoseconds.

-- +goose Up
-- One rating per user and generation. kudos is what the rating set paid,
-- recorded on each of its rows' first (the rest 0), so that the daily cap
-- is a sum over the rater's rows of the day.
CREATE TABLE ratings (
    user_id       BIGINT  NOT NULL,
    generation_id TEXT    NOT NULL,
    request_id    TEXT    NOT NULL,
    rating        BIGINT  NOT NULL DEFAULT 0,
    artifacts     BIGINT  NOT NULL DEFAULT -1,
    best          BIGINT  NOT NULL DEFAULT 0,
    kudos         BIGINT  NOT NULL DEFAULT 0,
    at            BIGINT  NOT NULL,
    PRIMARY KEY (user_id, generation_id)
);
CREATE INDEX ratings_user_at ON ratings (user_id, at);

-- An address or CIDR block refused by the API until its time is up.
CREATE TABLE ip_timeouts (
    ipaddr     TEXT    PRIMARY KEY,
    until      BIGINT  NOT NULL,
    created_by BIGINT  NOT NULL DEFAULT 0,
    created_at BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE ip_timeouts;
DROP TABLE ratings;

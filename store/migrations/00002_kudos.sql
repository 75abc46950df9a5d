-- The kudos engine: reaction and thanks awards, transfers, art reactions for
-- the daily art tally, and the record of scheduled tallies. Times are unix
-- nanoseconds. Money moves only through the ledger (00001); these tables
-- hold the rules' state. User flags live in users (00001).

-- +goose Up
-- An award is pending for the settle delay, then settled (its ledger entry,
-- key "award:<giver>:<message>:<category>", is written in the same
-- transaction) or revoked (the reaction was removed first).
CREATE TABLE awards (
    id          INTEGER PRIMARY KEY,
    giver_id    INTEGER NOT NULL REFERENCES users (id),
    receiver_id INTEGER NOT NULL REFERENCES users (id),
    message_id  TEXT    NOT NULL,
    channel_id  TEXT    NOT NULL DEFAULT '',
    guild_id    TEXT    NOT NULL DEFAULT '',
    category    TEXT    NOT NULL CHECK (category IN ('helpful', 'moderation', 'art')),
    emoji       TEXT    NOT NULL DEFAULT '',
    amount      INTEGER NOT NULL CHECK (amount > 0),
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'settled', 'revoked')),
    at          INTEGER NOT NULL,
    counted_at  INTEGER NOT NULL, -- at while the award counts toward caps; 0 once revoked
    settle_at   INTEGER NOT NULL,
    done_at     INTEGER NOT NULL DEFAULT 0, -- when settled or revoked
    -- One award per (giver, message, category); message first so that the
    -- awards of a message are found by it too.
    UNIQUE (message_id, giver_id, category)
);
-- The caps sum a giver's day, a receiver's day and a pair's week over the
-- awards not revoked: covering indexes on counted_at (0 for revoked awards,
-- so they fall outside every window) read only that person's index range.
-- Settling changes none of their columns, so it does not rewrite them.
CREATE INDEX awards_giver_at ON awards (giver_id, counted_at, amount);
CREATE INDEX awards_receiver_at ON awards (receiver_id, counted_at, amount);
CREATE INDEX awards_pair_at ON awards (giver_id, receiver_id, counted_at, amount);
-- Settle reads the due pending awards; cleanup the old revoked ones.
CREATE INDEX awards_due ON awards (settle_at) WHERE state = 'pending';
CREATE INDEX awards_revoked ON awards (done_at) WHERE state = 'revoked';

-- Member-to-member transfers; key is the caller's idempotency key. The money
-- is two ledger entries keyed "transfer:<key>:out" and ":in".
CREATE TABLE transfers (
    id      INTEGER PRIMARY KEY,
    key     TEXT    NOT NULL UNIQUE,
    from_id INTEGER NOT NULL REFERENCES users (id),
    to_id   INTEGER NOT NULL REFERENCES users (id),
    amount  INTEGER NOT NULL CHECK (amount > 0),
    at      INTEGER NOT NULL
);
-- The ping-pong check: did to_id send to from_id lately?
CREATE INDEX transfers_pair_at ON transfers (from_id, to_id, at);

-- Reactions on posts in art channels, as recorded from reaction events:
-- art_reactions holds each live (message, reactor, emoji); art_reactors
-- each (message, reactor) with the time of its first reaction, which is the
-- day whose art tally counts that reactor (so a reactor counts once per post).
CREATE TABLE art_reactions (
    message_id TEXT    NOT NULL,
    reactor_id INTEGER NOT NULL,
    emoji      TEXT    NOT NULL,
    at         INTEGER NOT NULL,
    PRIMARY KEY (message_id, reactor_id, emoji)
) WITHOUT ROWID;
CREATE INDEX art_reactions_at ON art_reactions (at);

CREATE TABLE art_reactors (
    message_id TEXT    NOT NULL,
    reactor_id INTEGER NOT NULL,
    author_id  INTEGER NOT NULL,
    channel_id TEXT    NOT NULL DEFAULT '',
    first_at   INTEGER NOT NULL,
    PRIMARY KEY (message_id, reactor_id)
) WITHOUT ROWID;
CREATE INDEX art_reactors_first_at ON art_reactors (first_at);

-- One row per scheduled tally and period: a tally never runs twice.
CREATE TABLE tally_runs (
    name    TEXT    NOT NULL,
    period  TEXT    NOT NULL,
    at      INTEGER NOT NULL,
    entries INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (name, period)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE tally_runs;
DROP TABLE art_reactors;
DROP TABLE art_reactions;
DROP TABLE transfers;
DROP TABLE awards;

-- Generation parties (/party, kudos/party.go): a host's budget held for a
-- while in one channel, the generations made there and the awards paid.

-- +goose Up
-- A party. Its budget left the host's balance (a ledger entry of kind
-- party) in the transaction that inserted the row; spent is what its awards
-- paid, refunded what went back to the host when it ended. Times are unix
-- nanoseconds; interval_ns the length of one award interval.
CREATE TABLE parties (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE, -- the start's idempotency key
    guild_id    TEXT    NOT NULL,
    channel_id  TEXT    NOT NULL,
    host_id     INTEGER NOT NULL REFERENCES users (id),
    theme       TEXT    NOT NULL,
    award       INTEGER NOT NULL CHECK (award > 0),
    budget      INTEGER NOT NULL CHECK (budget >= award),
    spent       INTEGER NOT NULL DEFAULT 0 CHECK (spent >= 0 AND spent <= budget),
    refunded    INTEGER NOT NULL DEFAULT 0 CHECK (refunded >= 0 AND spent + refunded <= budget),
    interval_ns INTEGER NOT NULL CHECK (interval_ns > 0),
    generations INTEGER NOT NULL DEFAULT 0,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    ended       INTEGER NOT NULL DEFAULT 0,
    ended_at    INTEGER NOT NULL DEFAULT 0,
    ended_by    INTEGER NOT NULL DEFAULT 0,
    announced   INTEGER NOT NULL DEFAULT 0
);
-- One open party per channel: the index refuses a second one, whatever the race.
CREATE UNIQUE INDEX parties_open_channel ON parties (channel_id) WHERE ended = 0;
CREATE INDEX parties_due ON parties (ends_at) WHERE ended = 0;
CREATE INDEX parties_unannounced ON parties (ended_at) WHERE ended = 1 AND announced = 0;

-- A generation counted for a party: one row per request.
CREATE TABLE party_generations (
    party_id   INTEGER NOT NULL REFERENCES parties (id),
    request_id TEXT    NOT NULL,
    member_id  INTEGER NOT NULL,
    image_ref  TEXT    NOT NULL DEFAULT '',
    at         INTEGER NOT NULL,
    PRIMARY KEY (party_id, request_id)
);

-- An award paid by a party: at most one per member per interval (slot),
-- which the key enforces.
CREATE TABLE party_awards (
    party_id   INTEGER NOT NULL REFERENCES parties (id),
    member_id  INTEGER NOT NULL,
    slot       INTEGER NOT NULL,
    request_id TEXT    NOT NULL,
    amount     INTEGER NOT NULL CHECK (amount > 0),
    at         INTEGER NOT NULL,
    PRIMARY KEY (party_id, member_id, slot)
);

-- +goose Down
DROP TABLE party_awards;
DROP TABLE party_generations;
DROP INDEX parties_unannounced;
DROP INDEX parties_due;
DROP INDEX parties_open_channel;
DROP TABLE parties;

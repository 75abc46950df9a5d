-- Moderation, trust and escrow. Times are unix nanoseconds.

-- +goose Up
-- Strikes against users: results a worker reported as csam or censored,
-- prompts the filter refused. key makes each count once (a job's result, a
-- refused request); strike_counts holds each user's counts since a
-- moderator last unflagged them (reset to 0), and all-time totals.
CREATE TABLE strikes (
    key     TEXT    PRIMARY KEY,
    user_id INTEGER NOT NULL,
    kind    TEXT    NOT NULL CHECK (kind IN ('csam', 'censored', 'refused')),
    ref     TEXT    NOT NULL DEFAULT '',
    at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX strikes_user_at ON strikes (user_id, at);

CREATE TABLE strike_counts (
    user_id INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    count   INTEGER NOT NULL DEFAULT 0,
    total   INTEGER NOT NULL DEFAULT 0,
    last_at INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, kind)
) WITHOUT ROWID;

-- Suspiciously fast results of workers, counted the same way; a moderator
-- unpausing the worker resets its count.
CREATE TABLE suspicions (
    key       TEXT    PRIMARY KEY,
    worker_id TEXT    NOT NULL,
    ref       TEXT    NOT NULL DEFAULT '',
    rate      REAL    NOT NULL DEFAULT 0,
    at        INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX suspicions_worker_at ON suspicions (worker_id, at);

CREATE TABLE suspicion_counts (
    worker_id TEXT    PRIMARY KEY,
    count     INTEGER NOT NULL DEFAULT 0,
    total     INTEGER NOT NULL DEFAULT 0,
    last_at   INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- Escrow: shares of untrusted owners' generation rewards held back. Held
-- kudos are outside the ledger (so balance == sum(ledger) is the spendable
-- kudos); a release marks a user's holds released and appends one ledger
-- entry of kind escrow_release for their sum, in one transaction.
CREATE TABLE escrow (
    id          INTEGER PRIMARY KEY,
    key         TEXT    NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL,
    amount      INTEGER NOT NULL CHECK (amount > 0),
    ref         TEXT    NOT NULL DEFAULT '',
    at          INTEGER NOT NULL,
    released_at INTEGER NOT NULL DEFAULT 0,
    release_key TEXT    NOT NULL DEFAULT '' -- the ledger entry that released it
);
CREATE INDEX escrow_held ON escrow (user_id, id) WHERE released_at = 0;
CREATE INDEX escrow_user ON escrow (user_id, amount);

-- +goose Down
DROP TABLE escrow;
DROP TABLE suspicion_counts;
DROP TABLE suspicions;
DROP TABLE strike_counts;
DROP TABLE strikes;

-- Rollups that the leaderboards and the web pages read instead of the raw
-- rows (issue 13: every page fast on a first view). The ledger summed per
-- (kind, UTC day, user), and its positive entries per (kind, user) over all
-- time, kept in step by the transaction that appends each entry
-- (store/ledger.go) and checked against the ledger by `hordebot kudos
-- verify`; and the status snapshots summed per hour, written with each
-- minute (store/web_status.go). All are backfilled here. Times are unix nanoseconds; a day or an hour is named by its start,
-- found by floor division (at - ((at % len) + len) % len), right for any sign.

-- +goose Up
-- One row per (kind, UTC day, user) with an entry that day.
CREATE TABLE ledger_days (
    kind    TEXT    NOT NULL,
    day     INTEGER NOT NULL, -- the start of the UTC day
    user_id INTEGER NOT NULL,
    entries INTEGER NOT NULL DEFAULT 0, -- entries of the day
    net     INTEGER NOT NULL DEFAULT 0, -- the sum of their deltas
    gains   INTEGER NOT NULL DEFAULT 0, -- entries with a positive delta
    earned  INTEGER NOT NULL DEFAULT 0, -- the sum of those deltas
    PRIMARY KEY (kind, day, user_id)
) WITHOUT ROWID;
-- A member's days (the member page's chart).
CREATE INDEX ledger_days_user ON ledger_days (user_id, day);

-- One row per (kind, user) with a positive entry: what the user earned of
-- that kind over all time (the all-time leaderboards, a member's awards).
-- Costs and other debits are left out: nothing reads them all time.
CREATE TABLE ledger_totals (
    kind    TEXT    NOT NULL,
    user_id INTEGER NOT NULL,
    gains   INTEGER NOT NULL DEFAULT 0, -- entries with a positive delta
    earned  INTEGER NOT NULL DEFAULT 0, -- the sum of those deltas
    PRIMARY KEY (kind, user_id)
) WITHOUT ROWID;

INSERT INTO ledger_days (kind, day, user_id, entries, net, gains, earned)
SELECT kind, at - ((at % 86400000000000) + 86400000000000) % 86400000000000 AS d, user_id,
       count(*), sum(delta),
       sum(CASE WHEN delta > 0 THEN 1 ELSE 0 END), sum(CASE WHEN delta > 0 THEN delta ELSE 0 END)
FROM ledger GROUP BY kind, d, user_id;

INSERT INTO ledger_totals (kind, user_id, gains, earned)
SELECT kind, user_id, sum(gains), sum(earned)
FROM ledger_days WHERE gains > 0 GROUP BY kind, user_id;

-- One row per hour with a snapshot: the sums of its minutes (the largest
-- median wait), which the month's charts group into their buckets.
CREATE TABLE status_hours (
    hour           INTEGER PRIMARY KEY, -- the start of the hour
    minutes        INTEGER NOT NULL DEFAULT 0, -- snapshots in the hour
    image_queue    INTEGER NOT NULL DEFAULT 0, -- sums of the minutes' values
    text_queue     INTEGER NOT NULL DEFAULT 0,
    image_workers  INTEGER NOT NULL DEFAULT 0,
    text_workers   INTEGER NOT NULL DEFAULT 0,
    image_finished INTEGER NOT NULL DEFAULT 0,
    text_finished  INTEGER NOT NULL DEFAULT 0,
    median_wait_ms INTEGER NOT NULL DEFAULT 0  -- the largest of the minutes'
);

INSERT INTO status_hours (hour, minutes, image_queue, text_queue, image_workers, text_workers,
                          image_finished, text_finished, median_wait_ms)
SELECT at - ((at % 3600000000000) + 3600000000000) % 3600000000000 AS h, count(*),
       sum(image_queue), sum(text_queue), sum(image_workers), sum(text_workers),
       sum(image_finished), sum(text_finished), max(median_wait_ms)
FROM status_snapshots GROUP BY h;

-- +goose Down
DROP TABLE status_hours;
DROP TABLE ledger_totals;
DROP INDEX ledger_days_user;
DROP TABLE ledger_days;

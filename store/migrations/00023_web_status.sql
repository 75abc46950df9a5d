-- The community's web pages (horde/web): the per-minute status snapshots its
-- charts draw, each worker's online minutes per hour (the uptime chart), and
-- the indexes its pages read by (the snapshot job reads the requests finished
-- in a minute through requests_finished, 00006). Times are unix nanoseconds.

-- +goose Up
-- One row per minute, written once by the snapshot job (a second write of
-- the same minute changes nothing) and pruned past web.history.
CREATE TABLE status_snapshots (
    at             INTEGER PRIMARY KEY, -- the minute the row describes (its start)
    image_queue    INTEGER NOT NULL DEFAULT 0, -- image items waiting
    text_queue     INTEGER NOT NULL DEFAULT 0, -- text items waiting
    image_workers  INTEGER NOT NULL DEFAULT 0, -- image workers online
    text_workers   INTEGER NOT NULL DEFAULT 0, -- text workers online
    image_finished INTEGER NOT NULL DEFAULT 0, -- image items of requests finished in the minute before
    text_finished  INTEGER NOT NULL DEFAULT 0, -- text items likewise
    median_wait_ms INTEGER NOT NULL DEFAULT 0  -- submit to done, median over those requests
);

-- Online minutes of a worker per hour (hour: unix nanoseconds at its start),
-- counted by the snapshot job in the transaction that writes its minute.
CREATE TABLE worker_uptime (
    worker_id TEXT    NOT NULL,
    hour      INTEGER NOT NULL,
    minutes   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (worker_id, hour)
);
CREATE INDEX worker_uptime_hour ON worker_uptime (hour);

-- /u/{name} finds a member by name.
CREATE INDEX users_name ON users (name);
-- /gallery reads the newest shares; /u/{name} a member's.
CREATE INDEX shared_posts_created ON shared_posts (created_at);
CREATE INDEX shared_posts_user ON shared_posts (discord_user_id, created_at);

-- +goose Down
DROP INDEX shared_posts_user;
DROP INDEX shared_posts_created;
DROP INDEX users_name;
DROP INDEX worker_uptime_hour;
DROP TABLE worker_uptime;
DROP TABLE status_snapshots;

-- Teams of workers. Times are unix nanoseconds.

-- +goose Up
CREATE TABLE teams (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    info       TEXT    NOT NULL DEFAULT '',
    owner_id   INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL
) WITHOUT ROWID;

-- A worker is in at most one team; it leaves when the team or it goes.
CREATE TABLE team_workers (
    worker_id TEXT PRIMARY KEY REFERENCES workers (id) ON DELETE CASCADE,
    team_id   TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX team_workers_team ON team_workers (team_id);

-- +goose Down
DROP TABLE team_workers;
DROP TABLE teams;

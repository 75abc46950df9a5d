-- Teams of workers and the horde's modes.

-- +goose Up
-- A team of workers (the AI Horde's /teams); its name is unique whatever
-- its case.
CREATE TABLE teams (
    id       TEXT    PRIMARY KEY,
    name     TEXT    NOT NULL, -- unique whatever its case: teams_name
    info     TEXT    NOT NULL DEFAULT '',
    owner_id BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE
);

CREATE UNIQUE INDEX teams_name ON teams (lower(name));

-- The team a worker is in: a row only for workers in one; deleting the
-- team leaves them in none. Workers are keyed by id as the scheduler knows
-- them.
CREATE TABLE team_members (
    worker_id TEXT PRIMARY KEY,
    team_id   TEXT NOT NULL REFERENCES teams (id) ON DELETE CASCADE
);
CREATE INDEX team_members_team ON team_members (team_id);

-- The horde's modes (PUT /status/modes): one row once set.
CREATE TABLE horde_modes (
    id          BIGINT  PRIMARY KEY CHECK (id = 1),
    maintenance BIGINT  NOT NULL DEFAULT 0,
    invite_only BIGINT  NOT NULL DEFAULT 0,
    raid        BIGINT  NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE horde_modes;
DROP TABLE team_members;
DROP TABLE teams;

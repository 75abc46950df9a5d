-- Twin of ../00034_discord_interactions.sql. The slash commands that
-- queue a request (/imagine, /write), recorded before their "thinking…"
-- deferral is sent (bot/deferred.go): a process that dies after the
-- deferral and before the request is queued leaves the row open, and the
-- next run (or another process) runs the command then, while its token is
-- valid. The write that stores the request links it (store/requests.go),
-- once: a second request for one interaction is refused; the write that
-- saves the delivery of its result (discord_deliveries) marks it watched.

-- +goose Up
CREATE TABLE discord_interactions (
    interaction_id TEXT PRIMARY KEY,
    guild_id       TEXT NOT NULL DEFAULT '',      -- '' for DMs: which shard's process may take it
    payload        BYTEA NOT NULL,                -- JSON written by the bot: the interaction and its deferral
    created_at     BIGINT NOT NULL,               -- unix nanoseconds: when Discord created it (its token lasts 15 minutes)
    state          TEXT NOT NULL DEFAULT 'open',  -- open | queued | watched | answered
    claimed_by     TEXT NOT NULL DEFAULT '',      -- the process running it
    claim_until    BIGINT NOT NULL DEFAULT 0,     -- unix nanoseconds: until then no other process takes it
    request_id     TEXT                           -- the request it queued (discord_deliveries.request_id)
);
CREATE INDEX discord_interactions_open ON discord_interactions (state, created_at);
CREATE INDEX discord_interactions_created ON discord_interactions (created_at);
CREATE INDEX discord_interactions_request ON discord_interactions (request_id);

-- +goose Down
DROP INDEX discord_interactions_request;
DROP INDEX discord_interactions_created;
DROP INDEX discord_interactions_open;
DROP TABLE discord_interactions;

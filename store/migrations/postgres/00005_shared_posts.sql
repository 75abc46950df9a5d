-- +goose Up
-- Posts the bot made in an art channel when a member shared an /imagine
-- result: reactions on them credit the member, not the bot.
CREATE TABLE shared_posts (
    message_id      TEXT    PRIMARY KEY,
    channel_id      TEXT    NOT NULL,
    guild_id        TEXT    NOT NULL DEFAULT '',
    discord_user_id TEXT    NOT NULL, -- the requester
    request_id      TEXT    NOT NULL DEFAULT '',
    created_at      BIGINT  NOT NULL  -- unix nanoseconds
);

-- +goose Down
DROP TABLE shared_posts;

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/hordebot/hordebot/bot/sharedpost"
	"github.com/hordebot/hordebot/horde"
)

// RecordSharedPost remembers a post the bot made in an art channel for a
// member who shared their images. It is idempotent: recording a message id
// again keeps the first record. A zero CreatedAt takes the store's clock.
func (s *Store) RecordSharedPost(ctx context.Context, p sharedpost.Post) error {
	switch {
	case p.MessageID == "":
		return fmt.Errorf("record shared post: empty message id")
	case p.ChannelID == "":
		return fmt.Errorf("record shared post %s: empty channel id", p.MessageID)
	case p.DiscordUserID == "":
		return fmt.Errorf("record shared post %s: empty requester", p.MessageID)
	}
	at := p.CreatedAt
	if at.IsZero() {
		at = s.clock.Now()
	}
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO shared_posts (message_id, channel_id, guild_id, discord_user_id, request_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING`,
			p.MessageID, p.ChannelID, p.GuildID, p.DiscordUserID, p.RequestID, nanos(at))
		return err
	})
	if err != nil {
		return unavailable(fmt.Errorf("record shared post %s: %w", p.MessageID, err))
	}
	return nil
}

// SharedPost returns the shared post of a message; an error wrapping
// horde.ErrNotFound if the bot made no shared post with that id.
func (s *Store) SharedPost(ctx context.Context, messageID string) (sharedpost.Post, error) {
	p := sharedpost.Post{MessageID: messageID}
	var at int64
	err := s.r.QueryRowContext(ctx, `SELECT channel_id, guild_id, discord_user_id, request_id, created_at
		FROM shared_posts WHERE message_id = ?`, messageID).Scan(&p.ChannelID, &p.GuildID, &p.DiscordUserID, &p.RequestID, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return sharedpost.Post{}, fmt.Errorf("shared post %s: %w", messageID, horde.ErrNotFound)
	}
	if err != nil {
		return sharedpost.Post{}, fmt.Errorf("read shared post %s: %w", messageID, err)
	}
	p.CreatedAt = fromNanos(at)
	return p, nil
}

// Package sharedpost defines the record of a post the Discord bot made in an
// art channel when a member shared one of their image results. It is
// Discord's concept, not the scheduler's; the Discord side declares what it
// needs of the store with this type (commands.SharedPostStore, bot.Store)
// and store implements it. It imports nothing beyond the standard library,
// so that store need not link discordgo.
package sharedpost

import "time"

// Post is a shared post. The bot is the message's author on Discord; the
// member who asked for the images is the artist that reactions on the post
// credit.
type Post struct {
	MessageID     string // the bot's message in the art channel
	ChannelID     string
	GuildID       string
	DiscordUserID string // the requester, who shared the images
	RequestID     string // the request whose images were shared
	CreatedAt     time.Time
}

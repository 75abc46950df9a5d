package horde

import "time"

// SharedPost is a message the Discord bot posted in an art channel when a
// member shared one of their image results. The bot is the message's author
// on Discord; the member who asked for the images is the artist that
// reactions on the post credit.
type SharedPost struct {
	MessageID     string // the bot's message in the art channel
	ChannelID     string
	GuildID       string
	DiscordUserID string // the requester, who shared the images
	RequestID     string // the request whose images were shared
	CreatedAt     time.Time
}

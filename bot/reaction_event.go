package bot

import (
	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/kudos"
)

// reactionEvent is a gateway MESSAGE_REACTION_ADD or _REMOVE reduced to what
// the kudos engine is told: who reacted with what, where, and whether that
// can matter (an award emoji, or any reaction in an art channel).
type reactionEvent struct {
	UserID, MessageID, ChannelID, GuildID string // snowflakes, all set
	// Emoji is the reaction in the engine's form (kudos.NormalizeEmoji of
	// the emoji's API name): "name:id" for a custom emoji, Unicode without
	// variation selectors otherwise. Never empty.
	Emoji string
	// Category is the award category Emoji pays; "" if none.
	Category kudos.Category
	// Art is true in a configured art channel, where every reaction counts
	// for the daily art tally.
	Art bool
	// Member is the reacting member as the event carried them (adds only);
	// nil, or without a User, when the event did not say.
	Member *discordgo.Member
}

// parseReaction turns a gateway reaction event into a reactionEvent under
// cfg. ok is false for a reaction the bot ignores: no payload, not in a
// guild (a DM), an id missing or not a snowflake, no emoji, or an emoji that
// neither awards a category nor sits in an art channel (such reactions cost
// no REST calls and create no accounts). It reads nothing but its arguments.
func parseReaction(r *discordgo.MessageReaction, member *discordgo.Member, cfg kudos.Config) (ev reactionEvent, ok bool) {
	if r == nil {
		return reactionEvent{}, false
	}
	for _, id := range []string{r.UserID, r.MessageID, r.ChannelID, r.GuildID} {
		if !isSnowflake(id) {
			return reactionEvent{}, false
		}
	}
	emoji := kudos.NormalizeEmoji(r.Emoji.APIName())
	if emoji == "" {
		return reactionEvent{}, false
	}
	cat, _ := cfg.EmojiCategory(emoji)
	art := cfg.IsArtChannel(r.ChannelID)
	if cat == "" && !art {
		return reactionEvent{}, false
	}
	return reactionEvent{
		UserID: r.UserID, MessageID: r.MessageID, ChannelID: r.ChannelID, GuildID: r.GuildID,
		Emoji: emoji, Category: cat, Art: art, Member: member,
	}, true
}

// isSnowflake reports whether id looks like a Discord id: 1 to 20 decimal
// digits. Ids end up in REST paths, so anything else is refused.
func isSnowflake(id string) bool {
	if id == "" || len(id) > 20 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

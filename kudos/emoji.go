package kudos

import (
	"slices"
	"strings"
)

// NormalizeEmoji makes the forms an emoji comes in comparable: what the
// gateway sends (Unicode, or a custom emoji's "name:id"), what a member
// pastes into the config ("<:name:id>", "<a:name:id>", "🙏" with or without
// a variation selector). Variation selectors (U+FE0E, U+FE0F) and
// surrounding white space are dropped, and a custom emoji keeps "name:id"
// without the "<:" or "<a:" and ">". It is idempotent:
// NormalizeEmoji(NormalizeEmoji(s)) == NormalizeEmoji(s), so an emoji
// categorises the same however often it was normalized.
func NormalizeEmoji(s string) string {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\uFE0E' || r == '\uFE0F' {
			return -1
		}
		return r
	}, s))
	// Unwrap until nothing changes: "<<:x:1>>" and "< :x:1 >" end as
	// "x:1", and every step shortens s, so this ends.
	for strings.HasPrefix(s, "<") && strings.HasSuffix(s, ">") && len(s) >= 2 {
		s = strings.TrimSpace(s[1 : len(s)-1])
		if rest, ok := strings.CutPrefix(s, "a:"); ok { // animated: <a:name:id>
			s = rest
		} else {
			s = strings.TrimPrefix(s, ":")
		}
		s = strings.TrimSpace(s)
	}
	return s
}

// EmojiCategory returns the award category a reaction with emoji (in any
// form NormalizeEmoji accepts) pays, as the Engine decides it: the category
// listing that emoji with a positive amount. ok is false for other emojis.
func (c Config) EmojiCategory(emoji string) (cat Category, ok bool) {
	n := NormalizeEmoji(emoji)
	if n == "" {
		return "", false
	}
	for _, cat := range Categories { // a fixed order: a valid config lists an emoji once
		cc := c.Categories[cat]
		if cc.Amount <= 0 {
			continue
		}
		for _, em := range cc.Emojis {
			if NormalizeEmoji(em) == n {
				return cat, true
			}
		}
	}
	return "", false
}

// IsArtChannel reports whether channelID is one of the art tally's channels.
func (c Config) IsArtChannel(channelID string) bool {
	return channelID != "" && slices.Contains(c.Art.Channels, channelID)
}

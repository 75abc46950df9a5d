package kudos

import (
	"context"
	"strings"
	"time"
	"unicode"
)

// thanksEmoji stands in for the emoji of an award made by a thanks reply.
const thanksEmoji = "thanks"

// ThanksReply is a message that replies to another member's message.
type ThanksReply struct {
	AuthorID             int64 // who wrote the reply (the giver)
	RepliedToID          int64 // the author of the message replied to (the receiver)
	MessageID            string
	RepliedToMessageID   string
	ChannelID            string
	GuildID              string
	Text                 string
	AuthorIsBot          bool
	RepliedToIsBot       bool
	AuthorRoles          []string
	RepliedToRoles       []string
	AuthorAccountCreated time.Time
	AuthorJoinedAt       time.Time
	At                   time.Time // zero is now
}

// OnThanks handles a reply: if its text thanks the member replied to
// (IsThanks), it is a pending helpful award on the message replied to, under
// the same rules and caps as a reaction (and the same one award per giver,
// message and category, so thanking and reacting pay once). A reply that does
// not thank does nothing; a refused thanks returns the refusal (see Refuse).
func (e *Engine) OnThanks(ctx context.Context, r ThanksReply) (Outcome, error) {
	if !e.cfg.Thanks || e.cfg.Categories[CategoryHelpful].Amount <= 0 || !IsThanks(r.Text) {
		return Outcome{}, nil
	}
	ev := ReactionAdded{
		GiverID: r.AuthorID, ReceiverID: r.RepliedToID, MessageID: r.RepliedToMessageID,
		ChannelID: r.ChannelID, GuildID: r.GuildID, Emoji: thanksEmoji,
		GiverIsBot: r.AuthorIsBot, ReceiverIsBot: r.RepliedToIsBot,
		GiverRoles: r.AuthorRoles, ReceiverRoles: r.RepliedToRoles,
		GiverAccountCreated: r.AuthorAccountCreated, GiverJoinedAt: r.AuthorJoinedAt, At: r.At,
	}
	outs, refusals, err := e.award(ctx, []awardAttempt{{ev: ev, forced: CategoryHelpful}})
	if err != nil {
		return Outcome{}, err
	}
	e.stats.countAwards(outs, refusals)
	return outs[0], refusals[0]
}

// thanksWords are single words that thank, in a few languages.
var thanksWords = map[string]bool{
	"thanks": true, "thx": true, "thnx": true, "thanx": true, "tnx": true, "ty": true, "tysm": true,
	"tyvm": true, "tyty": true, "cheers": true, "thankyou": true, "thankies": true,
	"merci": true, "danke": true, "dankeschön": true, "gracias": true, "grazie": true, "obrigado": true,
	"obrigada": true, "bedankt": true, "dank": true, "tack": true, "takk": true, "kiitos": true,
	"arigato": true, "arigatou": true, "спасибо": true, "дякую": true, "dziękuję": true, "dzięki": true,
	"děkuji": true, "köszönöm": true, "teşekkürler": true, "mulțumesc": true, "multumesc": true,
}

// thanksPhrases are thanks in scripts written without spaces.
var thanksPhrases = []string{"谢谢", "謝謝", "ありがとう", "감사합니다", "고마워", "ขอบคุณ"}

// thankFollowers are the words after "thank" that make it thanks.
var thankFollowers = map[string]bool{"you": true, "u": true, "ya": true, "yall": true, "y'all": true, "so": true, "very": true}

// IsThanks reports whether text thanks someone: "thanks", "thank you",
// "thx", "ty", "tysm", "cheers" and a few other languages' words, but not
// "no thanks" or "thanks but no".
func IsThanks(text string) bool {
	lower := strings.ToLower(text)
	for _, p := range thanksPhrases {
		if strings.Contains(lower, p) {
			return true
		}
	}
	words := strings.FieldsFunc(lower, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	})
	for i, w := range words {
		w = strings.Trim(w, "'")
		hit := thanksWords[w] || (w == "thank" && i+1 < len(words) && thankFollowers[words[i+1]])
		if !hit {
			continue
		}
		if i > 0 && (words[i-1] == "no" || words[i-1] == "nah") {
			continue // "no thanks" declines
		}
		if i+2 < len(words) && words[i+1] == "but" && words[i+2] == "no" {
			continue
		}
		return true
	}
	return false
}

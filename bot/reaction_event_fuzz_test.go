package bot

import (
	"encoding/json"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/kudos"
)

// fuzzArtChannel is the art channel of reactionTestConfig.
const fuzzArtChannel = "300000000000000003"

// reactionTestConfig is the default kudos config plus a custom award emoji
// and an art channel, so every path of parseReaction is reachable.
func reactionTestConfig(tb testing.TB) kudos.Config {
	tb.Helper()
	cfg := kudos.DefaultConfig()
	helpful := cfg.Categories[kudos.CategoryHelpful]
	helpful.Emojis = append(append([]string(nil), helpful.Emojis...), "<:kudos:1234567890>")
	cfg.Categories[kudos.CategoryHelpful] = helpful
	cfg.Art.Channels = []string{fuzzArtChannel}
	if err := cfg.Validate(); err != nil {
		tb.Fatalf("test config: %v", err)
	}
	return cfg
}

// TestParseReaction pins what parseReaction accepts and how it categorises.
func TestParseReaction(t *testing.T) {
	cfg := reactionTestConfig(t)
	const user, msg, ch, guild = "100000000000000001", "200000000000000002", "300000000000000009", "400000000000000004"
	react := func(e discordgo.Emoji) *discordgo.MessageReaction {
		return &discordgo.MessageReaction{UserID: user, MessageID: msg, ChannelID: ch, GuildID: guild, Emoji: e}
	}
	tests := []struct {
		name      string
		r         *discordgo.MessageReaction
		wantOK    bool
		wantEmoji string
		wantCat   kudos.Category
		wantArt   bool
	}{
		{"unicode award", react(discordgo.Emoji{Name: "🙏"}), true, "🙏", kudos.CategoryHelpful, false},
		{"variation selector dropped", react(discordgo.Emoji{Name: "🖼\ufe0f"}), true, "🖼", kudos.CategoryArt, false},
		{"without the selector the config has", react(discordgo.Emoji{Name: "🛡"}), true, "🛡", kudos.CategoryModeration, false},
		{"custom emoji as name:id", react(discordgo.Emoji{Name: "kudos", ID: "1234567890"}), true, "kudos:1234567890", kudos.CategoryHelpful, false},
		{"animated custom emoji", react(discordgo.Emoji{Name: "kudos", ID: "1234567890", Animated: true}), true, "kudos:1234567890", kudos.CategoryHelpful, false},
		{"same name, other id", react(discordgo.Emoji{Name: "kudos", ID: "999"}), false, "", "", false},
		{"other emoji outside art", react(discordgo.Emoji{Name: "😀"}), false, "", "", false},
		{"any emoji in an art channel", &discordgo.MessageReaction{UserID: user, MessageID: msg, ChannelID: fuzzArtChannel, GuildID: guild, Emoji: discordgo.Emoji{Name: "😀"}}, true, "😀", "", true},
		{"award emoji in an art channel", &discordgo.MessageReaction{UserID: user, MessageID: msg, ChannelID: fuzzArtChannel, GuildID: guild, Emoji: discordgo.Emoji{Name: "🎨"}}, true, "🎨", kudos.CategoryArt, true},
		{"DM: no guild", &discordgo.MessageReaction{UserID: user, MessageID: msg, ChannelID: ch, Emoji: discordgo.Emoji{Name: "🙏"}}, false, "", "", false},
		{"no user", &discordgo.MessageReaction{MessageID: msg, ChannelID: ch, GuildID: guild, Emoji: discordgo.Emoji{Name: "🙏"}}, false, "", "", false},
		{"id not a snowflake", &discordgo.MessageReaction{UserID: user, MessageID: "../../users/@me", ChannelID: ch, GuildID: guild, Emoji: discordgo.Emoji{Name: "🙏"}}, false, "", "", false},
		{"no emoji", react(discordgo.Emoji{}), false, "", "", false},
		{"only a variation selector", &discordgo.MessageReaction{UserID: user, MessageID: msg, ChannelID: fuzzArtChannel, GuildID: guild, Emoji: discordgo.Emoji{Name: "\ufe0f"}}, false, "", "", false},
		{"no payload", nil, false, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, ok := parseReaction(tt.r, nil, cfg)
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v (event %+v)", ok, tt.wantOK, ev)
			}
			if !ok {
				return
			}
			if ev.Emoji != tt.wantEmoji || ev.Category != tt.wantCat || ev.Art != tt.wantArt {
				t.Fatalf("got emoji %q category %q art %v, want %q %q %v", ev.Emoji, ev.Category, ev.Art, tt.wantEmoji, tt.wantCat, tt.wantArt)
			}
			if ev.UserID != tt.r.UserID || ev.MessageID != tt.r.MessageID || ev.ChannelID != tt.r.ChannelID || ev.GuildID != tt.r.GuildID {
				t.Fatalf("ids changed: %+v from %+v", ev, tt.r)
			}
		})
	}
}

// FuzzReactionEvent feeds arbitrary gateway payloads, decoded as discordgo
// decodes MESSAGE_REACTION_ADD and _REMOVE, through parseReaction: it never
// panics; an accepted event has snowflake ids equal to the payload's, a
// non-empty emoji already in normal form, and a category that is the
// config's for that emoji however it is written; an add and a remove of
// the same payload parse alike; and a JSON round trip changes nothing.
func FuzzReactionEvent(f *testing.F) {
	cfg := reactionTestConfig(f)
	for _, seed := range []string{
		`{"user_id":"100000000000000001","message_id":"200000000000000002","channel_id":"300000000000000009","guild_id":"400000000000000004","emoji":{"name":"🙏","id":null}}`,
		`{"user_id":"100000000000000001","message_id":"200000000000000002","channel_id":"300000000000000009","guild_id":"400000000000000004","emoji":{"name":"kudos","id":"1234567890","animated":true}}`,
		`{"user_id":"100000000000000001","message_id":"200000000000000002","channel_id":"300000000000000003","emoji":{"name":"❤️"}}`,
		`{"emoji":{}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var add discordgo.MessageReactionAdd
		if err := json.Unmarshal(data, &add); err != nil {
			return
		}
		ev, ok := parseReaction(add.MessageReaction, add.Member, cfg)
		var rm discordgo.MessageReactionRemove
		if err := json.Unmarshal(data, &rm); err != nil {
			t.Fatalf("the payload decodes as an add but not as a remove: %v", err)
		}
		evRm, okRm := parseReaction(rm.MessageReaction, nil, cfg)
		if ok != okRm {
			t.Fatalf("add parsed %v, remove %v", ok, okRm)
		}
		if !ok {
			return
		}
		r := add.MessageReaction
		for name, id := range map[string]string{"user": ev.UserID, "message": ev.MessageID, "channel": ev.ChannelID, "guild": ev.GuildID} {
			if !isSnowflake(id) {
				t.Fatalf("%s id %q is not a snowflake", name, id)
			}
		}
		if ev.UserID != r.UserID || ev.MessageID != r.MessageID || ev.ChannelID != r.ChannelID || ev.GuildID != r.GuildID {
			t.Fatalf("ids changed: %+v from %+v", ev, r)
		}
		if ev.Member != add.Member {
			t.Fatal("the member is not the payload's")
		}
		if ev.Emoji == "" || kudos.NormalizeEmoji(ev.Emoji) != ev.Emoji {
			t.Fatalf("emoji %q is empty or not in normal form (%q)", ev.Emoji, kudos.NormalizeEmoji(ev.Emoji))
		}
		for _, form := range []string{r.Emoji.APIName(), ev.Emoji, "<:" + ev.Emoji + ">", "<a:" + ev.Emoji + ">", " " + ev.Emoji + "\ufe0f"} {
			if cat, _ := cfg.EmojiCategory(form); cat != ev.Category {
				t.Fatalf("emoji %q written as %q categorises as %q, parsed as %q", ev.Emoji, form, cat, ev.Category)
			}
		}
		if ev.Category == "" && !ev.Art {
			t.Fatalf("accepted a reaction that can matter to nobody: %+v", ev)
		}
		if ev.Art != cfg.IsArtChannel(ev.ChannelID) {
			t.Fatalf("art %v for channel %q", ev.Art, ev.ChannelID)
		}
		evRm.Member = ev.Member
		if evRm != ev {
			t.Fatalf("remove parsed as %+v, add as %+v", evRm, ev)
		}
		// What the bot parsed survives a trip through the wire format.
		again, err := json.Marshal(r)
		if err != nil {
			t.Fatalf("marshal the reaction: %v", err)
		}
		var r2 discordgo.MessageReaction
		if err := json.Unmarshal(again, &r2); err != nil {
			t.Fatalf("unmarshal %s: %v", again, err)
		}
		ev2, ok2 := parseReaction(&r2, add.Member, cfg)
		if !ok2 || ev2 != ev {
			t.Fatalf("after a round trip: %+v (%v), want %+v", ev2, ok2, ev)
		}
	})
}

package kudos_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hordebot/hordebot/kudos"
)

func TestNormalizeEmoji(t *testing.T) {
	tests := []struct{ in, want string }{
		{"🙏", "🙏"},
		{"🛡️", "🛡"},
		{"🛡\ufe0e", "🛡"},
		{" ✅ ", "✅"},
		{"kudos:123", "kudos:123"},
		{"<:kudos:123>", "kudos:123"},
		{"<a:party:456>", "party:456"},
		{"<<:kudos:123>>", "kudos:123"},
		{"< :kudos:123 >", "kudos:123"},
		{"\ufe0f", ""},
		{"<>", ""},
		{"<a::x>", ":x"},
		{"<:a:x>", "a:x"},
		{"<", "<"},
	}
	for _, tt := range tests {
		if got := kudos.NormalizeEmoji(tt.in); got != tt.want {
			t.Errorf("NormalizeEmoji(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestEmojiCategory(t *testing.T) {
	cfg := kudos.DefaultConfig()
	cfg.Categories[kudos.CategoryHelpful] = kudos.CategoryConfig{Emojis: []string{"🙏", "<:kudos:123>"}, Amount: 5}
	cfg.Categories[kudos.CategoryArt] = kudos.CategoryConfig{Emojis: []string{"🎨"}} // no amount: pays nothing
	tests := []struct {
		emoji  string
		want   kudos.Category
		wantOK bool
	}{
		{"🙏", kudos.CategoryHelpful, true},
		{"kudos:123", kudos.CategoryHelpful, true},
		{"<a:kudos:123>", kudos.CategoryHelpful, true},
		{"🛡", kudos.CategoryModeration, true},
		{"🛡️", kudos.CategoryModeration, true},
		{"🎨", "", false},
		{"kudos:999", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		if got, ok := cfg.EmojiCategory(tt.emoji); got != tt.want || ok != tt.wantOK {
			t.Errorf("EmojiCategory(%q) = %q, %v; want %q, %v", tt.emoji, got, ok, tt.want, tt.wantOK)
		}
	}
}

// FuzzEmojiCategory: normalizing never panics and is idempotent; an emoji
// categorises the same in every form it may be written in (with variation
// selectors, spaces, "<:...>" or "<a:...>"); a configured emoji, in any
// form, maps to its category; and a config naming one emoji in two
// categories under two spellings is refused.
func FuzzEmojiCategory(f *testing.F) {
	for _, s := range []string{"🙏", "🛡️", "kudos:123", "<:kudos:123>", "<a:party:456>", "<<:x:1>>", " ✅\ufe0e ", "\ufe0f", "<>", ":", ":🙏", "a:🙏"} {
		f.Add(s, "<:kudos:123>")
	}
	base := kudos.DefaultConfig()
	f.Fuzz(func(t *testing.T, emoji, configured string) {
		n := kudos.NormalizeEmoji(emoji)
		if again := kudos.NormalizeEmoji(n); again != n {
			t.Fatalf("not idempotent: %q -> %q -> %q", emoji, n, again)
		}
		if utf8.ValidString(emoji) && !utf8.ValidString(n) {
			t.Fatalf("valid UTF-8 %q normalized to invalid %q", emoji, n)
		}
		if strings.ContainsAny(n, "\ufe0e\ufe0f") {
			t.Fatalf("%q keeps a variation selector", n)
		}
		cat, ok := base.EmojiCategory(emoji)
		if ok != (cat != "") {
			t.Fatalf("EmojiCategory(%q) = %q, %v", emoji, cat, ok)
		}
		for _, form := range []string{n, "<:" + n + ">", "<a:" + n + ">", " " + n + "\ufe0f ", "\ufe0e" + emoji} {
			if c, _ := base.EmojiCategory(form); c != cat {
				t.Fatalf("%q categorises as %q but %q as %q", emoji, cat, form, c)
			}
		}

		// configured as the helpful emoji, and nothing else.
		cfg := kudos.DefaultConfig()
		for c, cc := range cfg.Categories {
			cc.Emojis = nil
			cfg.Categories[c] = cc
		}
		cfg.Categories[kudos.CategoryHelpful] = kudos.CategoryConfig{Emojis: []string{configured}, Amount: 5}
		valid := cfg.Validate() == nil
		if valid != (kudos.NormalizeEmoji(configured) != "") {
			t.Fatalf("config with emoji %q: valid %v", configured, valid)
		}
		if !valid {
			return
		}
		want := kudos.Category("")
		if kudos.NormalizeEmoji(configured) == n {
			want = kudos.CategoryHelpful
		}
		if c, _ := cfg.EmojiCategory(emoji); c != want {
			t.Fatalf("with %q configured, %q categorises as %q, want %q", configured, emoji, c, want)
		}
		// The same emoji spelt differently in a second category is a conflict.
		cfg.Categories[kudos.CategoryArt] = kudos.CategoryConfig{Emojis: []string{"<:" + kudos.NormalizeEmoji(configured) + ">\ufe0f"}, Amount: 3}
		if cfg.Validate() == nil {
			t.Fatalf("%q in two categories was accepted", configured)
		}
	})
}

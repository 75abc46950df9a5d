package locale

import (
	"strings"

	"github.com/bwmarrin/discordgo"
)

// Language is a language the bot speaks: a catalog assets/i18n/<Code>.yaml.
type Language struct {
	// Code is the catalog's language (BCP 47 base language): "en", "de".
	Code string
	// Discord are the Discord locales that read this catalog, and that the
	// slash commands' localisations are registered under.
	Discord []discordgo.Locale
	// Plurals are the CLDR cardinal plural forms of the language: a
	// message that depends on a count has exactly these.
	Plurals []string
}

// English is the reference language: the code declares it, every other
// catalog translates it, and it is what is shown when nothing else fits.
const English = "en"

// Languages are the languages the bot speaks, English first.
var Languages = []Language{
	{Code: English, Discord: []discordgo.Locale{discordgo.EnglishUS, discordgo.EnglishGB}, Plurals: []string{"one", "other"}},
	{Code: "de", Discord: []discordgo.Locale{discordgo.German}, Plurals: []string{"one", "other"}},
	{Code: "es", Discord: []discordgo.Locale{discordgo.SpanishES, discordgo.SpanishLATAM}, Plurals: []string{"one", "many", "other"}},
}

// LanguageOf returns the language a Discord locale reads: the one that
// lists it, else the one of its base language ("de-AT" reads "de"); false
// when the bot does not speak it.
func LanguageOf(loc discordgo.Locale) (Language, bool) {
	s := strings.TrimSpace(string(loc))
	if s == "" {
		return Language{}, false
	}
	for _, l := range Languages {
		for _, d := range l.Discord {
			if strings.EqualFold(string(d), s) {
				return l, true
			}
		}
	}
	base, _, _ := strings.Cut(s, "-")
	for _, l := range Languages {
		if strings.EqualFold(l.Code, base) {
			return l, true
		}
	}
	return Language{}, false
}

// Codes lists the languages the bot speaks: "en, de, es".
func Codes() string {
	codes := make([]string, len(Languages))
	for i, l := range Languages {
		codes[i] = l.Code
	}
	return strings.Join(codes, ", ")
}

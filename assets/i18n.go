package assets

import "embed"

// Catalogs holds the bot's message catalogs, one YAML file a language
// (i18n/en.yaml, i18n/de.yaml, ...): flat keys to messages, as
// bot/interact/locale reads them.
//
//go:embed i18n/*.yaml
var Catalogs embed.FS

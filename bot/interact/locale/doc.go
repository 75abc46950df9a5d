// Package locale is the bot's languages: the message catalogs every
// member-facing string comes from, and the localisations of the slash
// commands' names and descriptions.
//
// # Catalogs
//
// One YAML file a language in assets/i18n (en.yaml, de.yaml, es.yaml),
// embedded in the binary and loaded once (Default). A file maps flat,
// dotted keys to messages:
//
//	kudos.balance.none: "No kudos changes yet."
//	kudos.give.done: "<@{{.Giver}}> gave **{{.Amount}}** kudos to <@{{.Receiver}}>"
//	worker.count:
//	  one: "{{.Count}} worker"
//	  other: "{{.Count}} workers"
//
// Placeholders are {{.Name}} (Go templates, nothing fancier); a message
// whose wording depends on a number has the plural forms of its language
// (CLDR: English and German one/other, Spanish one/many/other) and is
// given that number as Count. English is the reference: a key missing in
// another language is shown in English, a key missing everywhere shows the
// key itself (the catalog test fails long before that).
//
// # Choosing the language
//
// A Printer speaks one language. For an interaction it is the member's
// Discord locale (Interaction.Locale) when a catalog speaks it, else the
// guild's (GuildLocale), else English: Catalog.For. Discord's locale codes
// map to catalogs by Languages (en-US and en-GB to en, de to de, es-ES and
// es-419 to es; any other code by its base language, "pt-BR" to "pt").
// Posts made outside an interaction (leaderboards, tallies, the audit
// channel, DMs about reactions) use the bot's configured locale or the
// guild's preferred one.
//
// # Errors
//
// A domain error (horde/errs) is worded by its code: error.<Code>, or
// error.<Code>.<Case> when the error names the situation, with the error's
// Params (and Field) as placeholders, a time.Duration among them worded
// by Printer.Duration. An error whose code has no key, or whose key wants
// a value the error does not carry (Printer.Lookup says so), is shown with
// the English message the domain wrote, after its kind's reply
// (error.kind.<kind>) in the member's language. The bot does this, in one
// place: bot.Reply.
//
// # Slash commands
//
// LocalizeCommands fills NameLocalizations and DescriptionLocalizations of
// commands, options and choices from keys derived from their path:
//
//	command.kudos.name, command.kudos.description
//	command.kudos.give.name, command.kudos.give.description
//	command.kudos.give.option.amount.name, ...option.amount.description
//	command.worker.register.option.kind.choice.image
//
// English stays what the code declares; every other language must have
// every path (the test says which are missing). Discord sends interactions
// with the declared names whatever the member typed, so handlers never see
// a localised name.
//
// # Adding a language
//
// Copy assets/i18n/en.yaml to <code>.yaml, translate it (keys stay, the
// {{.Placeholders}} stay, plural messages get the language's forms), add
// the language to Languages with its Discord locales and plural forms, and
// run the package's tests: they list every key, placeholder and command
// path still missing.
package locale

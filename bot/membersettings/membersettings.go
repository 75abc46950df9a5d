// Package membersettings defines a Discord member's generation defaults
// (/settings): the values /imagine, /write and the rerun buttons use for
// the options the member leaves out. It is Discord's concept, not the
// scheduler's; the commands declare what they need of the store with this
// type (commands.MemberSettingsStore) and store implements it. It imports
// nothing beyond the standard library, so that store need not link discordgo.
package membersettings

// Settings are one member's defaults. A zero field is not set: the
// command's own default applies.
type Settings struct {
	// ImageModel is the model /imagine asks for.
	ImageModel string
	// Width and Height are /imagine's size (both set or neither).
	Width, Height int
	// Steps, Sampler and CFGScale are /imagine's sampling parameters.
	Steps    int
	Sampler  string
	CFGScale float64
	// StyleID is the id of the horde style /imagine applies.
	StyleID string
	// NSFW asks for NSFW images where the channel allows them
	// (age-restricted channels only; elsewhere it is not applied).
	NSFW bool
	// Private sends the member's results as ephemeral messages, which only
	// they see, instead of public ones.
	Private bool
	// TextModel and MaxLength are /write's model and longest output.
	TextModel string
	MaxLength int
}

// IsZero reports whether nothing is set.
func (s Settings) IsZero() bool { return s == Settings{} }

package horde

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ValidWorkerName trims and checks a worker name, whichever way it arrives
// (/worker register, a rename, or the name a worker pops with): it is
// KindInvalid naming the field "name" when it is empty, longer than
// MaxWorkerNameLength characters, or holds a character that would show
// something other than what it is (validName).
func ValidWorkerName(name string) (string, error) {
	return validName("name", name, MaxWorkerNameLength)
}

// validName trims and checks a user or worker name. Names are listed to
// everyone (worker lists, leaderboards, Discord messages), so they may not
// hold what changes how other text shows or hides itself: control
// characters, format characters (bidi overrides and isolates such as
// U+202E, zero-width spaces and joiners, the BOM, soft hyphens), line and
// paragraph separators, or bytes that are not UTF-8. Length counts
// characters.
func validName(field, name string, maxLen int) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", Invalidf(field, "a name is required").InCase("name_required")
	}
	if !utf8.ValidString(name) {
		return "", Invalidf(field, "the name is not valid UTF-8").InCase("name_utf8")
	}
	if n := utf8.RuneCountInString(name); n > maxLen {
		return "", Invalidf(field, "the name is longer than %d characters (it has %d)", maxLen, n).
			InCase("name_long").With("Max", maxLen).With("Length", n)
	}
	if i := strings.IndexFunc(name, hiddenRune); i >= 0 {
		r, _ := utf8.DecodeRuneInString(name[i:])
		return "", Invalidf(field, "the name contains an invisible or control character (U+%04X)", r).
			InCase("name_hidden").With("Char", fmt.Sprintf("U+%04X", r))
	}
	return name, nil
}

// hiddenRune reports a character a name may not hold: one that does not
// show as itself.
func hiddenRune(r rune) bool {
	return unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co) ||
		r == utf8.RuneError || r == '\u3164' || r == '\u115f' || r == '\u1160' || r == '\uffa0' // Hangul fillers: blank letters
}

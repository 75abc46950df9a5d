package horde

import (
	"strconv"
	"unicode/utf8"
)

// MaxQuoted is how many characters of a client's input an error message
// quotes; the rest is elided.
const MaxQuoted = 100

// QuoteInput quotes a value a client sent for an error message: Go-quoted
// (so control and bidi characters show as escapes, not as effects), at most
// MaxQuoted characters of it, with "…" and the full length when it was
// longer. Every message that repeats client input uses it, so that no
// answer echoes back a megabyte id.
func QuoteInput(s string) string {
	if utf8.RuneCountInString(s) <= MaxQuoted {
		return strconv.Quote(s)
	}
	n, cut := 0, len(s)
	for i := range s {
		if n == MaxQuoted {
			cut = i
			break
		}
		n++
	}
	return strconv.Quote(s[:cut]) + "… (" + strconv.Itoa(len(s)) + " bytes)"
}

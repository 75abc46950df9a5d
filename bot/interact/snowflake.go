package interact

import "strconv"

// IsSnowflake reports whether id is a Discord id as Discord writes one: a
// positive 64-bit number in decimal, without sign or leading zeros. An id
// that came back to the bot in a custom ID (a client may forge those) is
// checked with it before it names anything.
func IsSnowflake(id string) bool {
	n, err := strconv.ParseUint(id, 10, 64)
	return err == nil && n > 0 && strconv.FormatUint(n, 10) == id
}

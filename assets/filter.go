package assets

import _ "embed"

// The prompt filter's default lists (see horde.NewFilter): one term a line,
// "#" starts a comment; a config file may replace each of them by path.
var (
	// FilterMinors lists terms that refer to minors.
	//
	//go:embed filter/minors.txt
	FilterMinors []byte

	// FilterSexual lists sexual terms.
	//
	//go:embed filter/sexual.txt
	FilterSexual []byte

	// FilterNSFW lists other NSFW terms (gore, suggestive content).
	//
	//go:embed filter/nsfw.txt
	FilterNSFW []byte

	// FilterNegative is the minor-safe negative prompt, one term a line.
	//
	//go:embed filter/negative.txt
	FilterNegative []byte
)

package assets

import (
	"embed"
	"io/fs"
	"path"
	"strings"
)

// The prompt filter's default lists (see filter.New in horde/filter): one term a line,
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

// filterLanguages holds the lists of other languages, one file a language.
//
//go:embed filter/lang/*.txt
var filterLanguages embed.FS

// FilterLanguages returns the prompt filter's lists in other languages by
// language code ("de", "ja"...), for filter.Lists.Languages: one file
// a language under filter/lang/, each made of sections ([minors],
// [sexual], ...). Each call returns a new map.
func FilterLanguages() map[string][]byte {
	langs := make(map[string][]byte)
	files, _ := fs.Glob(filterLanguages, "filter/lang/*.txt") // embedded: no error but a bad pattern
	for _, f := range files {
		if b, err := filterLanguages.ReadFile(f); err == nil {
			langs[strings.TrimSuffix(path.Base(f), ".txt")] = b
		}
	}
	return langs
}

package filter

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// Lists are the term lists a Filter is built from. Each list has one
// term a line; "#" starts a comment. A term matches whole words of the
// normalised prompt (see Normalize), and is normalised the same way:
//
//	word        the word itself
//	two words   the words in a row
//	word*       any word starting with "word"
//	*word       any word ending with "word"
//	*word*      any word containing "word"
//
// A term in Chinese or Japanese script (CJK has no spaces) matches
// anywhere inside a run of CJK text, except that a term that starts or
// ends with katakana does not match inside a longer katakana word
// ("エロ" is not found in "イエロー", yellow); a "*" on that side lifts
// the rule ("ロリ*" finds "ロリコン"). A term written with "ñ" matches
// only words written with "ñ" ("niña", not the name "Nina").
//
// A line "[section]" puts the terms after it on another list:
//
//	[minors]            terms that refer to minors
//	[minors-if-sexual]  words that refer to minors only in a sexual
//	                    context ("baby", "minor"): they count as minors
//	                    for the csam rule and force no negative prompt
//	[sexual]            sexual terms
//	[nsfw]              other NSFW terms (gore, suggestive content)
//	[not-minors]        phrases in which the minors terms they contain
//	                    do not refer to minors ("baby oil", "kid gloves")
//
// Minors, Sexual and NSFW start on their own list; a language list must
// start with a section.
//
// The embedded defaults are in package assets (assets.FilterMinors...,
// assets.FilterLanguages).
type Lists struct {
	Minors []byte // terms that refer to minors
	Sexual []byte // sexual terms
	NSFW   []byte // other NSFW terms (gore, suggestive content)
	// Languages are the lists of other languages by name ("de", "ja"...),
	// one list a language, each made of sections.
	Languages map[string][]byte
	// Negative is the minor-safe negative prompt, one term a line, joined
	// with ", " and appended after "###" (see Filter.Check).
	Negative []byte
}

// Files names files that replace some of the lists; an empty path
// keeps the list as it is.
type Files struct {
	Minors   string
	Sexual   string
	NSFW     string
	Negative string
}

// WithFiles returns l with each list whose path is set in files read from
// that file.
func (l Lists) WithFiles(files Files) (Lists, error) {
	for _, f := range []struct {
		path string
		dst  *[]byte
	}{{files.Minors, &l.Minors}, {files.Sexual, &l.Sexual}, {files.NSFW, &l.NSFW}, {files.Negative, &l.Negative}} {
		if f.path == "" {
			continue
		}
		b, err := os.ReadFile(f.path)
		if err != nil {
			return l, fmt.Errorf("read filter list: %w", err)
		}
		*f.dst = b
	}
	return l, nil
}

// termCat is a bit set of the lists a term is on.
type termCat uint8

const (
	catMinors    termCat = 1 << iota
	catSexual            // sexual terms
	catNSFW              // other NSFW terms
	catAmbiguous         // minors only in a sexual context
	catNotMinors         // phrases whose minors terms do not count

	catAnyMinors = catMinors | catAmbiguous
)

// listSections are the section names of a list and the list each one is.
var listSections = []struct {
	name string
	cat  termCat
}{
	{"minors", catMinors},
	{"minors-if-sexual", catAmbiguous},
	{"sexual", catSexual},
	{"nsfw", catNSFW},
	{"not-minors", catNotMinors},
}

// catNames names the lists in cats for moderators, "+"-joined.
func catNames(cats termCat) string {
	var b strings.Builder
	for _, s := range listSections {
		if cats&s.cat != 0 {
			if b.Len() > 0 {
				b.WriteByte('+')
			}
			b.WriteString(s.name)
		}
	}
	return b.String()
}

// listLines calls fn with each term of a list (trimmed, comments and blank
// lines skipped) and its line number.
func listLines(list []byte, fn func(line int, term string) error) error {
	sc := bufio.NewScanner(bytes.NewReader(list))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for line := 1; sc.Scan(); line++ {
		t := sc.Text()
		if i := strings.IndexByte(t, '#'); i >= 0 {
			t = t[:i]
		}
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if err := fn(line, t); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read list: %w", err)
	}
	return nil
}

// sectionLines is listLines for a list with sections: fn gets the list
// each term is on, starting with cat (0: the list must open a section).
func sectionLines(list []byte, cat termCat, fn func(line int, term string, cat termCat) error) error {
	return listLines(list, func(line int, t string) error {
		if strings.HasPrefix(t, "[") && strings.HasSuffix(t, "]") {
			name := strings.TrimSpace(t[1 : len(t)-1])
			for _, s := range listSections {
				if s.name == name {
					cat = s.cat
					return nil
				}
			}
			return fmt.Errorf("line %d: unknown section %q", line, t)
		}
		if cat == 0 {
			return fmt.Errorf("line %d: term %q before any [section]", line, t)
		}
		return fn(line, t, cat)
	})
}

// parseNegative joins the terms of a negative-prompt list with ", ". (A
// term cannot hold "###": "#" starts a comment.)
func parseNegative(list []byte) (string, error) {
	var terms []string
	err := listLines(list, func(_ int, t string) error {
		terms = append(terms, t)
		return nil
	})
	return strings.Join(terms, ", "), err
}

package horde

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// FilterLists are the term lists a Filter is built from. Each list has one
// term a line; "#" starts a comment. A term matches whole words of the
// normalised prompt (see Normalize), and is normalised the same way:
//
//	word        the word itself
//	two words   the words in a row
//	word*       any word starting with "word"
//	*word       any word ending with "word"
//	*word*      any word containing "word"
//
// The embedded defaults are in package assets (assets.FilterMinors...).
type FilterLists struct {
	Minors []byte // terms that refer to minors
	Sexual []byte // sexual terms
	NSFW   []byte // other NSFW terms (gore, suggestive content)
	// Negative is the minor-safe negative prompt, one term a line, joined
	// with ", " and appended after "###" (see Filter.Check).
	Negative []byte
}

// FilterFiles names files that replace some of the lists; an empty path
// keeps the list as it is.
type FilterFiles struct {
	Minors   string
	Sexual   string
	NSFW     string
	Negative string
}

// WithFiles returns l with each list whose path is set in files read from
// that file.
func (l FilterLists) WithFiles(files FilterFiles) (FilterLists, error) {
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
	catMinors termCat = 1 << iota
	catSexual
	catNSFW
)

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

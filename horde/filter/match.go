package filter

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf8"
)

// filterTerm is one term of the filter lists.
type filterTerm struct {
	text string  // as the list writes it, without wildcards
	cats termCat // the lists it is on
	enye bool    // written with ñ: matches only words written with ñ
}

// phraseTerm is a term of several words.
type phraseTerm struct {
	words []string // normalised, the first one is the index key
	term  *filterTerm
}

// affixTerm is a one-word term with a wildcard.
type affixTerm struct {
	s    string // normalised
	term *filterTerm
}

// cjkTerm is a term in CJK script, found inside CJK runs.
type cjkTerm struct {
	s         []byte
	kataStart bool // starts with katakana: not after a katakana letter
	kataEnd   bool // ends with katakana: not before a katakana letter
	term      *filterTerm
}

// termIndex finds the terms in a normalised prompt.
type termIndex struct {
	all      map[string]*filterTerm  // by kind and normalised form, to merge lists
	exact    map[string]*filterTerm  // one-word terms
	squeezed map[string]*filterTerm  // one-word terms with every repeated letter squeezed to one
	phrases  map[string][]phraseTerm // by first word
	prefixes [256][]affixTerm        // "word*", by first byte
	suffixes [256][]affixTerm        // "*word", by last byte
	infixes  []affixTerm             // "*word*"
	cjk      map[rune][]cjkTerm      // by first rune
}

func newTermIndex() *termIndex {
	return &termIndex{
		all:      make(map[string]*filterTerm),
		exact:    make(map[string]*filterTerm),
		squeezed: make(map[string]*filterTerm),
		phrases:  make(map[string][]phraseTerm),
		cjk:      make(map[rune][]cjkTerm),
	}
}

// addList adds every term of list to the index, under cat until a
// [section] line says otherwise (cat 0: the list must start with one).
func (x *termIndex) addList(name string, list []byte, cat termCat) error {
	err := sectionLines(list, cat, func(line int, raw string, cat termCat) error {
		if err := x.add(raw, cat); err != nil {
			return fmt.Errorf("line %d: %w", line, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s list: %w", name, err)
	}
	return nil
}

// add adds one term as written in a list.
func (x *termIndex) add(raw string, cat termCat) error {
	text := strings.Trim(raw, "*")
	prefix, suffix := strings.HasSuffix(raw, "*"), strings.HasPrefix(raw, "*")
	norm := normalizeText(text)
	words := strings.Fields(norm)
	enye := strings.ContainsAny(text, "ñÑ") || strings.Contains(text, "n\u0303")
	cjk := strings.IndexFunc(norm, func(r rune) bool { return r >= utf8.RuneSelf }) >= 0
	switch {
	case len(words) == 0:
		return fmt.Errorf("term %q has no letters or digits", raw)
	case cjk && (len(words) > 1 || strings.IndexFunc(norm, func(r rune) bool { return r < utf8.RuneSelf }) >= 0):
		return fmt.Errorf("term %q mixes CJK with other letters", raw)
	case len(words) == 1 && len(norm) < 2:
		return fmt.Errorf("term %q is shorter than two letters", raw)
	case len(words) > 1 && (prefix || suffix):
		return fmt.Errorf("term %q: a wildcard needs a single word", raw)
	}
	kind := "="
	switch {
	case prefix && suffix:
		kind = "*"
	case prefix:
		kind = ">"
	case suffix:
		kind = "<"
	}
	if cjk {
		kind = "c" + kind
	}
	if t := x.all[kind+norm]; t != nil {
		t.cats |= cat
		t.enye = t.enye && enye
		return nil
	}
	t := &filterTerm{text: text, cats: cat, enye: enye}
	x.all[kind+norm] = t
	switch {
	case cjk:
		first, _ := utf8.DecodeRuneInString(norm)
		last, _ := utf8.DecodeLastRuneInString(norm)
		x.cjk[first] = append(x.cjk[first], cjkTerm{
			s: []byte(norm), kataStart: !suffix && isKatakana(first), kataEnd: !prefix && isKatakana(last), term: t,
		})
	case prefix && suffix:
		x.infixes = append(x.infixes, affixTerm{norm, t})
	case prefix:
		x.prefixes[norm[0]] = append(x.prefixes[norm[0]], affixTerm{norm, t})
	case suffix:
		x.suffixes[norm[len(norm)-1]] = append(x.suffixes[norm[len(norm)-1]], affixTerm{norm, t})
	case len(words) > 1:
		x.phrases[words[0]] = append(x.phrases[words[0]], phraseTerm{words, t})
	default:
		x.exact[norm] = t
		if sq := string(squeezeAll(nil, []byte(norm))); x.squeezed[sq] == nil {
			x.squeezed[sq] = t
		}
	}
	return nil
}

// squeezeAll appends w to dst with every run of one letter squeezed to one.
func squeezeAll(dst, w []byte) []byte {
	for i, c := range w {
		if i > 0 && c == w[i-1] && isLower(c) {
			continue
		}
		dst = append(dst, c)
	}
	return dst
}

func hasDouble(w []byte) bool {
	for i := 1; i < len(w); i++ {
		if w[i] == w[i-1] && isLower(w[i]) {
			return true
		}
	}
	return false
}

// filterHit is a term found in a prompt, with the span of the (positive)
// prompt it was found in.
type filterHit struct {
	term     *filterTerm
	from, to int
}

// ageTerm is the synthetic term for an age under 18 ("12 year old", "9yo").
var ageTerm = &filterTerm{text: "age under 18", cats: catMinors}

// minCompoundPart is the shortest term a compound word is split into
// ("nudeloli" = "nude" + "loli"; "kidnap" is no compound of terms).
const minCompoundPart = 3

// match appends to hits the terms found in the normalised prompt in n.
func (x *termIndex) match(n *normalizer, hits []filterHit) []filterHit {
	toks, out := n.toks, n.out
	word := func(i int) []byte { return out[toks[i].lo:toks[i].hi] }
	// is reports whether token k reads s, as written or in another reading.
	is := func(k int, s string) bool {
		if string(word(k)) == s {
			return true
		}
		for _, a := range n.alts[toks[k].altLo:toks[k].altHi] {
			if string(n.altBuf[a.lo:a.hi]) == s {
				return true
			}
		}
		return false
	}
	var scratch [64]byte
	for i := range toks {
		if toks[i].cjk {
			hits = x.matchCJK(n, i, hits)
			continue
		}
		w := word(i)
		found := false
		add := func(t *filterTerm, last int) {
			if t.enye && !toks[i].enye {
				return
			}
			hits = append(hits, filterHit{term: t, from: toks[i].from, to: toks[last].to})
			found = true
		}
		// wholeWord looks up one reading of token i.
		wholeWord := func(w []byte, squeezed bool) {
			if t := x.exact[string(w)]; t != nil {
				add(t, i)
			} else if squeezed || hasDouble(w) {
				// "looli", "chilld", and words whose letters were tripled
				// ("teeeen" -> "ten"): compare fully squeezed. Unsqueezed
				// words need a longer term, so that "Kidd" is not "kid".
				sq := squeezeAll(scratch[:0], w)
				if t := x.squeezed[string(sq)]; t != nil && (squeezed || len(sq) >= 4) {
					add(t, i)
				}
			}
			if t := x.affix(w); t != nil {
				add(t, i)
			}
			for _, p := range x.phrases[string(w)] {
				if i+len(p.words) > len(toks) {
					continue
				}
				ok := true
				for k, pw := range p.words[1:] {
					if toks[i+1+k].cjk || !is(i+1+k, pw) {
						ok = false
						break
					}
				}
				if ok {
					add(p.term, i+len(p.words)-1)
				}
			}
		}
		wholeWord(w, toks[i].squeezed)
		// Other readings: capital I and 1 as l, digits stuck to the word.
		for _, a := range n.alts[toks[i].altLo:toks[i].altHi] {
			wholeWord(n.altBuf[a.lo:a.hi], toks[i].squeezed)
		}
		if !found && len(w) >= 2*minCompoundPart {
			for k := minCompoundPart; k <= len(w)-minCompoundPart; k++ {
				a := x.exact[string(w[:k])]
				if a == nil {
					continue
				}
				if b := x.exact[string(w[k:])]; b != nil {
					add(a, i)
					add(b, i)
					break
				}
			}
		}
		if i+1 < len(toks) {
			// A word split in two to hide it: "lo li", "se x", "chi ld",
			// or by a CJK character inside it, "lo萝li". Common short
			// words are left alone: "an Al Pacino" is no "anal".
			j, inside := i+1, false
			if toks[j].cjk && j+1 < len(toks) && !toks[j+1].cjk &&
				toks[i].to == toks[j].from && toks[j].to == toks[j+1].from {
				j, inside = j+1, true
			}
			if !toks[j].cjk {
				nw := word(j)
				if len(w)+len(nw) <= len(scratch) && (inside ||
					(len(w) <= 2 || len(nw) <= 2) && !shortWords[string(w)] && !shortWords[string(nw)]) {
					jw := append(append(scratch[:0], w...), nw...)
					if t := x.exact[string(jw)]; t != nil {
						add(t, j)
					} else if t := x.affix(jw); t != nil {
						add(t, j)
					}
				}
			}
		}
		if last, ok := ageAt(toks, out, i); ok {
			add(ageTerm, last)
		}
	}
	return hits
}

// matchCJK appends to hits the CJK terms found in the CJK run toks[i].
func (x *termIndex) matchCJK(n *normalizer, i int, hits []filterHit) []filterHit {
	if len(x.cjk) == 0 {
		return hits
	}
	t := n.toks[i]
	w := n.out[t.lo:t.hi]
	for p := 0; p < len(w); {
		r, size := utf8.DecodeRune(w[p:])
		for _, ct := range x.cjk[r] {
			e := p + len(ct.s)
			if !bytes.HasPrefix(w[p:], ct.s) {
				continue
			}
			// Katakana next to katakana is one word, unless the prompt
			// separates them ("ロリ エロ").
			if ct.kataStart && p > 0 && n.cjkTo[t.cjkAt+p-1] == n.cjkFrom[t.cjkAt+p] {
				if prev, _ := utf8.DecodeLastRune(w[:p]); isKatakana(prev) {
					continue
				}
			}
			if ct.kataEnd && e < len(w) && n.cjkTo[t.cjkAt+e-1] == n.cjkFrom[t.cjkAt+e] {
				if next, _ := utf8.DecodeRune(w[e:]); isKatakana(next) {
					continue
				}
			}
			hits = append(hits, filterHit{term: ct.term, from: int(n.cjkFrom[t.cjkAt+p]), to: int(n.cjkTo[t.cjkAt+e-1])})
		}
		p += size
	}
	return hits
}

// shortWords are common English words of one or two letters, which are
// never joined with their neighbour to find a term split in two.
var shortWords = map[string]bool{
	"a": true, "i": true, "am": true, "an": true, "as": true, "at": true, "be": true, "by": true,
	"do": true, "go": true, "he": true, "if": true, "in": true, "is": true, "it": true, "me": true,
	"my": true, "no": true, "of": true, "oh": true, "ok": true, "on": true, "or": true, "so": true,
	"to": true, "up": true, "us": true, "we": true,
}

// affix returns a wildcard term that w matches, or nil.
func (x *termIndex) affix(w []byte) *filterTerm {
	if len(w) == 0 {
		return nil
	}
	for _, a := range x.prefixes[w[0]] {
		if bytes.HasPrefix(w, []byte(a.s)) {
			return a.term
		}
	}
	for _, a := range x.suffixes[w[len(w)-1]] {
		if bytes.HasSuffix(w, []byte(a.s)) {
			return a.term
		}
	}
	for _, a := range x.infixes {
		if bytes.Contains(w, []byte(a.s)) {
			return a.term
		}
	}
	return nil
}

// numberWords are the ages under 18 spelled out.
var numberWords = map[string]int{
	"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
	"nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
	"sixteen": 16, "seventeen": 17,
}

// ageSuffixes follow an age in one word ("9yo", "12yearold").
var ageSuffixes = map[string]bool{"yo": true, "yearold": true, "yearsold": true, "yrold": true, "yrsold": true}

// ageAt reports whether an age under 18 starts at token i ("12 year old",
// "twelve years old", "9 yo", "9 y o", "9yo") and the index of its last token.
func ageAt(toks []normToken, out []byte, i int) (int, bool) {
	word := func(k int) string {
		if k >= len(toks) {
			return ""
		}
		return string(out[toks[k].lo:toks[k].hi])
	}
	w := word(i)
	d := 0
	for d < len(w) && isDigit(w[d]) {
		d++
	}
	if d > 0 && d < len(w) {
		// "9yo": digits and a suffix in one word
		return i, d <= 2 && under18(w[:d]) && ageSuffixes[w[d:]]
	}
	if d == 0 {
		if _, ok := numberWords[w]; !ok {
			return 0, false
		}
	} else if d > 2 || !under18(w) {
		return 0, false
	}
	switch a, b := word(i+1), word(i+2); {
	case ageSuffixes[a]:
		return i + 1, true
	case a == "y" && b == "o":
		return i + 2, true
	case (a == "year" || a == "years" || a == "yr" || a == "yrs") && (b == "old" || b == "olds"):
		return i + 2, true
	}
	return 0, false
}

// under18 reports whether the one- or two-digit number s is below 18.
func under18(s string) bool {
	v := 0
	for _, c := range []byte(s) {
		v = v*10 + int(c-'0')
	}
	return v < 18
}

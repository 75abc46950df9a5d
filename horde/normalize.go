package horde

import (
	"sync"
	"unicode/utf8"
)

// Normalize returns the positive part of an AI Horde prompt (the text before
// "###"; the negative prompt after it is dropped) in the form the prompt
// filter matches against: lower-case ASCII words separated by single spaces.
//
// On the way it folds Unicode look-alikes to ASCII (Cyrillic and Greek
// homoglyphs, fullwidth and mathematical letters, accented letters, circled
// and squared letters), drops zero-width, combining and emoji runes without
// breaking the word they sit in ("lo🙂li" -> "loli"), strips prompt weights
// and syntax ("(word:1.3)", "[word]", "{word}", "word++"), turns punctuation
// into spaces, joins letters spelled out one by one ("c h i l d",
// "c.h.i.l.d", "c-h-i-l-d" -> "child"), reads leetspeak in words that have
// at least two letters ("l0l1" -> "loli", "$ex" -> "sex"; "4k", "1990s" and
// "13yo" stay as they are) and squeezes a letter repeated three or more times
// to one ("loooli" -> "loli", "sexxx" -> "sex").
//
// Normalize is idempotent: Normalize(Normalize(s)) == Normalize(s).
func Normalize(prompt string) string {
	n := getNormalizer()
	defer putNormalizer(n)
	n.run(positivePrompt(prompt))
	return string(n.out)
}

// normalizeText is Normalize without the "###" split, for text prompts,
// which have no negative part.
func normalizeText(s string) string {
	n := getNormalizer()
	defer putNormalizer(n)
	n.run(s)
	return string(n.out)
}

// normToken is one word of a normalised prompt: out[lo:hi] in the
// normaliser's output, and the bytes src[from:to] of the input it came from.
type normToken struct {
	lo, hi   int
	from, to int
	squeezed bool // a letter was repeated three or more times in the input
}

// normWord is a word being built: its bytes in the scratch buffer and its
// source span.
type normWord struct {
	lo, hi   int // in buf
	from, to int // in src
	squeezed bool
}

// normalizer holds the scratch buffers of one normalisation; pooled.
type normalizer struct {
	folded []byte  // the input folded to ASCII; separators are ' '
	start  []int32 // per folded byte: source offset of the rune it came from
	end    []int32 // per folded byte: source offset just past that rune
	buf    []byte  // word bytes
	words  []normWord
	out    []byte
	toks   []normToken
}

var normalizers = sync.Pool{New: func() any { return new(normalizer) }}

func getNormalizer() *normalizer { return normalizers.Get().(*normalizer) }

func putNormalizer(n *normalizer) {
	if cap(n.folded) > 1<<16 { // do not keep huge buffers alive
		return
	}
	normalizers.Put(n)
}

// run normalises s into n.out and n.toks.
func (n *normalizer) run(s string) {
	n.fold(s)
	n.tokenize()
	n.joinSingles()
	n.emit()
}

// fold folds every rune of s to ASCII (see foldRune).
func (n *normalizer) fold(s string) {
	n.folded, n.start, n.end = n.folded[:0], n.start[:0], n.end[:0]
	if cap(n.folded) < len(s) {
		n.folded = make([]byte, 0, len(s)+len(s)/4)
		n.start = make([]int32, 0, cap(n.folded))
		n.end = make([]int32, 0, cap(n.folded))
	}
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf { // fast path for ASCII
			switch {
			case c >= 'A' && c <= 'Z':
				n.push(c+'a'-'A', i, i+1)
			case c > ' ' && c < 0x7F:
				n.push(c, i, i+1)
			default:
				n.sep(i)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		k, b, m := foldSep, [3]byte{}, 0
		if r != utf8.RuneError || size > 1 {
			k, b, m = foldRune(r)
		}
		switch k {
		case foldChar:
			for _, c := range b[:m] {
				n.push(c, i, i+size)
			}
		case foldSep:
			n.sep(i)
		}
		i += size
	}
}

// sep appends a separator unless one is already last.
func (n *normalizer) sep(at int) {
	if l := len(n.folded); l == 0 || n.folded[l-1] != ' ' {
		n.push(' ', at, at+1)
	}
}

func (n *normalizer) push(c byte, from, to int) {
	n.folded = append(n.folded, c)
	n.start = append(n.start, int32(from))
	n.end = append(n.end, int32(to))
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isLower(c) || isDigit(c) }

// tokenize splits the folded input into words, strips weights, and reads
// leetspeak in each word.
func (n *normalizer) tokenize() {
	n.buf, n.words = n.buf[:0], n.words[:0]
	f := n.folded
	lo := -1 // start of the open word in f
	closeWord := func(hi int) {
		if lo >= 0 {
			n.addWord(lo, hi)
			lo = -1
		}
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		next := byte(0)
		if i+1 < len(f) {
			next = f[i+1]
		}
		switch {
		case isAlnum(c):
			if lo < 0 {
				lo = i
			}
		case (c == '@' || c == '$') && isAlnum(next):
			if lo < 0 {
				lo = i
			}
		case c == '!' && lo >= 0 && isAlnum(next):
			// inside a word only: "k!d"; a trailing "!" is punctuation
		case c == ':':
			closeWord(i)
			i = skipWeight(f, i)
		default:
			closeWord(i)
		}
	}
	closeWord(len(f))
}

// skipWeight returns the index of the last byte of a prompt weight that
// starts at the ':' at f[i] (":1.3", ": -0.5"), or i when none follows.
func skipWeight(f []byte, i int) int {
	j := i + 1
	for j < len(f) && f[j] == ' ' {
		j++
	}
	if j < len(f) && f[j] == '-' {
		j++
	}
	k := j
	for k < len(f) && (isDigit(f[k]) || f[k] == '.') {
		k++
	}
	if k == j || (k == j+1 && f[j] == '.') {
		return i
	}
	return k - 1
}

// addWord appends the word folded[lo:hi], leet read when it is a word
// candidate, its leftover symbols dropped.
func (n *normalizer) addWord(lo, hi int) {
	w := normWord{lo: len(n.buf), from: int(n.start[lo]), to: int(n.end[hi-1])}
	n.buf = append(n.buf, n.folded[lo:hi]...)
	w.hi = w.lo + readLeet(n.buf[w.lo:])
	l, sq := squeezeTriples(n.buf[w.lo:w.hi])
	w.hi, w.squeezed = w.lo+l, sq
	n.buf = n.buf[:w.hi]
	if w.hi > w.lo {
		n.words = append(n.words, w)
	}
}

// leetLetter is the letter a leetspeak character stands for ('1' is decided
// by its neighbour, see readLeet).
func leetLetter(c byte) byte {
	switch c {
	case '0':
		return 'o'
	case '3':
		return 'e'
	case '4', '@':
		return 'a'
	case '5', '$':
		return 's'
	case '7':
		return 't'
	case '!':
		return 'i'
	}
	return 0
}

func isVowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u':
		return true
	}
	return false
}

// readLeet rewrites w in place: in a word of at least two letters that is
// not a number with a unit ("1990s", "13yo", "1girl"), leetspeak digits and
// symbols become letters; then any symbol left is dropped. It returns the
// new length.
func readLeet(w []byte) int {
	letters, leet := 0, false
	for _, c := range w {
		switch {
		case isLower(c):
			letters++
		case c == '1' || leetLetter(c) != 0:
			leet = true
		}
	}
	if letters >= 2 && leet && !numberWithUnit(w) {
		for i, c := range w {
			if c == '1' {
				// "1" is an l before a vowel ("1oli", "s1ut"), an i
				// elsewhere ("ch1ld", "l0l1").
				c = 'i'
				if i+1 < len(w) {
					nx := w[i+1]
					if l := leetLetter(nx); l != 0 {
						nx = l
					}
					if isVowel(nx) {
						c = 'l'
					}
				}
				w[i] = c
			} else if l := leetLetter(c); l != 0 {
				w[i] = l
			}
		}
	}
	j := 0
	for _, c := range w {
		if isAlnum(c) {
			w[j] = c
			j++
		}
	}
	return j
}

// units are the words that commonly follow a number inside one token.
var units = map[string]bool{
	"k": true, "d": true, "x": true, "s": true, "th": true, "st": true, "nd": true, "rd": true,
	"p": true, "px": true, "yo": true, "y": true, "yr": true, "yrs": true, "yrsold": true, "yearold": true,
	"yearsold": true, "mm": true, "cm": true, "m": true, "ft": true, "in": true, "fps": true, "bit": true,
	"dpi": true, "hz": true, "hd": true, "gb": true, "mb": true, "kb": true, "am": true, "pm": true,
	"girl": true, "girls": true, "boy": true, "boys": true, "man": true, "men": true, "woman": true,
	"women": true, "other": true, "others": true, "koma": true, "head": true, "heads": true,
}

// numberWithUnit reports whether w is digits followed by one of units.
func numberWithUnit(w []byte) bool {
	i := 0
	for i < len(w) && isDigit(w[i]) {
		i++
	}
	if i == 0 || i == len(w) {
		return false
	}
	for _, c := range w[i:] {
		if !isLower(c) {
			return false
		}
	}
	return units[string(w[i:])]
}

// joinSingles joins runs of at least three one-character words holding at
// least two letters ("c h i l d", "s.e.x", "k-1-d") into one word.
func (n *normalizer) joinSingles() {
	ws := n.words
	out := ws[:0]
	for i := 0; i < len(ws); {
		j, letters := i, 0
		for j < len(ws) && ws[j].hi-ws[j].lo == 1 {
			if isLower(n.buf[ws[j].lo]) {
				letters++
			}
			j++
		}
		if j-i < 3 || letters < 2 {
			if j == i {
				j++
			}
			out = append(out, ws[i:j]...)
			i = j
			continue
		}
		w := normWord{lo: len(n.buf), from: ws[i].from, to: ws[j-1].to}
		for _, s := range ws[i:j] {
			n.buf = append(n.buf, n.buf[s.lo])
		}
		w.hi = w.lo + readLeet(n.buf[w.lo:])
		l, sq := squeezeTriples(n.buf[w.lo:w.hi])
		w.hi = w.lo + l
		for _, s := range ws[i:j] {
			sq = sq || s.squeezed
		}
		w.squeezed = sq
		n.buf = n.buf[:w.hi]
		out = append(out, w)
		i = j
	}
	n.words = out
}

// squeezeTriples squeezes, in place, every letter repeated three or more
// times in w to one ("loooli" -> "loli": no English word triples a letter;
// words with a real double letter are matched fully squeezed by the filter
// when a token was squeezed). It returns the new length and whether it
// squeezed anything.
func squeezeTriples(w []byte) (int, bool) {
	j, squeezed := 0, false
	for i := 0; i < len(w); {
		c, k := w[i], i+1
		for k < len(w) && w[k] == c {
			k++
		}
		if isLower(c) && k-i >= 3 {
			w[j] = c
			j++
			squeezed = true
		} else {
			j += copy(w[j:], w[i:k])
		}
		i = k
	}
	return j, squeezed
}

// emit writes the words separated by single spaces.
func (n *normalizer) emit() {
	n.out, n.toks = n.out[:0], n.toks[:0]
	for _, w := range n.words {
		if len(n.out) > 0 {
			n.out = append(n.out, ' ')
		}
		t := normToken{lo: len(n.out), from: w.from, to: w.to, squeezed: w.squeezed}
		n.out = append(n.out, n.buf[w.lo:w.hi]...)
		t.hi = len(n.out)
		n.toks = append(n.toks, t)
	}
}

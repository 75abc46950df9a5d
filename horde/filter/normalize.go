package filter

import (
	"bytes"
	"html"
	"sync"
	"unicode/utf8"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// Normalize returns the positive part of an AI Horde prompt (the text before
// "###"; the negative prompt after it is dropped) in the form the prompt
// filter matches against: lower-case ASCII words and runs of CJK text
// (Chinese, Japanese, Korean), separated by single spaces.
//
// On the way it decodes URL escapes ("%6B" -> "k", "%C3%B1" -> "ñ") and
// HTML character references ("&#107;", "&#x6B;", "&lt;", "&eacute;"), folds
// Unicode look-alikes to ASCII (Cyrillic and Greek homoglyphs, fullwidth and
// mathematical letters, accented letters, circled and squared letters) and
// transliterates the rest of Cyrillic ("голая" -> "golaya"), drops
// zero-width, combining and emoji runes without breaking the word they sit
// in ("lo🙂li" -> "loli"), strips prompt weights and syntax ("(word:1.3)",
// "[word]", "{word}", "word++"), turns punctuation into spaces, joins
// letters spelled out one by one ("c h i l d", "c.h.i.l.d", "c-h-i-l-d" ->
// "child"), reads leetspeak in words that have at least two letters ("l0l1"
// -> "loli", "$ex" -> "sex"; "4k", "1990s" and "13yo" stay as they are) and
// squeezes a letter repeated three or more times to one ("loooli" -> "loli",
// "sexxx" -> "sex"). CJK text is joined across the blanks and punctuation
// between its characters ("萝 莉" -> "萝莉"); halfwidth katakana become
// fullwidth, with their voicing marks.
//
// The filter also reads some words another way than the one Normalize
// returns: a capital I or a digit 1 as an l ("chiId", "chi1d" -> "child"),
// and a word without the digits stuck to its start or end ("child1" ->
// "child").
//
// Normalize is idempotent: Normalize(Normalize(s)) == Normalize(s).
func Normalize(prompt string) string {
	n := getNormalizer()
	defer putNormalizer(n)
	n.run(aihorde.PositivePrompt(prompt))
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
	altLo    int  // its other readings are alts[altLo:altHi]
	altHi    int  //
	cjkAt    int  // a CJK run: byte k of it came from src[cjkFrom[cjkAt+k]:cjkTo[cjkAt+k]]
	squeezed bool // a letter was repeated three or more times in the input
	enye     bool // the word was written with ñ
	cjk      bool // a run of CJK text, not an ASCII word
}

// normWord is a word being built: its bytes in the scratch buffer and its
// source span.
type normWord struct {
	lo, hi       int // in buf
	from, to     int // in src
	altLo, altHi int
	cjkAt        int
	capI         bool // a one-letter word written as a capital I
	squeezed     bool
	enye         bool
	cjk          bool
}

// span is a range of a buffer.
type span struct{ lo, hi int }

// srcSpan is the span src[from:to] of the input.
type srcSpan struct{ from, to int32 }

// foldMark says how the letter folded[at] was written, when that matters
// (rare: kept apart from the per-byte spans).
type foldMark struct {
	at int
	m  uint8
}

// Marks on folded bytes: how the letter was written.
const (
	markCapI uint8 = 1 << iota // a capital I, which looks like an l
	markEnye                   // an ñ, folded to n
)

// maxAmbiguous is how many letters of a word are read both as i and as l;
// a word with more gets no other readings from them.
const maxAmbiguous = 4

// normalizer holds the scratch buffers of one normalisation; pooled.
type normalizer struct {
	folded  []byte    // the input folded to ASCII and CJK; separators are ' '
	src     []srcSpan // per folded byte: the source bytes of the rune it came from
	marks   []foldMark
	nextMk  int    // the first mark addWord has not passed yet
	buf     []byte // word bytes
	words   []normWord
	out     []byte
	toks    []normToken
	altBuf  []byte // the words' other readings
	alts    []span // in altBuf
	cjkFrom []int32
	cjkTo   []int32
}

var normalizers = sync.Pool{New: func() any { return new(normalizer) }}

func getNormalizer() *normalizer { return normalizers.Get().(*normalizer) }

func putNormalizer(n *normalizer) {
	if cap(n.folded) > 1<<16 || cap(n.altBuf) > 1<<18 { // do not keep huge buffers alive
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

// fold folds every rune of s to ASCII or keeps it as CJK (see foldOne),
// decoding URL escapes and HTML character references on the way.
func (n *normalizer) fold(s string) {
	n.folded, n.src, n.marks, n.nextMk = n.folded[:0], n.src[:0], n.marks[:0], 0
	if cap(n.folded) < len(s) {
		c := len(s) + len(s)/4
		n.folded = make([]byte, 0, c)
		n.src = make([]srcSpan, 0, c)
	}
	for i := 0; i < len(s); {
		c := s[i]
		if isLower(c) { // fast path for the common case
			n.folded = append(n.folded, c)
			n.src = append(n.src, srcSpan{int32(i), int32(i + 1)})
			i++
			continue
		}
		if c < utf8.RuneSelf && c != '%' && c != '&' {
			n.foldASCII(c, i, i+1)
			i++
			continue
		}
		var r1, r2 rune = -1, -1
		size := 0
		switch c {
		case '%':
			r1, size = decodePercent(s[i:])
		case '&':
			r1, r2, size = decodeEntity(s[i:])
		default:
			r1, size = utf8.DecodeRuneInString(s[i:])
			if r1 == utf8.RuneError && size == 1 {
				n.sep(i)
				i++
				continue
			}
		}
		if size == 0 { // a '%' or '&' that starts no escape
			n.foldASCII(c, i, i+1)
			i++
			continue
		}
		n.foldOne(r1, i, i+size)
		if r2 >= 0 {
			n.foldOne(r2, i, i+size)
		}
		i += size
	}
}

// foldASCII folds the ASCII byte c that came from src[from:to].
func (n *normalizer) foldASCII(c byte, from, to int) {
	switch {
	case c == 'I':
		n.pushMark('i', from, to, markCapI)
	case c >= 'A' && c <= 'Z':
		n.push(c+'a'-'A', from, to)
	case c > ' ' && c < 0x7F:
		n.push(c, from, to)
	default:
		n.sep(from)
	}
}

// foldOne folds the rune r that came from src[from:to].
func (n *normalizer) foldOne(r rune, from, to int) {
	switch {
	case r < utf8.RuneSelf:
		n.foldASCII(byte(r), from, to)
		return
	case r == 'Ñ' || r == 'ñ':
		n.pushMark('n', from, to, markEnye)
		return
	case r == 0x0303: // combining tilde: "n\u0303" is ñ
		if l := len(n.folded); l > 0 && n.folded[l-1] == 'n' {
			n.marks = append(n.marks, foldMark{l - 1, markEnye})
			n.src[l-1].to = int32(to)
		}
		return
	case isVoicingMark(r):
		n.voice(r, to)
		return
	case invisible(r): // before isCJK: the hangul fillers are invisible
		return
	case r >= 0xFF66 && r <= 0xFF9D:
		r = halfwidthKana[r-0xFF66]
	}
	if isCJK(r) {
		var b [utf8.UTFMax]byte
		for _, c := range b[:utf8.EncodeRune(b[:], r)] {
			n.push(c, from, to)
		}
		return
	}
	k, b, m := foldRune(r)
	switch k {
	case foldChar:
		for _, c := range b[:m] {
			n.push(c, from, to)
		}
	case foldSep:
		n.sep(from)
	}
}

// voice applies a voicing mark (dakuten, handakuten) that ends at source
// offset to onto the kana folded last, if it takes one; else the mark is
// dropped.
func (n *normalizer) voice(mark rune, to int) {
	l := len(n.folded)
	if l < 3 {
		return
	}
	r, size := utf8.DecodeRune(n.folded[l-3:])
	if size != 3 {
		return
	}
	v, ok := voiced(r, mark == 0x309A || mark == 0x309C || mark == 0xFF9F)
	if !ok {
		return
	}
	utf8.EncodeRune(n.folded[l-3:], v) // a voiced kana is three bytes too
	for k := l - 3; k < l; k++ {
		n.src[k].to = int32(to)
	}
}

// decodePercent decodes the URL escape at the start of s ("%6B", or the
// escapes of one UTF-8 encoded rune, "%C3%B1"). size is 0 when s starts
// with no valid escape.
func decodePercent(s string) (r rune, size int) {
	var b [utf8.UTFMax]byte
	b0, ok := hexByte(s, 1)
	if !ok || b0 == 0 {
		return 0, 0
	}
	if b0 < utf8.RuneSelf {
		return rune(b0), 3
	}
	need := 0
	switch {
	case b0 >= 0xC2 && b0 <= 0xDF:
		need = 2
	case b0 >= 0xE0 && b0 <= 0xEF:
		need = 3
	case b0 >= 0xF0 && b0 <= 0xF4:
		need = 4
	default:
		return 0, 0
	}
	b[0] = b0
	for k := 1; k < need; k++ {
		if len(s) < 3*k+3 || s[3*k] != '%' {
			return 0, 0
		}
		if b[k], ok = hexByte(s, 3*k+1); !ok {
			return 0, 0
		}
	}
	r, sz := utf8.DecodeRune(b[:need])
	if r == utf8.RuneError || sz != need {
		return 0, 0
	}
	return r, 3 * need
}

// decodeEntity decodes the HTML character reference at the start of s:
// numeric ("&#107;", "&#x6B;", the ";" optional) or named ("&lt;",
// "&eacute;", the ";" required), which may stand for two runes (r2 >= 0).
// size is 0 when s starts with no character reference.
func decodeEntity(s string) (r1, r2 rune, size int) {
	r1, r2 = -1, -1
	if len(s) > 2 && s[1] == '#' {
		j, base := 2, rune(10)
		if s[j] == 'x' || s[j] == 'X' {
			j, base = 3, 16
		}
		v, d := rune(0), j
		for ; d < len(s) && d-j < 8; d++ {
			x, ok := hexDigit(s[d])
			if !ok || rune(x) >= base {
				break
			}
			v = v*base + rune(x)
		}
		if d == j || v == 0 || !utf8.ValidRune(v) {
			return -1, -1, 0
		}
		if d < len(s) && s[d] == ';' {
			d++
		}
		return v, -1, d
	}
	j := 1
	for j < len(s) && j <= 32 && (isAlnum(s[j]) || s[j] >= 'A' && s[j] <= 'Z') {
		j++
	}
	if j == 1 || j >= len(s) || s[j] != ';' {
		return -1, -1, 0
	}
	ref := s[:j+1]
	dec := html.UnescapeString(ref)
	if dec == ref {
		return -1, -1, 0
	}
	r1, n1 := utf8.DecodeRuneInString(dec)
	if n1 < len(dec) {
		r2, _ = utf8.DecodeRuneInString(dec[n1:])
	}
	return r1, r2, j + 1
}

// hexByte reads the two hex digits at s[i:i+2].
func hexByte(s string, i int) (byte, bool) {
	if len(s) < i+2 {
		return 0, false
	}
	h, ok1 := hexDigit(s[i])
	l, ok2 := hexDigit(s[i+1])
	return h<<4 | l, ok1 && ok2
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func isLower(c byte) bool { return c >= 'a' && c <= 'z' }
func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlnum(c byte) bool { return isLower(c) || isDigit(c) }

// sep appends a separator unless one is already last.
func (n *normalizer) sep(at int) {
	if l := len(n.folded); l == 0 || n.folded[l-1] != ' ' {
		n.push(' ', at, at+1)
	}
}

func (n *normalizer) push(c byte, from, to int) { n.pushMark(c, from, to, 0) }

func (n *normalizer) pushMark(c byte, from, to int, m uint8) {
	if m != 0 {
		n.marks = append(n.marks, foldMark{len(n.folded), m})
	}
	n.folded = append(n.folded, c)
	n.src = append(n.src, srcSpan{int32(from), int32(to)})
}

// tokenize splits the folded input into words and CJK runs, strips
// weights, and reads leetspeak in each word.
func (n *normalizer) tokenize() {
	n.buf, n.words = n.buf[:0], n.words[:0]
	n.altBuf, n.alts = n.altBuf[:0], n.alts[:0]
	n.cjkFrom, n.cjkTo = n.cjkFrom[:0], n.cjkTo[:0]
	f := n.folded
	lo, cjk := -1, false // start of the open word in f; a CJK run
	closeWord := func(hi int) {
		if lo >= 0 {
			if cjk {
				n.addCJK(lo, hi)
			} else {
				n.addWord(lo, hi)
			}
			lo, cjk = -1, false
		}
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c >= utf8.RuneSelf {
			if lo >= 0 && !cjk {
				closeWord(i)
			}
			if lo < 0 {
				lo, cjk = i, true
			}
			continue
		}
		if cjk {
			// Blanks and punctuation between CJK characters do not end
			// the run: "萝 莉" is "萝莉".
			if j := cjkResumes(f, i); j > 0 {
				i = j - 1
				continue
			}
			closeWord(i)
		}
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

// cjkResumes returns the index of the CJK byte that follows the blanks and
// punctuation at f[i:], or 0 when something else (a letter, a digit, a
// weight, the end) comes first.
func cjkResumes(f []byte, i int) int {
	for j := i; j < len(f); j++ {
		switch c := f[j]; {
		case c >= utf8.RuneSelf:
			return j
		case isAlnum(c) || c == ':':
			return 0
		}
	}
	return 0
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

// addCJK appends the CJK run folded[lo:hi], without the blanks and
// punctuation inside it.
func (n *normalizer) addCJK(lo, hi int) {
	w := normWord{lo: len(n.buf), from: int(n.src[lo].from), to: int(n.src[hi-1].to), cjk: true, cjkAt: len(n.cjkFrom)}
	for k := lo; k < hi; k++ {
		if c := n.folded[k]; c >= utf8.RuneSelf {
			n.buf = append(n.buf, c)
			n.cjkFrom = append(n.cjkFrom, n.src[k].from)
			n.cjkTo = append(n.cjkTo, n.src[k].to)
		}
	}
	w.hi = len(n.buf)
	n.words = append(n.words, w)
}

// addWord appends the word folded[lo:hi], leet read when it is a word
// candidate, its leftover symbols dropped, with its other readings.
func (n *normalizer) addWord(lo, hi int) {
	w := normWord{lo: len(n.buf), from: int(n.src[lo].from), to: int(n.src[hi-1].to)}
	raw := n.folded[lo:hi]
	var capI uint64
	// Words come in order: the marks before this one are behind.
	for n.nextMk < len(n.marks) && n.marks[n.nextMk].at < lo {
		n.nextMk++
	}
	for k := n.nextMk; k < len(n.marks) && n.marks[k].at < hi; k++ {
		at, m := n.marks[k].at-lo, n.marks[k].m
		if m&markCapI != 0 && at < 64 {
			capI |= 1 << at
		}
		w.enye = w.enye || m&markEnye != 0
	}
	n.buf = append(n.buf, raw...)
	w.hi = w.lo + readLeet(n.buf[w.lo:])
	l, sq := squeezeTriples(n.buf[w.lo:w.hi])
	w.hi, w.squeezed = w.lo+l, sq
	n.buf = n.buf[:w.hi]
	if w.hi > w.lo {
		w.capI = capI != 0 && w.hi-w.lo == 1
		w.altLo, w.altHi = n.addAlts(raw, capI, n.buf[w.lo:w.hi])
		n.words = append(n.words, w)
	}
}

// addAlts appends the other readings of the folded word raw, whose capital
// I letters are the bits of capI and whose main reading is primary: each of
// its capital I letters and leet 1 digits read as i or as l (up to
// maxAmbiguous of them), and the word without the digits stuck to its start
// or end ("child1", "2kids"). It returns their range in n.alts.
func (n *normalizer) addAlts(raw []byte, capI uint64, primary []byte) (lo, hi int) {
	lo = len(n.alts)
	if len(raw) < 2 || len(raw) > 64 ||
		capI == 0 && !isDigit(raw[0]) && !isDigit(raw[len(raw)-1]) && bytes.IndexByte(raw, '1') < 0 {
		return lo, lo
	}
	letters, ones := 0, false
	for _, c := range raw {
		letters += b2i(isLower(c))
		ones = ones || c == '1'
	}
	edgeDigits := isDigit(raw[0]) || isDigit(raw[len(raw)-1])
	if capI == 0 && !ones && !edgeDigits || letters < 2 {
		return lo, lo
	}
	leet := !numberWithUnit(raw)
	var pos [maxAmbiguous]int
	np := 0
	for k, c := range raw {
		if capI>>k&1 == 1 || leet && c == '1' {
			if np == len(pos) {
				np = 0 // too many to try every reading
				break
			}
			pos[np] = k
			np++
		}
	}
	for combo := 0; np > 0 && combo < 1<<np; combo++ {
		at := len(n.altBuf)
		n.altBuf = append(n.altBuf, raw...)
		for j, p := range pos[:np] {
			n.altBuf[at+p] = "il"[combo>>j&1]
		}
		n.keepAlt(at, lo, primary)
	}
	if edgeDigits && leet {
		a, b := 0, len(raw)
		for a < b && isDigit(raw[a]) {
			a++
		}
		for b > a && isDigit(raw[b-1]) {
			b--
		}
		if b-a >= 3 { // "kid2", not "cp2077"
			at := len(n.altBuf)
			n.altBuf = append(n.altBuf, raw[a:b]...)
			n.keepAlt(at, lo, primary)
		}
	}
	return lo, len(n.alts)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// keepAlt reads the raw reading at altBuf[at:] like a word and keeps it as
// a reading of the word whose readings start at alts[first], unless it is
// the word itself, a reading already kept, or shorter than two letters.
func (n *normalizer) keepAlt(at, first int, primary []byte) {
	v := n.altBuf[at:]
	l, _ := squeezeTriples(v[:readLeet(v)])
	v = v[:l]
	keep := l >= 2 && !bytes.Equal(v, primary)
	for _, a := range n.alts[first:] {
		keep = keep && !bytes.Equal(v, n.altBuf[a.lo:a.hi])
	}
	if !keep {
		n.altBuf = n.altBuf[:at]
		return
	}
	n.altBuf = n.altBuf[:at+l]
	n.alts = append(n.alts, span{at, at + l})
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
				// elsewhere ("ch1ld", "l0l1"); the filter also tries
				// the other letter (addAlts).
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
		for j < len(ws) && !ws[j].cjk && ws[j].hi-ws[j].lo == 1 {
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
		var raw [64]byte
		var capI uint64
		nr := 0
		for k, s := range ws[i:j] {
			c := n.buf[s.lo]
			n.buf = append(n.buf, c)
			if nr < len(raw) {
				raw[nr] = c
				nr++
			}
			if s.capI && k < 64 {
				capI |= 1 << k
			}
			w.squeezed = w.squeezed || s.squeezed
			w.enye = w.enye || s.enye
		}
		w.hi = w.lo + readLeet(n.buf[w.lo:])
		l, sq := squeezeTriples(n.buf[w.lo:w.hi])
		w.hi = w.lo + l
		w.squeezed = w.squeezed || sq
		n.buf = n.buf[:w.hi]
		if j-i <= len(raw) {
			w.altLo, w.altHi = n.addAlts(raw[:nr], capI, n.buf[w.lo:w.hi])
		}
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
		t := normToken{lo: len(n.out), from: w.from, to: w.to, altLo: w.altLo, altHi: w.altHi,
			cjkAt: w.cjkAt, squeezed: w.squeezed, enye: w.enye, cjk: w.cjk}
		n.out = append(n.out, n.buf[w.lo:w.hi]...)
		t.hi = len(n.out)
		n.toks = append(n.toks, t)
	}
}

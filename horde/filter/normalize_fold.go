package filter

import "unicode"

// This file folds one rune to what the prompt normaliser works on: an ASCII
// letter or digit, ASCII punctuation, nothing (the rune is invisible and
// joins its neighbours) or a separator. It is written from Unicode ranges,
// with no dependency beyond the standard library, which has no NFKD.

// foldKind says what a rune becomes.
type foldKind uint8

const (
	foldSep  foldKind = iota // a word boundary
	foldSkip                 // dropped without breaking the word: zero-width, combining marks, emoji
	foldChar                 // one or two ASCII bytes
)

// latinRanges map each code point from lo on to the ASCII letter or digit it
// looks like ('.' for none). Generated from the Unicode 14 character names
// ("LATIN SMALL LETTER E WITH ACUTE" -> e, "LATIN LETTER SMALL CAPITAL K" -> k,
// "SUPERSCRIPT TWO" -> 2) and NFKD without combining marks; turned, reversed
// and inverted letters map to none.
var latinRanges = [...]struct {
	lo rune
	s  string
}{
	{0x00C0, "aaaaaa.ceeeeiiii.nooooo.ouuuuy..aaaaaa.ceeeeiiii.nooooo.ouuuuy.yaaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii..jjkk.llllllllllnnnnnn...oooooo..rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzsbbbb...cc.ddd....ffg...ikkl..nnooo..pp.....ttttuu.vyyzz..............d..l..n.aaiioouuuuuuuuuu.aaaa..ggggkkoooo..j.d.gg..nnaa..ooaa..ee..ii..oo..rr..uu..sstt..hhnd..zzaaeeooooooooyylntj..accltsz..b..eejj.qrryy"},
	{0x0250, "...b.cdd.......jggg...h.i.illl...mnnn.......rrr.r.s.j...t..v...yzz.......b.ghj.lq..............."},
	{0x02B0, "hhjr...wy........................................lsx............................"},
	{0x1D00, "a...cd.e..jklm.o........p..tu...vwz.........a.b.de.ghijklmn.o.prtuwa...bde...g.km.o...ptu..v......iruv......bdfmnprrstz......p..bdfgklmnprs.vxza.de...i..u..cc..f...i...jll.m.nn...s.t...v.zzz.."},
	{0x1E00, "aabbbbbbccddddddddddeeeeeeeeeeffgghhhhhhhhhhiiiikkkkkkllllllllmmmmmmnnnnnnnnoooooooopppprrrrrrrrssssssssssttttttttuuuuuuuuuuvvvvwwwwwwwwwwxxxxyyzzzzzzhtwyas....aaaaaaaaaaaaaaaaaaaaaaaaeeeeeeeeeeeeeeeeiiiioooooooooooooooooooooooouuuuuuuuuuuuuuyyyyyyyy....yy"},
	{0x2070, "0i..456789.....n0123456789......aeox.hklmnpst..."},
	{0x2C60, "lllprathhkkzz.m..vwwv...e.o.jvsz"},
	{0xA720, "................fs..............kkkkkk..lloooo..ppppppqqqq....vv..............................................l.nnccchbbff......ggkknnrrssh..l.q..j.....uu..........cszddss.......................................cfq...h......."},
	{0xAB30, "....e...llmn..........r..r.r..u...u...xxxxy...lu................"},
}

// greekLike maps the Greek alphabet, in the order of the Unicode Greek block
// and of each Greek style in the mathematical alphanumerics, to ASCII
// look-alikes ('.' for none): upper case A..Omega with capital theta symbol
// at Rho+1, nabla, lower case alpha..omega with final sigma, partial
// differential, then the six variant forms (epsilon, theta, kappa, phi, rho, pi).
const greekLike = "ab..ezhoik.mn.o.po.ty.x.." + "." + "abydeznoik.uv.onpsotu.x.w" + "d" + "e.k.p."

// greekBlock maps U+0386..U+03CE (accented and plain Greek) to ASCII ('.' for none).
const greekBlock = "a.ehi.o.y." + // U+0386..U+038F (U+0387 ano teleia, U+038B/038D unassigned)
	"i" + // U+0390 iota with dialytika and tonos
	"ab..ezhoik.mn.o.p..ty.x.." + // U+0391..U+03A9 (U+03A2 unassigned)
	"iyaeni" + // U+03AA..U+03AF
	"u" + // U+03B0
	"abydeznoik.uv.onpsotu.x.w" + // U+03B1..U+03C9 (final sigma U+03C2)
	"iuouw" // U+03CA..U+03CE

// otherLike maps single look-alike letters outside the tables above:
// Cyrillic, Armenian, Cherokee-free letterlike symbols, Roman numerals.
var otherLike = map[rune]byte{
	// Cyrillic upper case
	'А': 'a', 'В': 'b', 'Е': 'e', 'Ё': 'e', 'Ѕ': 's', 'І': 'i', 'Ї': 'i', 'Ј': 'j', 'К': 'k', 'М': 'm',
	'Н': 'h', 'О': 'o', 'Р': 'p', 'С': 'c', 'Т': 't', 'У': 'y', 'Х': 'x', 'Ь': 'b', 'Ү': 'y', 'Һ': 'h',
	'Ӏ': 'l', 'Ԁ': 'd', 'Ԛ': 'q', 'Ԝ': 'w', 'Ѵ': 'v', 'Ꙇ': 'i',
	// Cyrillic lower case
	'а': 'a', 'в': 'b', 'е': 'e', 'ё': 'e', 'ѕ': 's', 'і': 'i', 'ї': 'i', 'ј': 'j', 'к': 'k', 'м': 'm',
	'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't', 'у': 'y', 'х': 'x', 'ь': 'b', 'ү': 'y', 'һ': 'h',
	'ӏ': 'l', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w', 'ѵ': 'v', 'п': 'n', 'ꙇ': 'i', 'ѡ': 'w',
	// Greek extras
	'ϲ': 'c', 'Ϲ': 'c', 'ϳ': 'j', 'ϵ': 'e', 'Ϻ': 'm', 'ϼ': 'p',
	// Armenian
	'օ': 'o', 'ս': 'u', 'հ': 'h', 'ո': 'n', 'ց': 'g', 'զ': 'q', 'Տ': 's', 'Օ': 'o',
	// Letterlike symbols
	'ℂ': 'c', 'ℊ': 'g', 'ℋ': 'h', 'ℌ': 'h', 'ℍ': 'h', 'ℎ': 'h', 'ℏ': 'h', 'ℐ': 'i', 'ℑ': 'i', 'ℒ': 'l',
	'ℓ': 'l', 'ℕ': 'n', 'ℙ': 'p', 'ℚ': 'q', 'ℛ': 'r', 'ℜ': 'r', 'ℝ': 'r', 'ℤ': 'z', 'ℨ': 'z', '\u212A': 'k',
	'\u212B': 'a', 'ℬ': 'b', 'ℭ': 'c', 'ℯ': 'e', 'ℰ': 'e', 'ℱ': 'f', 'ℳ': 'm', 'ℴ': 'o', 'ℹ': 'i', 'ⅅ': 'd',
	'ⅆ': 'd', 'ⅇ': 'e', 'ⅈ': 'i', 'ⅉ': 'j',
	// Roman numerals that are one letter
	'Ⅰ': 'i', 'Ⅴ': 'v', 'Ⅹ': 'x', 'Ⅼ': 'l', 'Ⅽ': 'c', 'Ⅾ': 'd', 'Ⅿ': 'm',
	'ⅰ': 'i', 'ⅴ': 'v', 'ⅹ': 'x', 'ⅼ': 'l', 'ⅽ': 'c', 'ⅾ': 'd', 'ⅿ': 'm',
	// Latin letters the name rules leave out
	'Ð': 'd', 'ð': 'd', 'ı': 'i', 'ĸ': 'k', 'ſ': 's', 'Ŋ': 'n', 'ŋ': 'n', 'Ø': 'o', 'ø': 'o', 'Ł': 'l', 'ł': 'l',
	'ɑ': 'a', 'ɡ': 'g', 'ɩ': 'i', 'ʀ': 'r', 'ʏ': 'y', 'ʙ': 'b', 'ɢ': 'g', 'ʜ': 'h', 'ɪ': 'i', 'ʟ': 'l', 'ɴ': 'n',
	'⓪': '0', '⓿': '0',
}

// ligatures fold to two or three letters.
var ligatures = map[rune]string{
	'Æ': "ae", 'æ': "ae", 'Œ': "oe", 'œ': "oe", 'ß': "ss", 'ẞ': "ss", 'Ĳ': "ij", 'ĳ': "ij",
	'ﬀ': "ff", 'ﬁ': "fi", 'ﬂ': "fl", 'ﬃ': "ffi", 'ﬄ': "ffl", 'ﬅ': "st", 'ﬆ': "st", 'Ǉ': "lj", 'ǉ': "lj",
	'Ǌ': "nj", 'ǌ': "nj", 'Ǳ': "dz", 'ǲ': "dz", 'ǳ': "dz", 'Ǆ': "dz", 'ǅ': "dz", 'ǆ': "dz", 'Þ': "th", 'þ': "th",
	'Ⅱ': "ii", 'Ⅲ': "iii", 'Ⅳ': "iv", 'Ⅵ': "vi", 'ⅱ': "ii", 'ⅲ': "iii", 'ⅳ': "iv", 'ⅵ': "vi",
}

// invisible runes that render as nothing or as blank space but are letters
// or symbols to Unicode, used to split words unseen.
func invisible(r rune) bool {
	switch r {
	case 0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x2800, 0x3164, 0xFFA0, 0xFEFF:
		return true
	}
	return (r >= 0x180B && r <= 0x180F) || // Mongolian variation selectors
		(r >= 0x200B && r <= 0x200F) || // zero-width space, joiners, marks
		(r >= 0x202A && r <= 0x202E) || // bidi embeddings
		(r >= 0x2060 && r <= 0x206F) || // word joiner, invisible operators
		(r >= 0xFE00 && r <= 0xFE0F) || // variation selectors
		(r >= 0xE0000 && r <= 0xE0FFF) // tags, variation selectors supplement
}

// foldRune folds r. For foldChar the bytes are in b[:n] (lower case ASCII
// letters, digits or ASCII punctuation).
func foldRune(r rune) (k foldKind, b [3]byte, n int) {
	one := func(c byte) (foldKind, [3]byte, int) {
		if c == '.' || c == 0 {
			return foldSep, b, 0
		}
		return foldChar, [3]byte{c}, 1
	}
	switch {
	case r < 0x80:
		c := byte(r)
		switch {
		case c >= 'A' && c <= 'Z':
			return foldChar, [3]byte{c + 'a' - 'A'}, 1
		case c > ' ' && c < 0x7F:
			return foldChar, [3]byte{c}, 1
		}
		return foldSep, b, 0
	case invisible(r):
		return foldSkip, b, 0
	case r >= 0xFF01 && r <= 0xFF5E: // fullwidth ASCII
		return foldRune(r - 0xFEE0)
	case r >= 0x1D400 && r <= 0x1D6A3: // mathematical alphanumeric letters: 13 styles of A-Z a-z
		i := (r - 0x1D400) % 52
		if i >= 26 {
			i -= 26
		}
		return one(byte('a' + i))
	case r == 0x1D6A4:
		return one('i')
	case r == 0x1D6A5:
		return one('j')
	case r >= 0x1D6A8 && r <= 0x1D7C9: // mathematical Greek: 5 styles of 58
		return one(greekLike[(r-0x1D6A8)%58])
	case r >= 0x1D7CE && r <= 0x1D7FF: // mathematical digits: 5 styles of 0-9
		return one(byte('0' + (r-0x1D7CE)%10))
	case r >= 0x2460 && r <= 0x2468: // circled 1-9
		return one(byte('1' + r - 0x2460))
	case r >= 0x2474 && r <= 0x247C: // parenthesized 1-9
		return one(byte('1' + r - 0x2474))
	case r >= 0x2488 && r <= 0x2490: // 1. to 9.
		return one(byte('1' + r - 0x2488))
	case r >= 0x249C && r <= 0x24B5: // parenthesized a-z
		return one(byte('a' + r - 0x249C))
	case r >= 0x24B6 && r <= 0x24CF: // circled A-Z
		return one(byte('a' + r - 0x24B6))
	case r >= 0x24D0 && r <= 0x24E9: // circled a-z
		return one(byte('a' + r - 0x24D0))
	case r >= 0x2776 && r <= 0x277E: // dingbat negative circled 1-9
		return one(byte('1' + r - 0x2776))
	case r >= 0x1F110 && r <= 0x1F129: // parenthesized A-Z
		return one(byte('a' + r - 0x1F110))
	case r >= 0x1F130 && r <= 0x1F149: // squared A-Z
		return one(byte('a' + r - 0x1F130))
	case r >= 0x1F150 && r <= 0x1F169: // negative circled A-Z
		return one(byte('a' + r - 0x1F150))
	case r >= 0x1F170 && r <= 0x1F189: // negative squared A-Z
		return one(byte('a' + r - 0x1F170))
	case r >= 0x1F1E6 && r <= 0x1F1FF: // regional indicators A-Z
		return one(byte('a' + r - 0x1F1E6))
	case r >= 0x0386 && r <= 0x03CE:
		return one(greekBlock[r-0x0386])
	}
	for _, lr := range latinRanges {
		if r >= lr.lo && r < lr.lo+rune(len(lr.s)) {
			if c := lr.s[r-lr.lo]; c != '.' {
				return foldChar, [3]byte{c}, 1
			}
			break
		}
	}
	if c, ok := otherLike[r]; ok {
		return foldChar, [3]byte{c}, 1
	}
	if s, ok := cyrillicLatin[r]; ok {
		if s == "" {
			return foldSkip, b, 0
		}
		copy(b[:], s)
		return foldChar, b, len(s)
	}
	if s, ok := ligatures[r]; ok {
		copy(b[:], s)
		return foldChar, b, len(s)
	}
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.So, unicode.Sk, unicode.Co):
		// Combining marks, format characters, emoji and other pictographs,
		// private-use glyphs: dropped, so that "lo🙂li" reads "loli".
		return foldSkip, b, 0
	case unicode.IsDigit(r):
		// Other scripts' decimal digits (Arabic-Indic, Devanagari...).
		if d := digitValue(r); d >= 0 {
			return one(byte('0' + d))
		}
	}
	return foldSep, b, 0
}

// digitValue returns the value of a Unicode decimal digit (Nd), or -1.
// Every Nd range in Unicode is a run of ten starting at a zero.
func digitValue(r rune) int {
	for _, rng := range unicode.Nd.R16 {
		if uint16(r>>16) == 0 && uint16(r) >= rng.Lo && uint16(r) <= rng.Hi {
			return int(uint16(r)-rng.Lo) % 10
		}
	}
	for _, rng := range unicode.Nd.R32 {
		if uint32(r) >= rng.Lo && uint32(r) <= rng.Hi {
			return int(uint32(r)-rng.Lo) % 10
		}
	}
	return -1
}

// cyrillicLatin transliterates the Cyrillic letters that have no Latin
// look-alike in otherLike, so that a Russian word is one word, folded the
// same way as the lists' terms ("голая" -> "golaya"). The hard sign is
// dropped.
var cyrillicLatin = map[rune]string{
	'Б': "b", 'Г': "g", 'Д': "d", 'Ж': "zh", 'З': "z", 'И': "i", 'Й': "i", 'Л': "l", 'П': "n", 'Ф': "f",
	'Ц': "c", 'Ч': "ch", 'Ш': "sh", 'Щ': "sh", 'Ы': "y", 'Э': "e", 'Ю': "yu", 'Я': "ya", 'Ъ': "",
	'б': "b", 'г': "g", 'д': "d", 'ж': "zh", 'з': "z", 'и': "i", 'й': "i", 'л': "l", 'ф': "f",
	'ц': "c", 'ч': "ch", 'ш': "sh", 'щ': "sh", 'ы': "y", 'э': "e", 'ю': "yu", 'я': "ya", 'ъ': "",
	'Є': "e", 'є': "e", 'Ґ': "g", 'ґ': "g", 'Ў': "u", 'ў': "u",
}

// isCJK reports whether r is a Chinese, Japanese or Korean letter: a Han
// ideograph, hiragana, katakana (with the prolonged sound mark) or hangul.
// CJK is kept as it is and matched as runs (see Normalize).
func isCJK(r rune) bool {
	if r < 0x1100 {
		return false
	}
	switch {
	case r >= 0x3041 && r <= 0x3096, r >= 0x309D && r <= 0x309F, // hiragana
		r >= 0x30A1 && r <= 0x30FA, r >= 0x30FC && r <= 0x30FF, r >= 0x31F0 && r <= 0x31FF, // katakana
		r >= 0x4E00 && r <= 0x9FFF, r >= 0x3400 && r <= 0x4DBF, r == 0x3005, r == 0x3007: // common Han
		return true
	}
	return unicode.In(r, unicode.Han, unicode.Hangul)
}

// isKatakana reports whether r is a katakana letter or the prolonged sound
// mark that lengthens one.
func isKatakana(r rune) bool {
	return r >= 0x30A1 && r <= 0x30FA || r >= 0x30FC && r <= 0x30FF || r >= 0x31F0 && r <= 0x31FF
}

// halfwidthKana maps the halfwidth katakana U+FF66..U+FF9D to fullwidth.
var halfwidthKana = []rune("ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン")

// isVoicingMark reports whether r is a kana voicing mark: the combining,
// spacing or halfwidth dakuten and handakuten.
func isVoicingMark(r rune) bool {
	switch r {
	case 0x3099, 0x309A, 0x309B, 0x309C, 0xFF9E, 0xFF9F:
		return true
	}
	return false
}

// voiced returns the kana r with a dakuten (or, semi, a handakuten):
// か -> が, ハ -> パ, ウ -> ヴ. ok is false for a kana that takes none.
func voiced(r rune, semi bool) (rune, bool) {
	base, kata := r, false
	if r >= 0x30A1 && r <= 0x30F6 {
		base, kata = r-0x60, true // the katakana block mirrors hiragana
	}
	var v rune
	switch {
	case semi:
		if base >= 0x306F && base <= 0x307B && (base-0x306F)%3 == 0 { // は ひ ふ へ ほ
			v = base + 2
		}
	case base >= 0x304B && base <= 0x3061 && (base-0x304B)%2 == 0, // か .. ち
		base == 0x3064 || base == 0x3066 || base == 0x3068,       // つ て と
		base >= 0x306F && base <= 0x307B && (base-0x306F)%3 == 0: // は .. ほ
		v = base + 1
	case base == 0x3046: // う
		v = 0x3094
	}
	if v == 0 {
		return r, false
	}
	if kata {
		v += 0x60
	}
	return v, true
}

package filter_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/hordebot/hordebot/horde/filter"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"lower case, punctuation", "A Lighthouse, at DUSK!", "a lighthouse at dusk"},
		{"negative part dropped", "a cat ### a dog, blurry", "a cat"},
		{"only negative", "### nude", ""},
		{"weights", "(loli:1.4), ((masterpiece)), [word], {word}, word++, word--", "loli masterpiece word word word word"},
		{"negative weight", "(ugly: -0.5) cat", "ugly cat"},
		{"lora syntax", "<lora:detail_tweaker:0.8> castle", "lora detail tweaker castle"},
		{"spaced letters", "c h i l d", "child"},
		{"dotted letters", "c.h.i.l.d", "child"},
		{"hyphenated letters", "c-h-i-l-d", "child"},
		{"spaced with leet", "k 1 d", "kid"},
		{"two single letters stay", "plan a b", "plan a b"},
		{"numbers stay apart", "1 2 3", "1 2 3"},
		{"leetspeak", "l0l1 n4k3d s3x p0rn", "loli naked sex porn"},
		{"leet one before vowel", "1oli s1ut ch1ld", "loli slut child"},
		{"leet symbols", "$ex @ss k!d", "sex ass kid"},
		{"trailing bang is punctuation", "nud3!", "nude"},
		{"numbers with units", "1girl, 2girls, 4k, 8k, 1990s, 13yo, 5yo, 35mm, 512px, 3d", "1girl 2girls 4k 8k 1990s 13yo 5yo 35mm 512px 3d"},
		{"one letter with digits", "r18 v6", "r18 v6"},
		{"repeated letters", "loooli nuuude sexxx cooool", "loli nude sex col"},
		{"double letters kept", "toddler nipple cool", "toddler nipple cool"},
		{"cyrillic", "lоli nudе сhild", "loli nude child"},
		{"greek", "lοli Αrt", "loli art"},
		{"fullwidth", "ｌｏｌｉ　ＮＵＤＥ", "loli nude"},
		{"math bold", "𝐥𝐨𝐥𝐢 𝕟𝕦𝕕𝕖 𝟏𝟐", "loli nude 12"},
		{"circled and squared", "ⓛⓞⓛⓘ 🅝🅤🅓🅔", "loli nude"},
		{"regional indicators", "🇱🇴🇱🇮", "loli"},
		{"accents", "lólì nüdé Café naïve", "loli nude cafe naive"},
		{"ligatures", "Œuvre straße ﬁre", "oeuvre strasse fire"},
		{"small caps", "ʟᴏʟɪ", "loli"},
		{"letterlike", "ℓoℓi", "loli"},
		{"zero width", "lo\u200bli nu\u200dde \ufeffkid", "loli nude kid"},
		{"combining marks", "lo\u0301li", "loli"},
		{"emoji removed", "lo🍭li 🔥 cat", "loli cat"},
		{"emoji between letters", "l🍭o🍭l🍭i", "loli"},
		{"invisible filler letters", "lo\u3164li lo\u2800li", "loli loli"},
		{"cjk is kept apart", "萝莉loli", "萝莉 loli"},
		{"other scripts are separators", "שלוםloli สวัสดี", "loli"},
		{"arabic digits", "١٢ year old", "12 year old"},
		{"underscores", "little_girl", "little girl"},
		{"invalid utf8", "lo\xffli", "lo li"},
		{"url escapes", "%6Coli %4E%55%44%45 ni%C3%B1a", "loli nude nina"},
		{"url escape of cjk", "%E8%90%9D%E8%8E%89", "萝莉"},
		{"percent that escapes nothing", "100% cotton, 50%off, 100%abstract, %zz, %", "100 cotton 50 off 100 abstract zz"},
		{"html numeric references", "&#108;oli &#x6C;&#X6F;li lol&#105 &#33821;&#33673;", "loli loli loli 萝莉"},
		{"html named references", "caf&eacute; &lt;b&gt; &amp;k&#105;d&amp; ni&ntilde;a", "cafe b kid nina"},
		{"ampersand that references nothing", "salt & pepper, Tom&Jerry, &nosuch; &#0; &#xZZ;", "salt pepper tom jerry nosuch 0 xzz"},
		{"cyrillic transliterated", "Голая девочка, щука, объект", "golaya debochka shyka obekt"}, // look-alikes first: в is b, у is y
		{"cjk runs joined across blanks", "萝 莉，裸.体 loli", "萝莉裸体 loli"},
		{"cjk next to ascii", "loli萝莉nude", "loli 萝莉 nude"},
		{"halfwidth katakana", "ﾛﾘ ﾇｰﾄﾞ ﾊﾟﾝﾁﾗ", "ロリヌードパンチラ"},
		{"combining voicing mark", "ポルノ が", "ポルノが"},
		{"hangul kept, filler dropped", "안녕ㅤ하세요", "안녕하세요"},
		{"enye written two ways", "niña niña", "nina nina"},
		{"capital I stays i", "IoIi ILLUSTRATION", "ioii illustration"},
		{"empty", "", ""},
		{"blank", " \t\n ", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := filter.Normalize(tt.in)
			if got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if again := filter.Normalize(got); again != got {
				t.Errorf("Normalize is not idempotent: %q -> %q", got, again)
			}
		})
	}
}

// checkNormalized fails unless out is lower-case ASCII words and runs of
// CJK letters, separated by single spaces.
func checkNormalized(t *testing.T, in, out string) {
	t.Helper()
	if strings.HasPrefix(out, " ") || strings.HasSuffix(out, " ") || strings.Contains(out, "  ") {
		t.Fatalf("Normalize(%q) = %q: stray spaces", in, out)
	}
	for _, word := range strings.Fields(out) {
		cjk := false
		for i, r := range word {
			switch {
			case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
				if cjk {
					t.Fatalf("Normalize(%q) = %q: word %q mixes CJK and ASCII", in, out, word)
				}
			case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul) || r == 'ー':
				if i > 0 && !cjk {
					t.Fatalf("Normalize(%q) = %q: word %q mixes CJK and ASCII", in, out, word)
				}
				cjk = true
			default:
				t.Fatalf("Normalize(%q) = %q: %q is not a lower-case ASCII letter, digit, CJK letter or space", in, out, r)
			}
		}
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"a lighthouse at dusk", "(loli:1.4) ### nude", "c h i l d", "l0l1 n4k3d", "ｌｏｌｉ", "𝐥𝐨𝐥𝐢",
		"lo\u200bli", "🇱🇴🇱🇮", "a 1 b 2 c", "13yo 5yo 1girl", "loooli", "((x)):1.2 [a|b] {c} d++",
		"$ex @ss k!d", "\xff\xfe", "::::", "1 : 2 : .3",
		"%6Coli %C3%B1 %E8%90%9D", "&#108;oli &lt;&amp;&ntilde; &#x1F600", "萝 莉，裸体 ﾛﾘ ﾇｰﾄﾞ ホ\u309a", "IoIi chi1d child1 2kids",
		"niña nin\u0303a", "голая девочка", "lo萝li イエロー エロ",
	} {
		f.Add(s)
	}
	pf, err := filter.New(defaultLists(), filter.Options{RewriteNSFW: true, NSFWModels: []string{"*"}})
	if err != nil {
		f.Fatalf("new filter: %v", err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := filter.Normalize(s)
		checkNormalized(t, s, out)
		if again := filter.Normalize(out); again != out {
			t.Fatalf("Normalize(%q) = %q, but Normalize of that = %q", s, out, again)
		}
		if !strings.Contains(s, "###") && utf8.ValidString(s) {
			if with := filter.Normalize(s + " ### nude loli"); with != out {
				t.Fatalf("the negative part changed the result: %q vs %q", with, out)
			}
		}
		for _, fc := range []filter.Context{{}, {NSFWAllowed: true}, {Text: true}} {
			v := pf.Check(s, fc)
			if v.Action == filter.Rewrite {
				if again := pf.Check(v.Prompt, fc); again.Rule == filter.RuleNSFW || again.Rule == filter.RuleCSAM {
					t.Fatalf("rewrite of %q is %q, still %q", s, v.Prompt, again.Rule)
				}
			}
		}
	})
}

func BenchmarkNormalize(b *testing.B) {
	b.SetBytes(int64(len(longPrompt)))
	b.ReportAllocs()
	for b.Loop() {
		if filter.Normalize(longPrompt) == "" {
			b.Fatal("empty")
		}
	}
}

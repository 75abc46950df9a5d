package worker

import (
	"math/rand/v2"
	"strings"
	"unicode"
	"unicode/utf8"
)

// proceduralWords is the vocabulary of the procedural text backend.
var proceduralWords = strings.Fields(`the a of and to in with under over through beyond
beside across quiet bright ancient small vast hidden golden silver gentle restless
distant warm cold river mountain forest city harbour lantern garden tower bridge
road sky storm morning evening night light shadow voice song story letter map
journey traveller keeper machine engine signal echo window door stone glass
wanders waits remembers carries finds builds listens watches opens follows
returns dreams slowly softly suddenly again together alone`)

// proceduralText writes deterministic text from prompt and seed: sentences
// of vocabulary words mixed with words of the prompt, about three quarters
// of maxTokens words long (a token is about three quarters of a word) and
// never more than maxTokens words.
func proceduralText(prompt string, seed int64, maxTokens int) string {
	r := rand.New(rand.NewPCG(proceduralSeed(prompt, seed)))
	var promptWords []string
	for _, w := range strings.FieldsFunc(prompt, func(c rune) bool { return !unicode.IsLetter(c) && !unicode.IsDigit(c) }) {
		if utf8.RuneCountInString(w) > 2 && utf8.RuneCountInString(w) < 24 {
			promptWords = append(promptWords, strings.ToLower(w))
		}
	}
	n := max(1, min(maxTokens, maxTokens*3/4))
	var b strings.Builder
	sentence := 0
	sentenceLen := 6 + r.IntN(9)
	for i := 0; i < n; i++ {
		var w string
		if len(promptWords) > 0 && r.IntN(4) == 0 {
			w = promptWords[r.IntN(len(promptWords))]
		} else {
			w = proceduralWords[r.IntN(len(proceduralWords))]
		}
		if sentence == 0 {
			if i > 0 {
				b.WriteByte(' ')
			}
			first, size := utf8.DecodeRuneInString(w)
			b.WriteRune(unicode.ToUpper(first))
			b.WriteString(w[size:])
		} else {
			b.WriteByte(' ')
			b.WriteString(w)
		}
		sentence++
		if sentence == sentenceLen || i == n-1 {
			b.WriteByte('.')
			sentence, sentenceLen = 0, 6+r.IntN(9)
		}
	}
	return b.String()
}

package aihorde

import "strings"

// NegativeSeparator separates an image prompt's positive and negative parts:
// the AI Horde's "positive ### negative".
const NegativeSeparator = "###"

// SplitPrompt splits an AI Horde image prompt at its first "###" into the
// positive and the negative prompt, both trimmed of surrounding space. A
// prompt without "###" is all positive. Any later "###" stays part of the
// negative prompt, as the AI Horde's workers read it.
func SplitPrompt(prompt string) (positive, negative string) {
	pos, neg, found := strings.Cut(prompt, NegativeSeparator)
	if !found {
		return strings.TrimSpace(prompt), ""
	}
	return strings.TrimSpace(pos), strings.TrimSpace(neg)
}

// PositivePrompt is the part of prompt before its first "###", untrimmed
// (so that offsets into it are offsets into prompt).
func PositivePrompt(prompt string) string {
	pos, _, _ := strings.Cut(prompt, NegativeSeparator)
	return pos
}

// JoinPrompt is the AI Horde prompt of a positive and a negative part:
// "positive ### negative", or the positive part alone when the negative one
// is blank. Both parts are trimmed.
func JoinPrompt(positive, negative string) string {
	positive, negative = strings.TrimSpace(positive), strings.TrimSpace(negative)
	if negative == "" {
		return positive
	}
	return positive + " " + NegativeSeparator + " " + negative
}

// AppendNegative adds neg to the negative part of an AI Horde image prompt,
// after what is there (separated by ", "), creating it when there is none.
func AppendNegative(prompt, neg string) string {
	positive, negative := SplitPrompt(prompt)
	if negative = strings.TrimRight(negative, " ,"); negative != "" {
		neg = negative + ", " + strings.TrimSpace(neg)
	}
	return JoinPrompt(positive, neg)
}

// Package filter is the prompt filter: it normalises a prompt (look-alike
// letters, leetspeak, spacing, weights, escapes; see Normalize), matches it
// against term lists (see Lists) and decides what happens to it (see
// Filter.Check and Verdict). It knows nothing of the scheduler: package
// horde states the one method it calls (horde.PromptFilter) and *Filter
// satisfies it. It imports the standard library only.
package filter

import (
	"cmp"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// Action is what a verdict does with a prompt.
type Action int

// The filter's actions.
const (
	Allow   Action = iota // queue the prompt (Verdict.Prompt, which may carry a forced negative)
	Refuse                // refuse the request
	Rewrite               // queue Verdict.Prompt, with the terms not allowed here removed
)

func (a Action) String() string {
	switch a {
	case Refuse:
		return "refuse"
	case Rewrite:
		return "rewrite"
	default:
		return "allow"
	}
}

// Rule names the rule behind a verdict.
type Rule string

// The filter's rules.
const (
	RuleNone   Rule = ""
	RuleCSAM   Rule = "csam"   // minors together with sexual content: always refused
	RuleNSFW   Rule = "nsfw"   // NSFW terms where NSFW is not allowed
	RuleMinors Rule = "minors" // minors on an NSFW-capable model: negative prompt forced
)

// Context is where a prompt is going.
type Context struct {
	// NSFWAllowed: the request asks for NSFW (nsfw=true; the bot sets it
	// only in age-restricted channels).
	NSFWAllowed bool
	// NSFWModel: the caller knows the request goes to an NSFW-capable
	// model. Otherwise the filter decides from Models (Options.NSFWModels).
	NSFWModel bool
	// Models are the models the request names (empty: any model).
	Models []string
	// Text: a text request. It has no negative part: the whole prompt is
	// checked and no negative prompt is appended.
	Text bool
}

// Verdict is the filter's decision on one prompt.
type Verdict struct {
	Action Action
	Rule   Rule
	// Reason explains the verdict to the member (empty when nothing matched).
	Reason string
	// Matched lists what matched, for moderators: the list, the term and
	// the prompt text that matched it (e.g. `minors:loli "l0li"`).
	Matched []string
	// Prompt is the prompt to queue: the input, rewritten (Rewrite)
	// and/or with ForcedNegative appended after "###".
	Prompt string
	// ForcedNegative is the negative prompt the filter appended, if any.
	ForcedNegative string
}

// Options tune a Filter.
type Options struct {
	// RewriteNSFW: NSFW terms where NSFW is not allowed are removed from the
	// prompt (Rewrite) instead of the request being refused.
	RewriteNSFW bool
	// NSFWModels are the NSFW-capable models (case-insensitive), whose
	// requests get the minor-safe negative prompt when they mention minors.
	// "*" makes every model NSFW-capable; a request that names no model
	// counts as NSFW-capable when any model does. Requests with nsfw=true
	// always count as NSFW-capable.
	NSFWModels []string
}

// Filter is the prompt filter: it refuses prompts that pair minors with
// sexual content, refuses or rewrites NSFW prompts where NSFW is not
// allowed, and forces a minor-safe negative prompt onto prompts that
// mention minors and may reach an NSFW-capable model. Only the positive
// part of an image prompt (before "###") is checked, after Normalize. It is
// safe for concurrent use.
type Filter struct {
	terms     *termIndex
	negative  string
	rewrite   bool
	allModels bool
	models    map[string]bool
}

// New builds a filter from lists (see Lists). A term that
// normalises to nothing or to a single character, a CJK term mixed with
// other letters, an unknown [section] or a language term before any
// section is an error naming its list and line.
func New(lists Lists, opts Options) (*Filter, error) {
	f := &Filter{terms: newTermIndex(), rewrite: opts.RewriteNSFW, models: make(map[string]bool)}
	type list struct {
		name string
		list []byte
		cat  termCat
	}
	all := []list{{"minors", lists.Minors, catMinors}, {"sexual", lists.Sexual, catSexual}, {"nsfw", lists.NSFW, catNSFW}}
	for _, name := range slices.Sorted(maps.Keys(lists.Languages)) {
		all = append(all, list{name, lists.Languages[name], 0})
	}
	for _, l := range all {
		if err := f.terms.addList(l.name, l.list, l.cat); err != nil {
			return nil, fmt.Errorf("prompt filter: %w", err)
		}
	}
	neg, err := parseNegative(lists.Negative)
	if err != nil {
		return nil, fmt.Errorf("prompt filter: negative prompt: %w", err)
	}
	f.negative = neg
	for _, m := range opts.NSFWModels {
		m = strings.ToLower(strings.TrimSpace(m))
		if m == "*" {
			f.allModels = true
		} else if m != "" {
			f.models[m] = true
		}
	}
	return f, nil
}

// nsfwCapable reports whether a request naming models may reach an
// NSFW-capable model.
func (f *Filter) nsfwCapable(models []string) bool {
	if f.allModels {
		return true
	}
	if len(models) == 0 {
		return len(f.models) > 0
	}
	for _, m := range models {
		if f.models[strings.ToLower(m)] {
			return true
		}
	}
	return false
}

// Check returns the verdict on prompt in the given context. It never
// fails: a prompt it cannot read is allowed or refused, never an error.
// The rules, in order:
//   - minors (or minors-if-sexual) and sexual terms together: Refuse,
//     rule csam, in every context;
//   - NSFW (sexual or other NSFW) terms where NSFW is not allowed:
//     Refuse, or Rewrite without them when RewriteNSFW (refused
//     still if nothing is left or the rewrite still matches);
//   - minors on an NSFW-capable request (image only): the minor-safe
//     negative prompt is appended after "###" (ForcedNegative).
func (f *Filter) Check(prompt string, fc Context) Verdict {
	v := Verdict{Action: Allow, Prompt: prompt}
	positive, negative := prompt, ""
	if !fc.Text {
		positive = aihorde.PositivePrompt(prompt)
		_, negative = aihorde.SplitPrompt(prompt)
	}
	hits := f.hits(positive, nil)
	cats := hitCats(hits)
	v.Matched = describeHits(positive, hits)

	if cats&catAnyMinors != 0 && cats&catSexual != 0 {
		v.Action, v.Rule = Refuse, RuleCSAM
		v.Reason = "This prompt was refused: it combines minors with sexual content, which is never allowed. " +
			"The attempt has been recorded for the moderators."
		return v
	}
	if cats&(catSexual|catNSFW) != 0 && !fc.NSFWAllowed {
		terms := hitTerms(hits, catSexual|catNSFW)
		v.Rule = RuleNSFW
		if !f.rewrite {
			v.Action = Refuse
			v.Reason = fmt.Sprintf("This prompt was refused: NSFW content (%s) is not allowed here. "+
				"Remove it, or ask in an NSFW channel.", strings.Join(terms, ", "))
			return v
		}
		rewritten, ok := f.rewriteNSFW(positive, hits)
		if !ok {
			v.Action = Refuse
			v.Reason = fmt.Sprintf("This prompt was refused: NSFW content (%s) is not allowed here, "+
				"and removing it leaves no usable prompt.", strings.Join(terms, ", "))
			return v
		}
		v.Action = Rewrite
		v.Reason = fmt.Sprintf("NSFW content is not allowed here; removed from the prompt: %s.", strings.Join(terms, ", "))
		positive = rewritten
		v.Prompt = aihorde.JoinPrompt(positive, negative)
	}
	if cats&catMinors != 0 && !fc.Text && f.negative != "" &&
		(fc.NSFWAllowed || fc.NSFWModel || f.nsfwCapable(fc.Models)) {
		v.ForcedNegative = f.negative
		v.Prompt = aihorde.AppendNegative(v.Prompt, f.negative)
		if v.Rule == RuleNone {
			v.Rule = RuleMinors
			v.Reason = "The prompt mentions minors, so a safety negative prompt was added."
		} else {
			v.Reason += " The prompt mentions minors, so a safety negative prompt was added."
		}
	}
	return v
}

// hits normalises s and appends the terms found in it to hits.
func (f *Filter) hits(s string, hits []filterHit) []filterHit {
	n := getNormalizer()
	defer putNormalizer(n)
	n.run(s)
	return dropNotMinors(f.terms.match(n, hits))
}

// dropNotMinors removes from hits the not-minors phrases ("baby oil") and
// the minors terms found inside one of them.
func dropNotMinors(hits []filterHit) []filterHit {
	var spans [16]span
	ex := spans[:0] // the phrases' spans by start, hi the furthest end so far
	for _, h := range hits {
		if h.term.cats&catNotMinors != 0 {
			ex = append(ex, span{h.from, h.to})
		}
	}
	if len(ex) == 0 {
		return hits
	}
	slices.SortFunc(ex, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	for k := 1; k < len(ex); k++ {
		ex[k].hi = max(ex[k].hi, ex[k-1].hi)
	}
	out := hits[:0]
	for _, h := range hits {
		switch {
		case h.term.cats&catNotMinors != 0:
			if h.term.cats&^catNotMinors == 0 {
				continue
			}
		case h.term.cats&^catAnyMinors == 0:
			// inside a phrase if one that starts at or before it ends at or after it
			k, _ := slices.BinarySearchFunc(ex, h.from, func(e span, from int) int {
				if e.lo <= from {
					return -1
				}
				return 1
			})
			if k > 0 && ex[k-1].hi >= h.to {
				continue
			}
		}
		out = append(out, h)
	}
	return out
}

func hitCats(hits []filterHit) termCat {
	var c termCat
	for _, h := range hits {
		c |= h.term.cats
	}
	return c
}

// hitTerms lists, once each and in order, the terms of hits on the lists in cats.
func hitTerms(hits []filterHit, cats termCat) []string {
	var out []string
	for _, h := range hits {
		if h.term.cats&cats != 0 && !slices.Contains(out, h.term.text) {
			out = append(out, h.term.text)
		}
	}
	return out
}

// describeHits formats hits for moderators: `list:term "prompt text"`.
func describeHits(src string, hits []filterHit) []string {
	var out []string
	for _, h := range hits {
		d := fmt.Sprintf("%s:%s %q", catNames(h.term.cats), h.term.text, src[h.from:h.to])
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// Tidying after terms are cut out of a prompt: empty weight groups, runs of
// commas, runs of blanks.
var (
	emptyGroup = regexp.MustCompile(`\(\s*(?::\s*-?[0-9.]*)?\s*\)|\[\s*(?::\s*-?[0-9.]*)?\s*\]|\{\s*\}|<\s*>`)
	commaRun   = regexp.MustCompile(`\s*[,，、](?:\s*[,，、])+`) // ASCII, fullwidth and ideographic commas
	blankRun   = regexp.MustCompile(`\s{2,}`)
	plusMinus  = regexp.MustCompile(`(^|[\s,(\[{])[+\-]+`)
)

// rewriteNSFW cuts the sexual and NSFW hits out of positive and tidies what
// is left. ok is false when nothing usable is left or the result still
// matches an NSFW term.
func (f *Filter) rewriteNSFW(positive string, hits []filterHit) (string, bool) {
	var cut [][2]int
	for _, h := range hits {
		if h.term.cats&(catSexual|catNSFW) != 0 {
			cut = append(cut, [2]int{h.from, h.to})
		}
	}
	slices.SortFunc(cut, func(a, b [2]int) int { return a[0] - b[0] })
	var b strings.Builder
	at := 0
	for _, c := range cut {
		if c[0] > at {
			b.WriteString(positive[at:c[0]])
		}
		at = max(at, c[1])
	}
	b.WriteString(positive[at:])
	s := b.String()
	for {
		t := emptyGroup.ReplaceAllString(s, "")
		if t == s {
			break
		}
		s = t
	}
	s = plusMinus.ReplaceAllString(s, "$1")
	s = commaRun.ReplaceAllString(s, ",")
	s = blankRun.ReplaceAllString(s, " ")
	s = strings.Trim(s, " ,，、\t\r\n")
	if Normalize(s) == "" {
		return "", false
	}
	if hitCats(f.hits(s, nil))&(catSexual|catNSFW) != 0 {
		return "", false
	}
	return s, true
}

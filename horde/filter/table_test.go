package filter_test

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde/filter"
)

// tableRow is one prompt of testdata/prompts.tsv.
type tableRow struct {
	line    int
	action  filter.Action
	rule    filter.Rule
	context string
	prompt  string
	queued  string // "" unless the row names the queued prompt
}

// readFilterTable reads testdata/prompts.tsv (its format is in its
// header).
func readFilterTable(t *testing.T) []tableRow {
	t.Helper()
	f, err := os.Open("testdata/prompts.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	actions := map[string]filter.Action{"allow": filter.Allow, "refuse": filter.Refuse, "rewrite": filter.Rewrite}
	rules := map[string]filter.Rule{"-": filter.RuleNone, "csam": filter.RuleCSAM, "nsfw": filter.RuleNSFW, "minors": filter.RuleMinors}
	contexts := map[string]bool{"sfw": true, "nsfw": true, "text": true, "rewrite": true}
	var rows []tableRow
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		s := sc.Text()
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		cols := strings.Split(s, "\t")
		if len(cols) < 4 || len(cols) > 5 {
			t.Fatalf("prompts.tsv:%d: %d columns, want 4 or 5", line, len(cols))
		}
		a, ok1 := actions[cols[0]]
		r, ok2 := rules[cols[1]]
		if !ok1 || !ok2 || !contexts[cols[2]] {
			t.Fatalf("prompts.tsv:%d: bad action, rule or context in %q", line, s)
		}
		row := tableRow{line: line, action: a, rule: r, context: cols[2], prompt: cols[3]}
		if len(cols) == 5 {
			row.queued = cols[4]
		}
		rows = append(rows, row)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestFilterTable checks every prompt of the committed table against the
// embedded lists (English and every language file): the decision and rule
// a member sees, the reason given, what moderators see, and the prompt
// that is queued.
func TestFilterTable(t *testing.T) {
	rows := readFilterTable(t)
	if len(rows) < 150 {
		t.Fatalf("the prompt table has %d prompts, want at least 150", len(rows))
	}
	refusing := mustFilter(t, filter.Options{NSFWModels: []string{"*"}})
	rewriting := mustFilter(t, filter.Options{RewriteNSFW: true, NSFWModels: []string{"*"}})
	neg := safeNegative(t)
	for _, row := range rows {
		t.Run(row.prompt, func(t *testing.T) {
			f, fc := refusing, filter.Context{}
			switch row.context {
			case "nsfw":
				fc.NSFWAllowed = true
			case "text":
				fc.Text = true
			case "rewrite":
				f = rewriting
			}
			v := f.Check(row.prompt, fc)
			if v.Action != row.action || v.Rule != row.rule {
				t.Fatalf("prompts.tsv:%d: Check(%q) in %s = %v/%q, want %v/%q (matched %q, normalized %q)",
					row.line, row.prompt, row.context, v.Action, v.Rule, row.action, row.rule, v.Matched, filter.Normalize(row.prompt))
			}
			if v.Rule != filter.RuleNone && v.Reason == "" {
				t.Errorf("prompts.tsv:%d: no reason for the member", row.line)
			}
			if row.rule == filter.RuleCSAM {
				joined := strings.Join(v.Matched, " ")
				if !strings.Contains(joined, "minors") || !strings.Contains(joined, "sexual") {
					t.Errorf("prompts.tsv:%d: matched = %q, want a minors and a sexual term for the moderators", row.line, v.Matched)
				}
			}
			forced := row.rule == filter.RuleMinors || row.queued != "" && strings.Contains(row.queued, "NEG")
			if got := v.ForcedNegative != ""; got != forced {
				t.Errorf("prompts.tsv:%d: forced negative %q, want one: %v", row.line, v.ForcedNegative, forced)
			}
			switch {
			case row.queued != "":
				if want := strings.ReplaceAll(row.queued, "NEG", neg); v.Prompt != want {
					t.Errorf("prompts.tsv:%d: queued %q, want %q", row.line, v.Prompt, want)
				}
			case v.Action == filter.Allow && !forced && v.Prompt != row.prompt:
				t.Errorf("prompts.tsv:%d: queued %q, want the prompt unchanged", row.line, v.Prompt)
			}
		})
	}
}

// encodings of a lower-case ASCII prompt that a reader (or a model, or a
// web page) may decode: every one must get the verdict of the prompt.
var encodings = []struct {
	name string
	enc  func(rune) string
}{
	{"url", func(r rune) string { return fmt.Sprintf("%%%02X", r) }},
	{"html decimal", func(r rune) string { return fmt.Sprintf("&#%d;", r) }},
	{"html hex", func(r rune) string { return fmt.Sprintf("&#x%x;", r) }},
	{"fullwidth", func(r rune) string { return string(r + 0xFEE0) }},
}

// FuzzFilterEncodings: a prompt of lower-case letters, digits and blanks
// gets the same action and rule when its letters are URL-escaped,
// HTML-referenced or written fullwidth.
func FuzzFilterEncodings(f *testing.F) {
	for _, s := range []string{"loli nude", "a lighthouse at dusk", "child1 naked", "kid sex", "a minor chord", "nina nude", "cp"} {
		f.Add(s)
	}
	pf := mustFilter(f, filter.Options{RewriteNSFW: true, NSFWModels: []string{"*"}})
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 200 || strings.TrimFunc(s, func(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == ' ' }) != "" {
			return
		}
		want := pf.Check(s, filter.Context{})
		for _, e := range encodings {
			var b strings.Builder
			for _, r := range s {
				if r == ' ' {
					b.WriteRune(r)
				} else {
					b.WriteString(e.enc(r))
				}
			}
			if got := pf.Check(b.String(), filter.Context{}); got.Action != want.Action || got.Rule != want.Rule {
				t.Fatalf("%s: Check(%q) = %v/%q, but Check(%q) = %v/%q", e.name, b.String(), got.Action, got.Rule, s, want.Action, want.Rule)
			}
		}
	})
}

package aihorde

import "testing"

func TestSplitPrompt(t *testing.T) {
	tests := []struct {
		name, in      string
		pos, neg, raw string // raw: PositivePrompt's untrimmed part
	}{
		{"no ###", "a cat on a mat", "a cat on a mat", "", "a cat on a mat"},
		{"one ###", "a cat ### blurry", "a cat", "blurry", "a cat "},
		{"no spaces", "a cat###blurry", "a cat", "blurry", "a cat"},
		{"several ###: the first splits", "a cat ### blurry ### ugly", "a cat", "blurry ### ugly", "a cat "},
		{"empty negative", "a cat ###", "a cat", "", "a cat "},
		{"whitespace around", "  a cat \t###\n blurry  ", "a cat", "blurry", "  a cat \t"},
		{"only a negative", "### blurry", "", "blurry", ""},
		{"empty", "", "", "", ""},
		{"#### is ### then #", "a cat #### blurry", "a cat", "# blurry", "a cat "},
		{"### inside the negative", "a cat###dog###bird", "a cat", "dog###bird", "a cat"},
		{"blank positive", " ### only negative", "", "only negative", " "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pos, neg := SplitPrompt(tt.in)
			if pos != tt.pos || neg != tt.neg {
				t.Errorf("SplitPrompt(%q) = %q, %q; want %q, %q", tt.in, pos, neg, tt.pos, tt.neg)
			}
			if raw := PositivePrompt(tt.in); raw != tt.raw {
				t.Errorf("PositivePrompt(%q) = %q, want %q", tt.in, raw, tt.raw)
			}
		})
	}
}

func TestJoinPrompt(t *testing.T) {
	tests := []struct {
		name, pos, neg, want string
	}{
		{"no negative", "a cat", "", "a cat"},
		{"blank negative", "a cat", "  \t", "a cat"},
		{"negative", "a cat", "blurry", "a cat ### blurry"},
		{"whitespace trimmed", "  a cat  ", "  blurry ", "a cat ### blurry"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := JoinPrompt(tt.pos, tt.neg)
			if got != tt.want {
				t.Errorf("JoinPrompt(%q, %q) = %q, want %q", tt.pos, tt.neg, got, tt.want)
			}
			// What Join makes, Split takes apart again.
			if pos, neg := SplitPrompt(got); pos != JoinPrompt(tt.pos, "") || neg != JoinPrompt(tt.neg, "") {
				t.Errorf("SplitPrompt(%q) = %q, %q: not the parts joined", got, pos, neg)
			}
		})
	}
}

func TestAppendNegative(t *testing.T) {
	tests := []struct {
		name, prompt, neg, want string
	}{
		{"no ###", "a cat", "child", "a cat ### child"},
		{"empty negative", "a cat ###", "child", "a cat ### child"},
		{"blank negative", "a cat ###  ", "child", "a cat ### child"},
		{"after a negative", "a cat ### blurry", "child", "a cat ### blurry, child"},
		{"trailing comma", "a cat ### blurry, ", "child", "a cat ### blurry, child"},
		{"several ###", "a cat ### blurry ### ugly", "child", "a cat ### blurry ### ugly, child"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AppendNegative(tt.prompt, tt.neg); got != tt.want {
				t.Errorf("AppendNegative(%q, %q) = %q, want %q", tt.prompt, tt.neg, got, tt.want)
			}
		})
	}
}

package main

import (
	"testing"

	"github.com/hordebot/hordebot/horde/filter"
)

// TestPromptFilterHasLanguages: the filter the binary builds from its
// default configuration reads the language lists, not only English.
func TestPromptFilterHasLanguages(t *testing.T) {
	cfg, err := LoadConfig("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	f, err := promptFilter(cfg.Filter)
	if err != nil {
		t.Fatal(err)
	}
	for _, prompt := range []string{"niña desnuda", "nacktes Kind", "萝莉裸体", "ロリ エロ", "голая девочка"} {
		if v := f.Check(prompt, filter.Context{NSFWAllowed: true}); v.Rule != filter.RuleCSAM {
			t.Errorf("Check(%q) = %v/%q, want refused by the csam rule", prompt, v.Action, v.Rule)
		}
	}
}

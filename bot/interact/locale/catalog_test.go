package locale_test

import (
	"slices"
	"sort"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact/locale"
)

// TestCatalogsAgree: every key of every catalog is in every other one,
// with the same placeholders, no template action but placeholders, and,
// where a message depends on a count, exactly its language's plural forms.
// The failures list what a translation still lacks.
func TestCatalogsAgree(t *testing.T) {
	c := locale.Default()
	all := map[string]bool{}
	for _, l := range locale.Languages {
		for _, k := range c.Keys(l.Code) {
			all[k] = true
		}
	}
	keys := make([]string, 0, len(all))
	for k := range all {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		en, inEnglish := c.Message(locale.English, k)
		var wantPH []string
		if inEnglish {
			wantPH = placeholders(en)
		}
		plural := false
		for _, l := range locale.Languages {
			if m, ok := c.Message(l.Code, k); ok && len(m) > 1 || ok && m["other"] == "" {
				plural = true
			}
		}
		for _, l := range locale.Languages {
			forms, ok := c.Message(l.Code, k)
			if !ok {
				if !strings.HasPrefix(k, "command.") || l.Code != locale.English {
					t.Errorf("%s.yaml has no %q", l.Code, k)
				}
				continue
			}
			if !inEnglish {
				// Command paths need no English key (the code declares it).
				if !strings.HasPrefix(k, "command.") {
					t.Errorf("%s.yaml has %q, which en.yaml does not", l.Code, k)
				}
			} else if got := placeholders(forms); !slices.Equal(got, wantPH) {
				t.Errorf("%s.yaml %q has placeholders %v, en.yaml %v", l.Code, k, got, wantPH)
			}
			for form, text := range forms {
				if strings.TrimSpace(text) == "" {
					t.Errorf("%s.yaml %q (%s) is empty", l.Code, k, form)
				}
				if other := locale.OtherActions(text); len(other) > 0 {
					t.Errorf("%s.yaml %q has %v: only {{.Name}} placeholders are allowed", l.Code, k, other)
				}
			}
			// Every form executes, with nothing of the template left.
			p := c.For(l.Discord[0], "")
			data := locale.Args{}
			for _, n := range placeholders(forms) {
				data[n] = "x"
			}
			data[locale.CountArg] = 2
			for _, n := range []int{1, 2, 1000000} {
				if plural {
					data[locale.CountArg] = n
				}
				got, ok := p.Lookup(k, data)
				if !ok || strings.Contains(got, "{{") || strings.Contains(got, "}}") || strings.Contains(got, "<no value>") {
					t.Errorf("%s.yaml %q does not execute (count %d): %q", l.Code, k, n, got)
				}
			}
			if plural {
				var got []string
				for f := range forms {
					got = append(got, f)
				}
				sort.Strings(got)
				want := slices.Clone(l.Plurals)
				sort.Strings(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s.yaml %q has the plural forms %v, want %v", l.Code, k, got, want)
				}
			}
		}
	}
}

func placeholders(forms map[string]string) []string {
	var b strings.Builder
	for _, t := range forms {
		b.WriteString(t + "\n")
	}
	return locale.Placeholders(b.String())
}

func TestFor(t *testing.T) {
	c := locale.Default()
	tests := []struct {
		name        string
		loc, guild  discordgo.Locale
		wantLangage string
	}{
		{"German member", discordgo.German, discordgo.EnglishUS, "de"},
		{"Spanish (Spain)", discordgo.SpanishES, "", "es"},
		{"Spanish (Latin America)", discordgo.SpanishLATAM, discordgo.German, "es"},
		{"British English in a German guild", discordgo.EnglishGB, discordgo.German, "en"},
		{"unknown locale falls back to the guild's", discordgo.Japanese, discordgo.German, "de"},
		{"unknown locale and guild locale fall back to English", discordgo.French, discordgo.Japanese, "en"},
		{"French member in a US guild reads English", discordgo.French, discordgo.EnglishUS, "en"},
		{"no locale at all (a DM from an old client)", "", "", "en"},
		{"a regional variant reads its base language", "de-AT", "", "de"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.For(tt.loc, tt.guild).Language().Code; got != tt.wantLangage {
				t.Fatalf("For(%q, %q) speaks %s, want %s", tt.loc, tt.guild, got, tt.wantLangage)
			}
		})
	}
}

// testCatalog is a small catalog set for the printer's rules.
func testCatalog(t *testing.T) *locale.Catalog {
	t.Helper()
	fsys := fstest.MapFS{
		"c/en.yaml": {Data: []byte(`
hello: "Hello {{.Name}}"
only.english: "English only"
workers:
  one: "{{.Count}} worker"
  other: "{{.Count}} workers"
`)},
		"c/de.yaml": {Data: []byte(`
hello: "Hallo {{.Name}}"
workers:
  one: "{{.Count}} Worker"
  other: "{{.Count}} Worker"
`)},
		"c/es.yaml": {Data: []byte(`
hello: "Hola {{.Name}}"
workers:
  one: "{{.Count}} worker"
  many: "{{.Count}} de workers"
  other: "{{.Count}} workers"
`)},
	}
	c, err := locale.Load(fsys, "c")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPrinter(t *testing.T) {
	c := testCatalog(t)
	de, es := c.For(discordgo.German, ""), c.For(discordgo.SpanishLATAM, "")
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"placeholder", de.T("hello", locale.Args{"Name": "Ana"}), "Hallo Ana"},
		{"a key the language lacks is English", de.T("only.english", nil), "English only"},
		{"a key no catalog has shows itself", de.T("no.such.key", nil), "no.such.key"},
		{"plural one", c.English().T("workers", locale.Args{"Count": 1}), "1 worker"},
		{"plural other", c.English().T("workers", locale.Args{"Count": 3}), "3 workers"},
		{"plural with an int64", c.English().T("workers", locale.Args{"Count": int64(1)}), "1 worker"},
		{"Spanish many", es.T("workers", locale.Args{"Count": 1000000}), "1000000 de workers"},
		{"Spanish other", es.T("workers", locale.Args{"Count": 2}), "2 workers"},
		{"decimal in English", c.English().Decimal(7.5, 1), "7.5"},
		{"decimal in German", de.Decimal(7.5, 1), "7,5"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
	if _, ok := de.Lookup("hello", nil); ok {
		t.Error("Lookup of a message without its placeholder's value succeeded")
	}
	if _, ok := de.Lookup("no.such.key", nil); ok {
		t.Error("Lookup of a missing key succeeded")
	}
	if s, ok := de.Lookup("hello", locale.Args{"Name": "Bo"}); !ok || s != "Hallo Bo" {
		t.Errorf("Lookup = %q, %v", s, ok)
	}
}

func TestLoadRefusesAMissingLanguage(t *testing.T) {
	_, err := locale.Load(fstest.MapFS{"c/en.yaml": {Data: []byte(`a: "b"`)}}, "c")
	if err == nil {
		t.Fatal("a catalog set without de and es loaded")
	}
}

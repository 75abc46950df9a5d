package locale

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/bwmarrin/discordgo"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"

	"github.com/hordebot/hordebot/assets"
)

// Args are the values a message shows, by placeholder name; "Count" also
// chooses a plural form.
type Args = map[string]any

// CountArg is the placeholder that chooses a plural message's form.
const CountArg = "Count"

// Catalog is every language's messages. It is read-only once loaded and
// safe for concurrent use.
type Catalog struct {
	bundle   *i18n.Bundle
	messages map[string]map[string]*i18n.Message // language code -> key -> message
	printers map[string]*Printer                 // language code -> its printer
	english  *Printer
}

// Load reads the catalog <dir>/<code>.yaml of every language in Languages
// from fsys. A catalog that does not parse, or a language without one, is
// an error.
func Load(fsys fs.FS, dir string) (*Catalog, error) {
	c := &Catalog{
		bundle:   i18n.NewBundle(language.English),
		messages: map[string]map[string]*i18n.Message{},
		printers: map[string]*Printer{},
	}
	c.bundle.RegisterUnmarshalFunc("yaml", yaml.Unmarshal)
	for _, l := range Languages {
		file := path.Join(dir, l.Code+".yaml")
		buf, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, fmt.Errorf("catalog of %s: %w", l.Code, err)
		}
		mf, err := c.bundle.ParseMessageFileBytes(buf, file)
		if err != nil {
			return nil, fmt.Errorf("catalog %s: %w", file, err)
		}
		byID := make(map[string]*i18n.Message, len(mf.Messages))
		for _, m := range mf.Messages {
			byID[m.ID] = m
		}
		c.messages[l.Code] = byID
		c.printers[l.Code] = &Printer{lang: l, cat: c, loc: i18n.NewLocalizer(c.bundle, l.Code)}
	}
	c.english = c.printers[English]
	if c.english == nil {
		return nil, errors.New("catalogs: no English catalog")
	}
	return c, nil
}

// defaultCatalog is the embedded catalogs, loaded at first use.
var defaultCatalog = sync.OnceValue(func() *Catalog {
	c, err := Load(assets.Catalogs, "i18n")
	if err != nil {
		// The catalogs are part of the binary: this is a build defect,
		// which the package's tests catch, never a member's input.
		panic(fmt.Sprintf("embedded message catalogs: %v", err))
	}
	return c
})

// Default returns the catalogs embedded in the binary (assets/i18n).
func Default() *Catalog { return defaultCatalog() }

// For returns the printer of an interaction: the member's locale when the
// bot speaks it, else the guild's, else English.
func (c *Catalog) For(loc, guildLoc discordgo.Locale) *Printer {
	for _, l := range []discordgo.Locale{loc, guildLoc} {
		if lang, ok := LanguageOf(l); ok {
			return c.printers[lang.Code]
		}
	}
	return c.english
}

// English returns the printer of the reference language.
func (c *Catalog) English() *Printer { return c.english }

// Keys returns the keys of a language's catalog, sorted.
func (c *Catalog) Keys(code string) []string {
	keys := make([]string, 0, len(c.messages[code]))
	for k := range c.messages[code] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Message returns a language's own wording of key (no fallback to
// English), with the plural forms it has ("other" alone for a message
// without plurals).
func (c *Catalog) Message(code, key string) (forms map[string]string, ok bool) {
	m, ok := c.messages[code][key]
	if !ok {
		return nil, false
	}
	return formsOf(m), true
}

// formsOf is a message's text by plural form, the forms it sets.
func formsOf(m *i18n.Message) map[string]string {
	forms := map[string]string{}
	for form, text := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other} {
		if text != "" {
			forms[form] = text
		}
	}
	return forms
}

// placeholderRE finds a message's {{.Name}} placeholders.
var placeholderRE = regexp.MustCompile(`\{\{-?\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*-?\}\}`)

// actionRE finds every template action, placeholders or not.
var actionRE = regexp.MustCompile(`\{\{.*?\}\}`)

// Placeholders returns the names of the {{.Name}} placeholders in text, sorted.
func Placeholders(text string) []string {
	set := map[string]bool{}
	for _, m := range placeholderRE.FindAllStringSubmatch(text, -1) {
		set[m[1]] = true
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// OtherActions returns the template actions in text that are not plain
// {{.Name}} placeholders: a catalog keeps to placeholders, so that
// translating it needs no knowledge of Go templates.
func OtherActions(text string) []string {
	var out []string
	for _, a := range actionRE.FindAllString(text, -1) {
		if !placeholderRE.MatchString(a) || placeholderRE.FindString(a) != a {
			out = append(out, a)
		}
	}
	return out
}

// messagePlaceholders is the union of a message's placeholders over its forms.
func messagePlaceholders(forms map[string]string) []string {
	var all strings.Builder
	for _, t := range forms {
		all.WriteString(t)
		all.WriteString("\n")
	}
	return Placeholders(all.String())
}

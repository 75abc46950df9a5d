package locale

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
)

// Printer words messages in one language. It is safe for concurrent use.
type Printer struct {
	lang Language
	cat  *Catalog
	loc  *i18n.Localizer
}

// Language is the language the printer speaks.
func (p *Printer) Language() Language { return p.lang }

// T returns the message of key with data's values in its placeholders
// (data["Count"] chooses the plural form). A key the printer's language
// lacks is worded in English; a key no catalog has is returned as it is,
// so that a missing message shows rather than vanishes.
func (p *Printer) T(key string, data Args) string {
	if s, ok := p.render(key, data); ok {
		return s
	}
	return key
}

// Lookup is T for wordings that may not exist (a domain error's code):
// ok is false when no catalog has key, or when its message shows a
// placeholder data has no value for, so that the caller can fall back to
// a wording of its own.
func (p *Printer) Lookup(key string, data Args) (string, bool) {
	code := p.lang.Code
	forms, ok := p.cat.Message(code, key)
	if !ok {
		code = English
		if forms, ok = p.cat.Message(code, key); !ok {
			return "", false
		}
	}
	for _, name := range messagePlaceholders(forms) {
		if _, ok := data[name]; !ok {
			return "", false
		}
	}
	return p.render(key, data)
}

// Has reports whether key has a wording in the printer's language or in English.
func (p *Printer) Has(key string) bool {
	_, ok := p.cat.messages[p.lang.Code][key]
	if !ok {
		_, ok = p.cat.messages[English][key]
	}
	return ok
}

func (p *Printer) render(key string, data Args) (string, bool) {
	if !p.Has(key) {
		return "", false
	}
	lc := &i18n.LocalizeConfig{MessageID: key, TemplateData: data}
	if n, ok := pluralCount(data[CountArg]); ok {
		lc.PluralCount = n
	}
	// go-i18n words a key missing in the language in English and says so
	// with an error; a template that does not execute gives what it could.
	// Either way the text it returns is the best there is.
	s, err := p.loc.Localize(lc)
	if err != nil && s == "" {
		return "", false
	}
	return s, true
}

// pluralCount is n as go-i18n counts it (an integer, or a decimal
// string); false when n is no number, which then chooses no form.
func pluralCount(n any) (any, bool) {
	switch v := n.(type) {
	case int, int8, int16, int32, int64:
		return v, true
	case uint:
		return strconv.FormatUint(uint64(v), 10), true
	case uint8:
		return int64(v), true
	case uint16:
		return int64(v), true
	case uint32:
		return int64(v), true
	case uint64:
		return strconv.FormatUint(v, 10), true
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	default:
		return nil, false
	}
}

// Decimal formats f with prec decimals in the printer's language: "7.5"
// in English, "7,5" in German and Spanish.
func (p *Printer) Decimal(f float64, prec int) string {
	s := strconv.FormatFloat(f, 'f', prec, 64)
	if p.lang.Code != English {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

// Duration words d in the printer's language in its largest whole unit:
// "7 days", "3 hours", "5 minutes", else seconds (rounded up): "42 seconds".
func (p *Printer) Duration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d >= day && d%day == 0:
		return p.T("duration.days", Args{CountArg: int64(d / day)})
	case d >= time.Hour && d%time.Hour == 0:
		return p.T("duration.hours", Args{CountArg: int64(d / time.Hour)})
	case d >= time.Minute && d%time.Minute == 0:
		return p.T("duration.minutes", Args{CountArg: int64(d / time.Minute)})
	default:
		return p.T("duration.seconds", Args{CountArg: int64(math.Ceil(max(d, 0).Seconds()))})
	}
}

package api

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/filter"
)

// The prompt filter's routes (the AI Horde's /filters): moderators read
// the lists and check prompts; hordebot's lists are config terms, so the
// edits are 405.

// FilterList is one of the prompt filter's lists as GET /filters shows it.
type FilterList struct {
	Type  int    // aihorde.FilterType*
	Name  string // "minors", "sexual", "nsfw"
	Terms []string
}

// filters is GET /filters: the prompt filter's lists, one entry a term
// (moderators only). ?filter_type= keeps one list, ?contains= the terms
// containing a word. hordebot's lists are terms, not regular expressions,
// and are changed in its config files: PUT, PATCH and DELETE are 405
// (filtersInConfig).
func (s *server) filters(w http.ResponseWriter, r *http.Request) {
	if err := s.filterModerator(r, "see the filters"); err != nil {
		s.writeError(w, r, err)
		return
	}
	typ := 0
	if v := r.URL.Query().Get("filter_type"); v != "" {
		var err error
		if typ, err = strconv.Atoi(v); err != nil || typ < 10 || typ > 29 {
			s.writeError(w, r, horde.Invalidf("filter_type", "filter_type must be a whole number between 10 and 29"))
			return
		}
	}
	contains := strings.ToLower(r.URL.Query().Get("contains"))
	out := []aihorde.FilterDetails{}
	for _, f := range s.filterEntries() {
		if (typ != 0 && f.FilterType != typ) || (contains != "" && !strings.Contains(strings.ToLower(f.Regex), contains)) {
			continue
		}
		out = append(out, f)
	}
	s.ok(w, out)
}

// filterModerator authenticates a moderator, for what (KindForbidden
// NotModerator for others).
func (s *server) filterModerator(r *http.Request, what string) error {
	by, err := s.requestUser(r)
	if err != nil {
		return err
	}
	if !by.Moderator {
		return horde.Errorf(horde.KindForbidden, "NotModerator", "only moderators may %s", what)
	}
	return nil
}

// filterEntries are the filter's terms as the AI Horde's filters, their
// ids "<list>-<n>" (the list's name and the term's place in it, from 1).
func (s *server) filterEntries() []aihorde.FilterDetails {
	var out []aihorde.FilterDetails
	for _, l := range s.opt.FilterLists {
		desc := l.Name
		for i, term := range l.Terms {
			out = append(out, aihorde.FilterDetails{
				ID: fmt.Sprintf("%s-%d", l.Name, i+1), Regex: term, FilterType: l.Type, Description: &desc, User: "config",
			})
		}
	}
	return out
}

// filter is GET /filters/{id} (moderators only): one term; an unknown id is
// 404 FilterNotFound, the AI Horde's ThingNotFound("Filter").
func (s *server) filter(w http.ResponseWriter, r *http.Request) {
	if err := s.filterModerator(r, "see the filters"); err != nil {
		s.writeError(w, r, err)
		return
	}
	id := r.PathValue("id")
	for _, f := range s.filterEntries() {
		if f.ID == id {
			s.ok(w, f)
			return
		}
	}
	s.writeError(w, r, horde.NotFoundf("FilterNotFound", "filter with id %s not found", horde.QuoteInput(id)))
}

// filterRegex is GET /filters/regex (moderators only): each list as one
// regular expression, its terms quoted and joined, as the AI Horde's
// FilterRegex answers ?filter_type= keeps one.
func (s *server) filterRegex(w http.ResponseWriter, r *http.Request) {
	if err := s.filterModerator(r, "see the filters"); err != nil {
		s.writeError(w, r, err)
		return
	}
	typ := 0
	if v := r.URL.Query().Get("filter_type"); v != "" {
		var err error
		if typ, err = strconv.Atoi(v); err != nil || typ < 10 || typ > 29 {
			s.writeError(w, r, horde.Invalidf("filter_type", "filter_type must be a whole number between 10 and 29"))
			return
		}
	}
	out := []aihorde.FilterRegex{}
	for _, l := range s.opt.FilterLists {
		if (typ != 0 && l.Type != typ) || len(l.Terms) == 0 {
			continue
		}
		quoted := make([]string, len(l.Terms))
		for i, t := range l.Terms {
			quoted[i] = regexp.QuoteMeta(t)
		}
		out = append(out, aihorde.FilterRegex{FilterType: l.Type, Regex: strings.Join(quoted, "|")})
	}
	s.ok(w, out)
}

// filtersInConfig answers the AI Horde's filter edits (PUT /filters, PATCH
// and DELETE /filters/{id}) 405 MethodNotAllowed, saying why: hordebot's
// filter lists are terms in its config, edited there.
func (s *server) filtersInConfig(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeJSON(w, s.log, http.StatusMethodNotAllowed, errorBody{
			Message: "this horde's prompt filter lists are terms in its config files (filter lists), edited there, not over the API; " +
				horde.QuoteInput(r.Method) + " is not allowed here, use " + allow,
			RC: "MethodNotAllowed",
		})
	}
}

// checkFilter is POST /filters {prompt}: what the prompt filter makes of a
// prompt (moderators only). suspicion 2 is refused as CSAM, 1 refused or
// changed otherwise (NSFW outside NSFW, a forced negative prompt), 0
// allowed as is; matches say what matched.
func (s *server) checkFilter(w http.ResponseWriter, r *http.Request) {
	if s.opt.Filter == nil {
		s.writeError(w, r, horde.Errorf(horde.KindDisabled, "FeatureDisabled", "the prompt filter is not enabled on this horde"))
		return
	}
	var b aihorde.FilterCheck
	if _, err := s.decodeBody(w, r, s.bodyLimit(limitSmall), &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	if strings.TrimSpace(valueOr(b.Prompt, "")) == "" {
		s.writeError(w, r, horde.Invalidf("prompt", "prompt is required"))
		return
	}
	by, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if !by.Moderator {
		s.writeError(w, r, horde.Errorf(horde.KindForbidden, "NotModerator", "only moderators may check prompts against the filters"))
		return
	}
	v := s.opt.Filter.Check(*b.Prompt, filter.Context{})
	suspicion := 0
	switch {
	case v.Action == filter.Refuse && v.Rule == filter.RuleCSAM:
		suspicion = 2
	case v.Rule != filter.RuleNone:
		suspicion = 1
	}
	matches := v.Matched
	if matches == nil {
		matches = []string{}
	}
	s.ok(w, aihorde.FilterSuspicion{Suspicion: strconv.Itoa(suspicion), Matches: matches})
}

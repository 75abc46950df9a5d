package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// The style routes (/styles/image, /styles/text, their _by_name and
// examples), as on the AI Horde (horde/apis/v2/styles.py, stable_styles.py,
// kobold_styles.py). Anyone may read public styles; trusted users and
// moderators may create them (the AI Horde: customizers and trusted users);
// their owner or a moderator may change or delete them.

// maxStyleBody bounds a style or collection body: a prompt template, the
// params (no images) and a few lists.
const maxStyleBody = 256 << 10

// styleStore is the configured style store, or 403 StylesDisabled.
func (s *server) styleStore() (horde.StyleStore, error) {
	if s.opt.Styles == nil {
		return nil, horde.Errorf(horde.KindDisabled, "StylesDisabled", "styles are not enabled on this horde")
	}
	return s.opt.Styles, nil
}

// styleNotFound is the AI Horde's ThingNotFound for a style or collection.
func styleNotFound(err error, what, rc, id string) error {
	if errors.Is(err, horde.ErrNotFound) {
		return horde.NotFoundf(rc, "%s %s not found", what, horde.QuoteInput(id))
	}
	return err
}

// styleOfKind loads the style {id} and checks it is of kind.
func (s *server) styleOfKind(r *http.Request, kind horde.RequestKind) (horde.Style, error) {
	st, err := s.styleStore()
	if err != nil {
		return horde.Style{}, err
	}
	id, err := pathID(r, "id", "StyleNotFound", "style")
	if err != nil {
		return horde.Style{}, err
	}
	sty, err := st.Style(r.Context(), id)
	if err != nil {
		return horde.Style{}, styleNotFound(err, "style", "StyleNotFound", id)
	}
	if sty.Kind != kind {
		return horde.Style{}, horde.Errorf(horde.KindInvalid, "StyleGetMistmatch",
			"style %s is a %s style, not a %s one", horde.QuoteInput(id), sty.Kind, kind)
	}
	return sty, nil
}

// styleOut is the wire form of a style, with its shared key's details.
func (s *server) styleOut(r *http.Request, st horde.Style) aihorde.Style {
	out := styleWire(st)
	if st.SharedKey != "" && s.opt.SharedKeys != nil {
		if k, err := s.opt.SharedKeys.ByHash(r.Context(), st.SharedKey); err == nil {
			d := s.sharedKeyDetails(r, "", k)
			out.SharedKey = &d
		}
	}
	return out
}

// styleWire is the wire form of a style's own fields.
func styleWire(st horde.Style) aihorde.Style {
	out := aihorde.Style{
		ID: st.ID, Name: st.Name, Info: st.Info, Prompt: st.Prompt, Params: json.RawMessage(st.Params),
		Public: st.Public, NSFW: st.NSFW, Tags: st.Tags, Models: st.Models, UseCount: st.UseCount, Creator: st.Creator,
	}
	if len(out.Params) == 0 {
		out.Params = json.RawMessage("{}")
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if out.Models == nil {
		out.Models = []string{}
	}
	for _, e := range st.Examples {
		out.Examples = append(out.Examples, aihorde.StyleExample(e))
	}
	return out
}

// pageParam is the 1-based ?page (25 per page).
func pageParam(r *http.Request) (int, error) {
	v := r.URL.Query().Get("page")
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 100000 {
		return 0, &horde.Error{Kind: horde.KindInvalid, Code: "BadRequest", Field: "page", Message: "page must be a positive integer"}
	}
	return n, nil
}

// sortParam is ?sort: popular (default) or age.
func sortParam(r *http.Request) (byAge bool, err error) {
	switch v := r.URL.Query().Get("sort"); v {
	case "", "popular":
		return false, nil
	case "age":
		return true, nil
	default:
		return false, &horde.Error{Kind: horde.KindInvalid, Code: "BadRequest", Field: "sort",
			Message: "sort must be popular or age, not " + horde.QuoteInput(v)}
	}
}

// listStyles answers GET /styles/{kind}: public styles, 25 a page,
// ?sort=popular|age, ?tag, ?model.
func (s *server) listStyles(kind horde.RequestKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, err := s.styleStore()
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		page, err := pageParam(r)
		if err == nil {
			var byAge bool
			byAge, err = sortParam(r)
			if err == nil {
				q := r.URL.Query()
				var list []horde.Style
				list, err = st.Styles(r.Context(), horde.StyleQuery{Kind: kind, Tag: q.Get("tag"), Model: q.Get("model"),
					ByAge: byAge, Offset: (page - 1) * horde.StylesPerPage, Limit: horde.StylesPerPage})
				if err == nil {
					out := make([]aihorde.Style, 0, len(list))
					for _, x := range list {
						out = append(out, s.styleOut(r, x))
					}
					s.ok(w, out)
					return
				}
			}
		}
		s.writeError(w, r, err)
	}
}

// getStyle answers GET /styles/{kind}/{id}.
func (s *server) getStyle(kind horde.RequestKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		sty, err := s.styleOfKind(r, kind)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.ok(w, s.styleOut(r, sty))
	}
}

// getStyleByName answers GET /styles/{kind}_by_name/{name}; the name may be
// "user#id::name" or "style::user#id::name".
func (s *server) getStyleByName(kind horde.RequestKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, err := s.styleStore()
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		name := r.PathValue("name")
		sty, err := styleByName(r.Context(), st, kind, name)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.ok(w, s.styleOut(r, sty))
	}
}

// styleByName finds a style of kind named in one of the AI Horde's forms.
func styleByName(ctx context.Context, st horde.StyleStore, kind horde.RequestKind, name string) (horde.Style, error) {
	ref := horde.ParseStyleRef(name)
	var owner int64
	if ref.Username != "" {
		id, ok := horde.UserIDOfUsername(ref.Username)
		if !ok {
			return horde.Style{}, horde.NotFoundf("StyleNotFound", "style %s not found", horde.QuoteInput(name))
		}
		owner = id
	}
	sty, err := st.StyleByName(ctx, kind, owner, ref.Name)
	if err != nil {
		return horde.Style{}, styleNotFound(err, "style", "StyleNotFound", name)
	}
	return sty, nil
}

// styleEditor authenticates a user who may create styles.
func (s *server) styleEditor(r *http.Request) (horde.User, error) {
	u, err := s.requestUser(r)
	if err != nil {
		return horde.User{}, err
	}
	if u.Anonymous() {
		return horde.User{}, horde.Errorf(horde.KindForbidden, "StylesAnonForbidden", "the anonymous user cannot create or change styles")
	}
	return u, nil
}

// validateStyle checks a style (validStyle) and returns the model
// reference's warnings for images.
func (s *server) validateStyle(sty horde.Style) ([]aihorde.Warning, error) {
	nr, err := validStyle(sty)
	if err != nil {
		return nil, err
	}
	return s.modelWarnings(nr)
}

// validStyle checks a style's fields as the AI Horde does and its params
// as a request's params of its kind would be (the same field names, types
// and ranges); it returns the request its params and models make.
func validStyle(sty horde.Style) (horde.NewRequest, error) {
	var c check
	c.text("name", sty.Name, true, horde.MaxStyleNameLength)
	c.text("info", sty.Info, false, horde.MaxStyleInfoLength)
	c.text("prompt", sty.Prompt, true, horde.MaxStylePromptLength)
	if len(sty.Models) < 1 {
		c.fail("models", "a style's models must name at least one model")
	}
	c.list("models", sty.Models, horde.MaxStyleModels, aihorde.MaxNameLength)
	c.list("tags", sty.Tags, horde.MaxStyleTags, horde.MaxStyleTagLength)
	if c.err != nil {
		return horde.NewRequest{}, c.err
	}
	if !strings.Contains(sty.Prompt, "{p}") || (sty.Kind == horde.KindImage && !strings.Contains(sty.Prompt, "{np}")) {
		want := "'{p}' (where the prompt goes)"
		if sty.Kind == horde.KindImage {
			want += " and '{np}' (where the negative prompt goes)"
		}
		return horde.NewRequest{}, &horde.Error{Kind: horde.KindInvalid, Code: "StylePromptMissingVars", Field: "prompt",
			Message: "a style prompt must include " + want}
	}
	params := sty.Params
	if len(params) == 0 {
		params = []byte("{}")
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(params, &probe); err != nil {
		return horde.NewRequest{}, &horde.Error{Kind: horde.KindInvalid, Code: "ValidationError", Field: "params", Message: "params must be an object"}
	}
	for _, k := range []string{"seed", "n"} {
		if _, ok := probe[k]; ok {
			return horde.NewRequest{}, &horde.Error{Kind: horde.KindInvalid, Code: "ValidationError", Field: "params." + k,
				Message: "a style's params cannot set params." + k}
		}
	}
	body, err := json.Marshal(map[string]any{"prompt": "style", "params": json.RawMessage(params), "models": sty.Models})
	if err != nil {
		return horde.NewRequest{}, err
	}
	decode := DecodeImageAsync
	if sty.Kind == horde.KindText {
		decode = DecodeTextAsync
	}
	nr, _, err := decode(body)
	return nr, err
}

// styleSharedKey is the shared key hash sty is to have after a create or
// change that sent key (nil: unchanged; "": none): a usable key of the
// style's creator (horde.SharedKeys.ForNewStyle says why not, 400).
func (s *server) styleSharedKey(r *http.Request, sty horde.Style, key *string) (string, error) {
	switch {
	case key == nil:
		return sty.SharedKey, nil
	case *key == "":
		return "", nil
	case s.opt.SharedKeys == nil:
		return "", &horde.Error{Kind: horde.KindInvalid, Code: "SharedKeyInvalid", Field: "sharedkey",
			Message: "this horde has no shared keys"}
	}
	return s.opt.SharedKeys.ForNewStyle(r.Context(), sty.UserID, *key)
}

// createStyle answers POST /styles/{kind}.
func (s *server) createStyle(kind horde.RequestKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in aihorde.StyleInput
		st, err := s.styleStore()
		if err == nil {
			_, err = s.decodeBody(w, r, maxStyleBody, &in)
		}
		var u horde.User
		if err == nil {
			u, err = s.styleEditor(r)
		}
		if err == nil && !horde.MayEditStyles(u) {
			err = horde.Errorf(horde.KindForbidden, "StylesRequiresCustomizer", "only trusted users and moderators can create styles")
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		defPrompt := "{p}{np}"
		if kind == horde.KindText {
			defPrompt = "{p}"
		}
		sty := horde.Style{
			ID: horde.NewStyleID(), Kind: kind, UserID: u.ID, Name: valueOr(in.Name, ""), Info: valueOr(in.Info, ""),
			Prompt: valueOr(in.Prompt, defPrompt), Params: in.Params, Models: in.Models, Tags: in.Tags,
			Public: valueOr(in.Public, true), NSFW: valueOr(in.NSFW, false),
		}
		warnings, err := s.validateStyle(sty)
		if err == nil {
			sty.SharedKey, err = s.styleSharedKey(r, sty, in.SharedKey)
		}
		if err == nil {
			err = st.CreateStyle(r.Context(), sty)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.ok(w, aihorde.StyleModify{ID: sty.ID, Message: "OK", Warnings: warnings})
	}
}

// ownStyle loads the style {id} of kind for a change by u: its owner or a
// moderator.
func (s *server) ownStyle(r *http.Request, kind horde.RequestKind) (horde.Style, horde.User, error) {
	u, err := s.styleEditor(r)
	if err != nil {
		return horde.Style{}, horde.User{}, err
	}
	sty, err := s.styleOfKind(r, kind)
	if err != nil {
		return horde.Style{}, horde.User{}, err
	}
	if !horde.MayChangeStyle(u, sty.UserID) {
		return horde.Style{}, horde.User{}, horde.Errorf(horde.KindForbidden, "Forbidden", "this style is not owned by %s", u.Username())
	}
	return sty, u, nil
}

// patchStyle answers PATCH /styles/{kind}/{id}: the fields sent replace the
// style's.
func (s *server) patchStyle(kind horde.RequestKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var in aihorde.StyleInput
		st, err := s.styleStore()
		if err == nil {
			_, err = s.decodeBody(w, r, maxStyleBody, &in)
		}
		var sty horde.Style
		if err == nil {
			sty, _, err = s.ownStyle(r, kind)
		}
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		sty.Name = valueOr(in.Name, sty.Name)
		sty.Info = valueOr(in.Info, sty.Info)
		sty.Prompt = valueOr(in.Prompt, sty.Prompt)
		sty.Public = valueOr(in.Public, sty.Public)
		sty.NSFW = valueOr(in.NSFW, sty.NSFW)
		if len(in.Params) > 0 && !bytes.Equal(bytes.TrimSpace(in.Params), []byte("null")) {
			sty.Params = in.Params
		}
		if in.Models != nil {
			sty.Models = in.Models
		}
		if in.Tags != nil {
			sty.Tags = in.Tags
		}
		warnings, err := s.validateStyle(sty)
		if err == nil {
			sty.SharedKey, err = s.styleSharedKey(r, sty, in.SharedKey)
		}
		if err == nil {
			err = st.UpdateStyle(r.Context(), sty)
		}
		if err != nil {
			s.writeError(w, r, styleNotFound(err, "style", "StyleNotFound", sty.ID))
			return
		}
		s.ok(w, aihorde.StyleModify{ID: sty.ID, Message: "OK", Warnings: warnings})
	}
}

// deleteStyle answers DELETE /styles/{kind}/{id}.
func (s *server) deleteStyle(kind horde.RequestKind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, err := s.styleStore()
		var sty horde.Style
		if err == nil {
			sty, _, err = s.ownStyle(r, kind)
		}
		if err == nil {
			err = st.DeleteStyle(r.Context(), sty.ID)
		}
		if err != nil {
			s.writeError(w, r, styleNotFound(err, "style", "StyleNotFound", sty.ID))
			return
		}
		s.ok(w, aihorde.SimpleResponse{Message: "OK"})
	}
}

// validExampleURL checks a style example's url: https, as on the AI Horde.
func validExampleURL(u string) error {
	if !strings.HasPrefix(u, "https://") || len(u) > horde.MaxStyleExampleURLLen || strings.ContainsAny(u, " \t\r\n") {
		return &horde.Error{Kind: horde.KindInvalid, Code: "BadRequest", Field: "url",
			Message: fmt.Sprintf("url must be an https:// link of at most %d characters", horde.MaxStyleExampleURLLen)}
	}
	return nil
}

// setPrimary makes the example at i the style's primary and no other.
func setPrimary(exs []horde.StyleExample, i int) {
	for j := range exs {
		exs[j].Primary = j == i
	}
}

// addStyleExample answers POST /styles/image/{id}/example.
func (s *server) addStyleExample(w http.ResponseWriter, r *http.Request) {
	var in aihorde.StyleExampleInput
	st, err := s.styleStore()
	if err == nil {
		_, err = s.decodeBody(w, r, maxStyleBody, &in)
	}
	if err == nil {
		err = validExampleURL(valueOr(in.URL, ""))
	}
	var sty horde.Style
	if err == nil {
		sty, _, err = s.ownStyle(r, horde.KindImage)
	}
	if err == nil && len(sty.Examples) >= horde.MaxStyleExamples {
		err = horde.Errorf(horde.KindForbidden, "TooManyStyleExamples", "a style may have at most %d examples", horde.MaxStyleExamples)
	}
	ex := horde.StyleExample{ID: horde.NewStyleID(), URL: valueOr(in.URL, "")}
	for _, e := range sty.Examples {
		if err == nil && e.URL == ex.URL {
			err = horde.Errorf(horde.KindInvalid, "ExampleURLAlreadyInUse", "this url is already an example of this style")
		}
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sty.Examples = append(sty.Examples, ex)
	if valueOr(in.Primary, false) || len(sty.Examples) == 1 {
		setPrimary(sty.Examples, len(sty.Examples)-1)
	}
	if err := st.UpdateStyle(r.Context(), sty); err != nil {
		s.writeError(w, r, styleNotFound(err, "style", "StyleNotFound", sty.ID))
		return
	}
	s.ok(w, aihorde.StyleModify{ID: ex.ID, Message: "OK"})
}

// styleExample loads the style {id} for a change by its owner and finds its
// example {example}.
func (s *server) styleExample(r *http.Request) (horde.Style, int, error) {
	sty, _, err := s.ownStyle(r, horde.KindImage)
	if err != nil {
		return horde.Style{}, 0, err
	}
	id := r.PathValue("example")
	for i, e := range sty.Examples {
		if e.ID == id {
			return sty, i, nil
		}
	}
	return horde.Style{}, 0, horde.NotFoundf("StyleExampleNotFound", "style example %s not found", horde.QuoteInput(id))
}

// patchStyleExample answers PATCH /styles/image/{id}/example/{example}.
func (s *server) patchStyleExample(w http.ResponseWriter, r *http.Request) {
	var in aihorde.StyleExampleInput
	st, err := s.styleStore()
	if err == nil {
		_, err = s.decodeBody(w, r, maxStyleBody, &in)
	}
	if err == nil && in.URL != nil {
		err = validExampleURL(*in.URL)
	}
	var sty horde.Style
	var i int
	if err == nil {
		sty, i, err = s.styleExample(r)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if in.URL != nil {
		for j, e := range sty.Examples {
			if j != i && e.URL == *in.URL {
				s.writeError(w, r, horde.Errorf(horde.KindInvalid, "ExampleURLAlreadyInUse", "this url is already an example of this style"))
				return
			}
		}
		sty.Examples[i].URL = *in.URL
	}
	if in.Primary != nil {
		if *in.Primary {
			setPrimary(sty.Examples, i)
		} else if sty.Examples[i].Primary {
			s.writeError(w, r, &horde.Error{Kind: horde.KindInvalid, Code: "BadRequest", Field: "primary",
				Message: "a style needs a primary example: make another one primary instead"})
			return
		}
	}
	if err := st.UpdateStyle(r.Context(), sty); err != nil {
		s.writeError(w, r, styleNotFound(err, "style", "StyleNotFound", sty.ID))
		return
	}
	s.ok(w, aihorde.StyleModify{ID: sty.Examples[i].ID, Message: "OK"})
}

// deleteStyleExample answers DELETE /styles/image/{id}/example/{example}.
func (s *server) deleteStyleExample(w http.ResponseWriter, r *http.Request) {
	st, err := s.styleStore()
	var sty horde.Style
	var i int
	if err == nil {
		sty, i, err = s.styleExample(r)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	wasPrimary := sty.Examples[i].Primary
	sty.Examples = append(sty.Examples[:i], sty.Examples[i+1:]...)
	if wasPrimary && len(sty.Examples) > 0 {
		setPrimary(sty.Examples, 0)
	}
	if err := st.UpdateStyle(r.Context(), sty); err != nil {
		s.writeError(w, r, styleNotFound(err, "style", "StyleNotFound", sty.ID))
		return
	}
	s.ok(w, aihorde.SimpleResponse{Message: "OK"})
}

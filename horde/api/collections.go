package api

import (
	"context"
	"net/http"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// The collection routes (/collections, /collection_by_name), as on the AI
// Horde: a named list of styles of one kind; a request naming a collection
// gets one of its styles at random.

// collectionOut is the wire form of a collection, its styles by unique name.
func (s *server) collectionOut(r *http.Request, st horde.StyleStore, c horde.StyleCollection) aihorde.Collection {
	out := aihorde.Collection{ID: c.ID, Name: c.Name, Type: string(c.Kind), Info: c.Info, Public: c.Public,
		UseCount: c.UseCount, Styles: []aihorde.StyleShort{}}
	for _, id := range c.StyleIDs {
		sty, err := st.Style(r.Context(), id)
		if err != nil {
			continue // deleted since
		}
		out.Styles = append(out.Styles, aihorde.StyleShort{Name: sty.Creator + "::style::" + sty.Name, ID: sty.ID})
	}
	return out
}

// listCollections answers GET /collections: ?sort, ?page, ?type=all|image|text.
func (s *server) listCollections(w http.ResponseWriter, r *http.Request) {
	st, err := s.styleStore()
	var page int
	var byAge bool
	if err == nil {
		page, err = pageParam(r)
	}
	if err == nil {
		byAge, err = sortParam(r)
	}
	var kind horde.RequestKind
	switch t := r.URL.Query().Get("type"); t {
	case "", "all":
	case "image", "text":
		kind = horde.RequestKind(t)
	default:
		if err == nil {
			err = &horde.Error{Kind: horde.KindInvalid, Code: "BadRequest", Field: "type", Message: "type must be all, image or text"}
		}
	}
	var list []horde.StyleCollection
	if err == nil {
		list, err = st.Collections(r.Context(), horde.StyleQuery{Kind: kind, ByAge: byAge,
			Offset: (page - 1) * horde.StylesPerPage, Limit: horde.StylesPerPage})
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]aihorde.Collection, 0, len(list))
	for _, c := range list {
		out = append(out, s.collectionOut(r, st, c))
	}
	s.ok(w, out)
}

// getCollection answers GET /collections/{id}.
func (s *server) getCollection(w http.ResponseWriter, r *http.Request) {
	st, err := s.styleStore()
	var c horde.StyleCollection
	if err == nil {
		c, err = s.collectionByID(r, st)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, s.collectionOut(r, st, c))
}

func (s *server) collectionByID(r *http.Request, st horde.StyleStore) (horde.StyleCollection, error) {
	id, err := pathID(r, "id", "CollectionNotFound", "collection")
	if err != nil {
		return horde.StyleCollection{}, err
	}
	c, err := st.Collection(r.Context(), id)
	return c, styleNotFound(err, "collection", "CollectionNotFound", id)
}

// getCollectionByName answers GET /collection_by_name/{name}.
func (s *server) getCollectionByName(w http.ResponseWriter, r *http.Request) {
	st, err := s.styleStore()
	var c horde.StyleCollection
	if err == nil {
		c, err = collectionByName(r.Context(), st, r.PathValue("name"))
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, s.collectionOut(r, st, c))
}

func collectionByName(ctx context.Context, st horde.StyleStore, name string) (horde.StyleCollection, error) {
	ref := horde.ParseStyleRef(name)
	var owner int64
	if ref.Username != "" {
		id, ok := horde.UserIDOfUsername(ref.Username)
		if !ok {
			return horde.StyleCollection{}, horde.NotFoundf("CollectionNotFound", "collection %s not found", horde.QuoteInput(name))
		}
		owner = id
	}
	c, err := st.CollectionByName(ctx, owner, ref.Name)
	return c, styleNotFound(err, "collection", "CollectionNotFound", name)
}

// collectionStyles resolves a collection's styles (ids or names): all of
// one kind.
func collectionStyles(r *http.Request, st horde.StyleStore, refs []string) ([]string, horde.RequestKind, error) {
	if len(refs) < 1 {
		return nil, "", &horde.Error{Kind: horde.KindInvalid, Code: "BadRequest", Field: "styles", Message: "a collection has to include at least 1 style"}
	}
	if len(refs) > horde.MaxCollectionStyles {
		return nil, "", &horde.Error{Kind: horde.KindInvalid, Code: "BadRequest", Field: "styles",
			Message: "a collection may include at most 100 styles"}
	}
	var kind horde.RequestKind
	ids := make([]string, 0, len(refs))
	for _, ref := range refs {
		sty, err := st.Style(r.Context(), ref)
		if err != nil {
			for _, k := range []horde.RequestKind{horde.KindImage, horde.KindText} {
				if sty, err = styleByName(r.Context(), st, k, ref); err == nil {
					break
				}
			}
		}
		if err != nil {
			return nil, "", &horde.Error{Kind: horde.KindInvalid, Code: "BadRequest", Field: "styles",
				Message: "a style named " + horde.QuoteInput(ref) + " cannot be found"}
		}
		if kind != "" && sty.Kind != kind {
			return nil, "", &horde.Error{Kind: horde.KindInvalid, Code: "StyleMismatch", Field: "styles",
				Message: "cannot mix image and text styles in the same collection"}
		}
		kind = sty.Kind
		ids = append(ids, sty.ID)
	}
	return ids, kind, nil
}

// createCollection answers POST /collections.
func (s *server) createCollection(w http.ResponseWriter, r *http.Request) {
	var in aihorde.CollectionInput
	st, err := s.styleStore()
	if err == nil {
		_, err = s.decodeBody(w, r, maxStyleBody, &in)
	}
	var u horde.User
	if err == nil {
		u, err = s.styleEditor(r)
	}
	if err == nil && !horde.MayEditStyles(u) {
		err = horde.Errorf(horde.KindForbidden, "StylesRequiresCustomizer", "only trusted users and moderators can create collections")
	}
	c := horde.StyleCollection{ID: horde.NewStyleID(), UserID: u.ID, Name: valueOr(in.Name, ""), Info: valueOr(in.Info, ""),
		Public: valueOr(in.Public, true)}
	if err == nil {
		var ch check
		ch.text("name", c.Name, true, horde.MaxStyleNameLength)
		ch.text("info", c.Info, false, horde.MaxStyleInfoLength)
		err = ch.err
	}
	if err == nil {
		c.StyleIDs, c.Kind, err = collectionStyles(r, st, in.Styles)
	}
	if err == nil {
		err = st.CreateCollection(r.Context(), c)
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, aihorde.StyleModify{ID: c.ID, Message: "OK"})
}

// ownCollection loads the collection {id} for a change by its owner or a moderator.
func (s *server) ownCollection(r *http.Request, st horde.StyleStore) (horde.StyleCollection, error) {
	u, err := s.styleEditor(r)
	if err != nil {
		return horde.StyleCollection{}, err
	}
	c, err := s.collectionByID(r, st)
	if err != nil {
		return horde.StyleCollection{}, err
	}
	if !horde.MayChangeStyle(u, c.UserID) {
		return horde.StyleCollection{}, horde.Errorf(horde.KindForbidden, "Forbidden", "this collection is not owned by %s", u.Username())
	}
	return c, nil
}

// patchCollection answers PATCH /collections/{id}.
func (s *server) patchCollection(w http.ResponseWriter, r *http.Request) {
	var in aihorde.CollectionInput
	st, err := s.styleStore()
	if err == nil {
		_, err = s.decodeBody(w, r, maxStyleBody, &in)
	}
	var c horde.StyleCollection
	if err == nil {
		c, err = s.ownCollection(r, st)
	}
	if err == nil {
		c.Name = valueOr(in.Name, c.Name)
		c.Info = valueOr(in.Info, c.Info)
		c.Public = valueOr(in.Public, c.Public)
		var ch check
		ch.text("name", c.Name, true, horde.MaxStyleNameLength)
		ch.text("info", c.Info, false, horde.MaxStyleInfoLength)
		err = ch.err
	}
	if err == nil && in.Styles != nil {
		c.StyleIDs, c.Kind, err = collectionStyles(r, st, in.Styles)
	}
	if err == nil {
		err = st.UpdateCollection(r.Context(), c)
	}
	if err != nil {
		s.writeError(w, r, styleNotFound(err, "collection", "CollectionNotFound", c.ID))
		return
	}
	s.ok(w, aihorde.StyleModify{ID: c.ID, Message: "OK"})
}

// deleteCollection answers DELETE /collections/{id}.
func (s *server) deleteCollection(w http.ResponseWriter, r *http.Request) {
	st, err := s.styleStore()
	var c horde.StyleCollection
	if err == nil {
		c, err = s.ownCollection(r, st)
	}
	if err == nil {
		err = st.DeleteCollection(r.Context(), c.ID)
	}
	if err != nil {
		s.writeError(w, r, styleNotFound(err, "collection", "CollectionNotFound", c.ID))
		return
	}
	s.ok(w, aihorde.SimpleResponse{Message: "OK"})
}

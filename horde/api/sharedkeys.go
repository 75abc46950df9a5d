package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// sharedKeys reports the feature off when the API has no shared keys.
func (s *server) sharedKeys(w http.ResponseWriter, r *http.Request) (*horde.SharedKeys, bool) {
	if s.opt.SharedKeys == nil {
		s.writeError(w, r, horde.Errorf(horde.KindDisabled, "FeatureDisabled", "shared keys are not enabled on this horde"))
		return nil, false
	}
	return s.opt.SharedKeys, true
}

// sharedKeyChange translates the wire body.
func sharedKeyChange(b aihorde.SharedKeyInput) horde.SharedKeyChange {
	return horde.SharedKeyChange{Name: b.Name, Kudos: b.Kudos, ExpiryDays: b.Expiry,
		MaxImagePixels: b.MaxImagePixels, MaxImageSteps: b.MaxImageSteps, MaxTextTokens: b.MaxTextTokens}
}

// sharedKeyDetails is k as the AI Horde shows it, id being the key.
func (s *server) sharedKeyDetails(r *http.Request, id string, k horde.SharedKey) aihorde.SharedKeyDetails {
	d := aihorde.SharedKeyDetails{ID: id, Name: k.Name, Kudos: k.Kudos, Utilized: k.Utilized,
		MaxImagePixels: k.MaxImagePixels, MaxImageSteps: k.MaxImageSteps, MaxTextTokens: k.MaxTextTokens}
	if info, err := s.h.UserInfo(r.Context(), k.OwnerID); err == nil {
		d.Username = info.User.Username()
	}
	if !k.Expiry.IsZero() {
		e := k.Expiry.UTC().Format(time.RFC3339)
		d.Expiry = &e
	}
	return d
}

// createSharedKey is PUT (the AI Horde's method) or POST /sharedkeys: a new
// key of the caller's; its id, shown here once, is the key.
func (s *server) createSharedKey(w http.ResponseWriter, r *http.Request) {
	keys, ok := s.sharedKeys(w, r)
	if !ok {
		return
	}
	var b aihorde.SharedKeyInput
	if _, err := s.decodeBody(w, r, s.bodyLimit(limitSmall), &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	k, key, err := keys.Create(r.Context(), u, sharedKeyChange(b))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, s.sharedKeyDetails(r, key, k))
}

// sharedKey is GET /sharedkeys/{id}: anyone holding the key sees it.
func (s *server) sharedKey(w http.ResponseWriter, r *http.Request) {
	keys, ok := s.sharedKeys(w, r)
	if !ok {
		return
	}
	id := strings.TrimSpace(r.PathValue("id"))
	k, err := keys.Get(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, s.sharedKeyDetails(r, id, k))
}

// updateSharedKey is PATCH /sharedkeys/{id}: its owner changes the fields sent.
func (s *server) updateSharedKey(w http.ResponseWriter, r *http.Request) {
	keys, ok := s.sharedKeys(w, r)
	if !ok {
		return
	}
	var b aihorde.SharedKeyInput
	if _, err := s.decodeBody(w, r, s.bodyLimit(limitSmall), &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id := strings.TrimSpace(r.PathValue("id"))
	k, err := keys.Update(r.Context(), u, id, sharedKeyChange(b))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, s.sharedKeyDetails(r, id, k))
}

// deleteSharedKey is DELETE /sharedkeys/{id}: its owner deletes it.
func (s *server) deleteSharedKey(w http.ResponseWriter, r *http.Request) {
	keys, ok := s.sharedKeys(w, r)
	if !ok {
		return
	}
	u, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := keys.Delete(r.Context(), u, strings.TrimSpace(r.PathValue("id"))); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, aihorde.SimpleResponse{Message: "OK"})
}

// requester authenticates the maker of a generation request: a user's own
// key, or a shared key, which requests as its owner within its limits.
func (s *server) requester(r *http.Request) (horde.User, *horde.SharedKey, error) {
	u, err := s.requestUser(r)
	if err == nil || s.opt.SharedKeys == nil || !horde.IsKind(err, horde.KindUnauthorized) {
		return u, nil, err
	}
	return s.opt.SharedKeys.Resolve(r.Context(), apiKey(r))
}

// styleRequester is who a request made with style pays as: the owner of the
// style's shared key while that key can pay (whoever calls, as on the AI
// Horde: the style's creator lent it for the style), with use marked as paid
// by it; otherwise the caller (requester).
func (s *server) styleRequester(r *http.Request, use *horde.StyleUse, style *appliedStyle) (horde.User, *horde.SharedKey, error) {
	if style != nil && use != nil && style.style.SharedKey != "" && s.opt.SharedKeys != nil {
		owner, k, ok, err := s.opt.SharedKeys.ForStyle(r.Context(), style.style.SharedKey)
		if err != nil {
			return horde.User{}, nil, err
		}
		if ok {
			use.ByStyleKey = true
			return owner, k, nil
		}
	}
	return s.requester(r)
}

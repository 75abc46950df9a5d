package horde

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Shared keys (the AI Horde's /sharedkeys): a member lends others a key
// that requests on the member's kudos, within the key's limits: a budget of
// kudos (spent as its requests' items are charged), an expiry, and the
// largest image (pixels), steps and text tokens one request may ask for. A
// request made with a shared key is the owner's in every way (their holds,
// floor, concurrency and priority); the key only adds its limits. The key
// is also its AI Horde "id": it is shown once and stored as a hash.

// Shared key limits.
const (
	// Unlimited is a shared key limit (kudos, pixels, steps, tokens) that
	// does not limit.
	Unlimited = -1
	// DefaultSharedKeyKudos is the AI Horde's default budget of a new key.
	DefaultSharedKeyKudos int64 = 5000
	// MaxSharedKeys is how many shared keys a member may have.
	MaxSharedKeys = 10
	// MaxSharedKeyName bounds a shared key's name.
	MaxSharedKeyName = 255
	// MaxSharedKeyDays bounds a key's lifetime in days.
	MaxSharedKeyDays = 3650
)

// SharedKey is a key that requests on its owner's kudos.
type SharedKey struct {
	Hash    string // HashKey of the key
	OwnerID int64
	Name    string
	// Kudos is what is left of the key's budget (Unlimited: none);
	// Utilized what its requests were charged so far.
	Kudos    int64
	Utilized int64
	// The largest image (width*height), steps and text max_length one
	// request may ask for; Unlimited: any.
	MaxImagePixels int
	MaxImageSteps  int
	MaxTextTokens  int
	Expiry         time.Time // zero: never
	CreatedAt      time.Time
	// Styles is how many styles the key is assigned to (read, not
	// written): such a key pays only for requests using them, as on the AI
	// Horde.
	Styles int
}

// usable is nil for a key that can pay, else why not: spent is
// KindForbidden SharedKeyEmpty, expired KindForbidden SharedKeyExpired.
func (k SharedKey) usable(now time.Time) error {
	if k.Kudos == 0 {
		return Errorf(KindForbidden, "SharedKeyEmpty", "this shared key has run out of kudos")
	}
	if !k.Expiry.IsZero() && !k.Expiry.After(now) {
		return Errorf(KindForbidden, "SharedKeyExpired", "this shared key has expired")
	}
	return nil
}

// SharedKeyChange sets the fields of a key that are not nil. ExpiryDays
// Unlimited removes the expiry; other values expire the key that many
// days from now.
type SharedKeyChange struct {
	Name           *string
	Kudos          *int64
	ExpiryDays     *int
	MaxImagePixels *int
	MaxImageSteps  *int
	MaxTextTokens  *int
}

func (c SharedKeyChange) empty() bool {
	return c.Name == nil && c.Kudos == nil && c.ExpiryDays == nil && c.MaxImagePixels == nil &&
		c.MaxImageSteps == nil && c.MaxTextTokens == nil
}

// SharedKeyStore keeps shared keys.
type SharedKeyStore interface {
	// CreateSharedKey stores a new key; more than max keys of its owner is
	// KindForbidden and stores nothing.
	CreateSharedKey(ctx context.Context, k SharedKey, max int) error
	// SharedKey returns a key by hash, with the count of styles it is
	// assigned to; ErrNotFound if none.
	SharedKey(ctx context.Context, hash string) (SharedKey, error)
	// UpdateSharedKey saves Name, Kudos, the limits and Expiry; ErrNotFound if none.
	UpdateSharedKey(ctx context.Context, k SharedKey) error
	// DeleteSharedKey removes a key; ErrNotFound if none. Requests made
	// with it stay (and stay paid by its owner).
	DeleteSharedKey(ctx context.Context, hash string) error
	// SharedKeys returns a user's keys, oldest first.
	SharedKeys(ctx context.Context, userID int64) ([]SharedKey, error)
}

// SharedKeys manages shared keys. It is safe for concurrent use.
type SharedKeys struct {
	h  *Horde
	st SharedKeyStore
}

// NewSharedKeys returns the shared keys of h's users, kept in st.
func NewSharedKeys(h *Horde, st SharedKeyStore) *SharedKeys { return &SharedKeys{h: h, st: st} }

// Create makes a new key for owner (the anonymous user may not) with c's
// fields (defaults: DefaultSharedKeyKudos, no expiry, no limits) and
// returns it with the key, shown once.
func (s *SharedKeys) Create(ctx context.Context, owner User, c SharedKeyChange) (SharedKey, string, error) {
	if owner.Anonymous() {
		return SharedKey{}, "", Errorf(KindForbidden, "AnonForbidden", "the anonymous key cannot have shared keys")
	}
	now := s.h.clock.Now()
	k := SharedKey{OwnerID: owner.ID, Kudos: DefaultSharedKeyKudos, MaxImagePixels: Unlimited,
		MaxImageSteps: Unlimited, MaxTextTokens: Unlimited, CreatedAt: now}
	if err := c.apply(&k, now); err != nil {
		return SharedKey{}, "", err
	}
	key, err := NewAPIKey()
	if err != nil {
		return SharedKey{}, "", err
	}
	k.Hash = HashKey(key)
	if err := s.st.CreateSharedKey(ctx, k, MaxSharedKeys); err != nil {
		return SharedKey{}, "", fmt.Errorf("create shared key of user %d: %w", owner.ID, err)
	}
	return k, key, nil
}

// apply validates c and sets its fields on k.
func (c SharedKeyChange) apply(k *SharedKey, now time.Time) error {
	if c.Name != nil {
		name := strings.TrimSpace(*c.Name)
		if utf8.RuneCountInString(name) > MaxSharedKeyName {
			return Invalidf("name", "name must be at most %d characters", MaxSharedKeyName)
		}
		k.Name = name
	}
	if c.Kudos != nil {
		if *c.Kudos < Unlimited {
			return Invalidf("kudos", "kudos must be -1 (no limit) or at least 0")
		}
		k.Kudos = *c.Kudos
	}
	if c.ExpiryDays != nil {
		switch d := *c.ExpiryDays; {
		case d == Unlimited:
			k.Expiry = time.Time{}
		case d < 1 || d > MaxSharedKeyDays:
			return Invalidf("expiry", "expiry must be -1 (never) or between 1 and %d days", MaxSharedKeyDays)
		default:
			k.Expiry = now.AddDate(0, 0, d)
		}
	}
	for _, l := range []struct {
		field string
		v     *int
		dst   *int
	}{{"max_image_pixels", c.MaxImagePixels, &k.MaxImagePixels}, {"max_image_steps", c.MaxImageSteps, &k.MaxImageSteps},
		{"max_text_tokens", c.MaxTextTokens, &k.MaxTextTokens}} {
		if l.v == nil {
			continue
		}
		if *l.v < Unlimited {
			return Invalidf(l.field, "%s must be -1 (no limit) or at least 0", l.field)
		}
		*l.dst = *l.v
	}
	return nil
}

// Get returns the key named by key (its id); an unknown key is
// KindNotFound with the AI Horde's rc, InvalidAPIKey.
func (s *SharedKeys) Get(ctx context.Context, key string) (SharedKey, error) {
	k, err := s.st.SharedKey(ctx, HashKey(strings.TrimSpace(key)))
	if notFound(err) {
		return SharedKey{}, NotFoundf("InvalidAPIKey", "no shared key has this id")
	}
	if err != nil {
		return SharedKey{}, fmt.Errorf("read shared key: %w", err)
	}
	return k, nil
}

// owned is the key named by key if by owns it: KindNotFound if none,
// KindForbidden if another's.
func (s *SharedKeys) owned(ctx context.Context, by User, key string) (SharedKey, error) {
	k, err := s.Get(ctx, key)
	if err != nil {
		return SharedKey{}, err
	}
	if k.OwnerID != by.ID {
		return SharedKey{}, Errorf(KindForbidden, "Forbidden", "this shared key belongs to another user")
	}
	return k, nil
}

// Update changes the owner's key; a change with nothing in it is
// KindInvalid "NoSharedKeyModSelected".
func (s *SharedKeys) Update(ctx context.Context, by User, key string, c SharedKeyChange) (SharedKey, error) {
	k, err := s.owned(ctx, by, key)
	if err != nil {
		return SharedKey{}, err
	}
	if c.empty() {
		return SharedKey{}, Errorf(KindInvalid, "NoSharedKeyModSelected", "no shared key modification selected")
	}
	if err := c.apply(&k, s.h.clock.Now()); err != nil {
		return SharedKey{}, err
	}
	if err := s.st.UpdateSharedKey(ctx, k); err != nil {
		return SharedKey{}, fmt.Errorf("update shared key: %w", err)
	}
	return k, nil
}

// Delete removes the owner's key.
func (s *SharedKeys) Delete(ctx context.Context, by User, key string) error {
	k, err := s.owned(ctx, by, key)
	if err != nil {
		return err
	}
	if err := s.st.DeleteSharedKey(ctx, k.Hash); err != nil {
		return fmt.Errorf("delete shared key: %w", err)
	}
	return nil
}

// List returns a user's keys.
func (s *SharedKeys) List(ctx context.Context, userID int64) ([]SharedKey, error) {
	return s.st.SharedKeys(ctx, userID)
}

// Resolve returns the owner of a usable shared key and the key, for a
// request made with it. Not a shared key: KindUnauthorized InvalidAPIKey.
// Spent: KindForbidden SharedKeyEmpty; expired: KindForbidden
// SharedKeyExpired; assigned to styles: KindForbidden
// SharedKeyAssignedStyles (it pays only through them); an owner who is
// flagged stays flagged (Submit refuses).
func (s *SharedKeys) Resolve(ctx context.Context, key string) (User, *SharedKey, error) {
	k, err := s.st.SharedKey(ctx, HashKey(strings.TrimSpace(key)))
	if notFound(err) {
		return User{}, nil, Errorf(KindUnauthorized, "InvalidAPIKey", "no user has this API key")
	}
	if err != nil {
		return User{}, nil, fmt.Errorf("resolve shared key: %w", err)
	}
	if err := k.usable(s.h.clock.Now()); err != nil {
		return User{}, nil, err
	}
	if k.Styles > 0 {
		return User{}, nil, Errorf(KindForbidden, "SharedKeyAssignedStyles",
			"this shared key cannot be used as it has been assigned to specific styles only")
	}
	u, err := s.h.user(ctx, k.OwnerID)
	if err != nil {
		return User{}, nil, err
	}
	return u, &k, nil
}

// ForStyle returns the owner of the shared key a style names (by hash) and
// the key, when it can pay: ok is false for a key that is gone, spent or
// expired, and the request is then its requester's, as on the AI Horde.
func (s *SharedKeys) ForStyle(ctx context.Context, hash string) (owner User, k *SharedKey, ok bool, err error) {
	if hash == "" {
		return User{}, nil, false, nil
	}
	key, err := s.st.SharedKey(ctx, hash)
	if notFound(err) {
		return User{}, nil, false, nil
	}
	if err != nil {
		return User{}, nil, false, fmt.Errorf("read shared key of a style: %w", err)
	}
	if key.usable(s.h.clock.Now()) != nil {
		return User{}, nil, false, nil
	}
	u, err := s.h.user(ctx, key.OwnerID)
	if err != nil {
		return User{}, nil, false, err
	}
	return u, &key, true, nil
}

// ByHash returns a key by its hash; KindNotFound if none.
func (s *SharedKeys) ByHash(ctx context.Context, hash string) (SharedKey, error) {
	k, err := s.st.SharedKey(ctx, hash)
	if notFound(err) {
		return SharedKey{}, NotFoundf("SharedKeyInvalid", "this shared key does not exist")
	}
	if err != nil {
		return SharedKey{}, fmt.Errorf("read shared key: %w", err)
	}
	return k, nil
}

// ForNewStyle checks that key may be assigned to a style of owner, as the
// AI Horde checks a style's "sharedkey": unknown is KindInvalid
// SharedKeyInvalid, spent or expired KindInvalid SharedKeyEmpty or
// SharedKeyExpired; and, hordebot's rule, it must be the style owner's own
// key (a key assigned to a public style pays beyond its size limits, so
// nobody may do that with another's key). It returns the key's hash.
func (s *SharedKeys) ForNewStyle(ctx context.Context, owner int64, key string) (string, error) {
	k, err := s.st.SharedKey(ctx, HashKey(strings.TrimSpace(key)))
	if notFound(err) {
		return "", &Error{Kind: KindInvalid, Code: "SharedKeyInvalid", Field: "sharedkey", Message: "the sharedkey does not exist"}
	}
	if err != nil {
		return "", fmt.Errorf("read shared key for a style: %w", err)
	}
	if err := k.usable(s.h.clock.Now()); err != nil {
		var he *Error
		if errors.As(err, &he) {
			return "", &Error{Kind: KindInvalid, Code: he.Code, Field: "sharedkey", Message: "the sharedkey cannot pay: " + he.Message}
		}
		return "", err
	}
	if k.OwnerID != owner {
		return "", &Error{Kind: KindInvalid, Code: "SharedKeyInvalid", Field: "sharedkey",
			Message: "a style's sharedkey must be one of the style creator's own shared keys"}
	}
	return k.Hash, nil
}

// admit checks that req, priced, fits the key's limits: a request over a
// size limit is KindInvalid naming the field; one costing more than what
// is left of the budget is KindKudosUpfront SharedKeyInsufficientKudos. A
// style's own key (forStyle) is held to its budget only, as on the AI
// Horde: its owner lent it for what the style asks.
func (k *SharedKey) admit(req Request, forStyle bool) error {
	if req.Image != nil && !forStyle {
		if px := req.Image.Width * req.Image.Height; k.MaxImagePixels != Unlimited && px > k.MaxImagePixels {
			return Invalidf("params.width", "this shared key allows at most %d pixels (width*height) an image, not %d", k.MaxImagePixels, px)
		}
		if k.MaxImageSteps != Unlimited && req.Image.Steps > k.MaxImageSteps {
			return Invalidf("params.steps", "this shared key allows at most %d steps, not %d", k.MaxImageSteps, req.Image.Steps)
		}
	}
	if !forStyle && req.Text != nil && k.MaxTextTokens != Unlimited && req.Text.MaxLength > k.MaxTextTokens {
		return Invalidf("params.max_length", "this shared key allows at most %d tokens (max_length), not %d", k.MaxTextTokens, req.Text.MaxLength)
	}
	if k.Kudos != Unlimited && req.Kudos > k.Kudos {
		return Errorf(KindKudosUpfront, "SharedKeyInsufficientKudos",
			"this shared key does not have enough kudos left (%d) for this request (%d)", k.Kudos, req.Kudos)
	}
	return nil
}

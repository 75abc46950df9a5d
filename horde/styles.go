package horde

import (
	"context"
	"strings"
	"time"
)

// Limits on styles and collections, the AI Horde's.
const (
	MaxStyleModels        = 5
	MaxStyleTags          = 10
	MaxStyleTagLength     = 25
	MaxStyleNameLength    = 100
	MaxStyleInfoLength    = 1000
	MaxStyleExamples      = 4
	MaxCollectionStyles   = 100
	StylesPerPage         = 25
	MaxStylePromptLength  = 10000
	MaxStyleExampleURLLen = 1000
)

// StyleExample is an example image of an image style: a link, one of them
// the primary.
type StyleExample struct {
	ID      string
	URL     string
	Primary bool
}

// Style is a prompt template with the parameters and models it is meant
// for (the AI Horde's styles). A request naming a style has its prompt put
// into the template ({p} the positive prompt, {np} the negative one) and the
// style's parameters replace its own.
type Style struct {
	ID       string
	Kind     RequestKind
	UserID   int64
	Creator  string // the owner's "name#id"
	Name     string
	Info     string
	Prompt   string // contains {p} (and {np} for images)
	Params   []byte // a JSON object: the AI Horde's params of the kind (image or text)
	Models   []string
	Tags     []string
	Public   bool
	NSFW     bool
	UseCount int64
	Examples []StyleExample
	Created  time.Time
	// SharedKey is the HashKey of the shared key that pays for the
	// requests using the style while it is usable (the AI Horde's style
	// "sharedkey"); "" if none. Such a key serves only its styles.
	SharedKey string
}

// StyleUse is the style a request was made with: the style, the collection
// it was picked from ("" if none) and its creator.
type StyleUse struct {
	StyleID      string
	CollectionID string
	OwnerID      int64
	// ByStyleKey says the request is paid by the style's shared key: its
	// budget applies, not its size limits (the AI Horde lets a style's key
	// pay for what the style asks, whatever the key's limits).
	ByStyleKey bool
}

// StyleCollection is a named list of styles of one kind; a request naming
// a collection gets one of its styles at random, as on the AI Horde.
type StyleCollection struct {
	ID       string
	Kind     RequestKind
	UserID   int64
	Creator  string
	Name     string
	Info     string
	Public   bool
	StyleIDs []string
	UseCount int64
	Created  time.Time
}

// StyleQuery selects a page of styles or collections. Kind "" is any kind.
type StyleQuery struct {
	Kind   RequestKind
	Tag    string // styles only: having this tag
	Model  string // styles only: using this model
	ByAge  bool   // newest first; otherwise most used first ("popular")
	Offset int
	Limit  int
}

// StyleSearch selects the styles of one kind a member may pick: the public
// ones and the member's own, whose names contain Text (any case; "" is
// every name), Limit of them (at most MaxStyleSearch) after Offset.
type StyleSearch struct {
	Kind   RequestKind
	UserID int64 // the member, whose private styles are included too (0: none)
	Text   string
	Offset int
	Limit  int
}

// MaxStyleSearch bounds one page of SearchStyles.
const MaxStyleSearch = 100

// StyleStore keeps styles and collections. Unknown ids and names are
// KindNotFound errors; a second style or collection of one kind with the
// same name for one user is KindConflict. A request's style and collection
// are counted as used (UseCount) by CreateRequest, with the request
// (RequestExtras).
type StyleStore interface {
	CreateStyle(ctx context.Context, s Style) error
	UpdateStyle(ctx context.Context, s Style) error
	DeleteStyle(ctx context.Context, id string) error
	Style(ctx context.Context, id string) (Style, error)
	// StyleByName finds a style by its name; userID 0 means any owner's
	// (the oldest first).
	StyleByName(ctx context.Context, kind RequestKind, userID int64, name string) (Style, error)
	// Styles lists public styles.
	Styles(ctx context.Context, q StyleQuery) ([]Style, error)
	// SearchStyles lists the styles a member may pick by name (see
	// StyleSearch): those whose name starts with the text first, then
	// those containing it, most used first within each.
	SearchStyles(ctx context.Context, q StyleSearch) ([]Style, error)

	CreateCollection(ctx context.Context, c StyleCollection) error
	UpdateCollection(ctx context.Context, c StyleCollection) error
	DeleteCollection(ctx context.Context, id string) error
	Collection(ctx context.Context, id string) (StyleCollection, error)
	CollectionByName(ctx context.Context, userID int64, name string) (StyleCollection, error)
	// Collections lists public collections.
	Collections(ctx context.Context, q StyleQuery) ([]StyleCollection, error)
}

// MayEditStyles reports whether u may create styles and collections:
// trusted users and moderators (the AI Horde: customizers and trusted users).
func MayEditStyles(u User) bool { return !u.Anonymous() && (u.Trusted || u.Moderator) }

// MayChangeStyle reports whether u may change or delete a style or
// collection owned by owner: its owner or a moderator.
func MayChangeStyle(u User, owner int64) bool {
	return !u.Anonymous() && (u.ID == owner || u.Moderator)
}

// StyleRef is how a request or a _by_name route names a style: a UUID, a
// bare name, or "user#id::name", "style::name", "collection::name",
// "style::user#id::name" as on the AI Horde.
type StyleRef struct {
	Name       string
	Username   string // "name#id", or empty for any owner
	Collection bool   // the name is a collection's
	Style      bool   // the name is a style's (not a collection's)
}

// ParseStyleRef reads a style or collection name in the AI Horde's forms.
func ParseStyleRef(s string) StyleRef {
	parts := strings.Split(s, "::")
	var r StyleRef
	switch len(parts) {
	case 3:
		r.Username, r.Name = parts[1], parts[2]
		r.Collection, r.Style = parts[0] == "collection", parts[0] == "style"
	case 2:
		r.Name = parts[1]
		switch parts[0] {
		case "collection":
			r.Collection = true
		case "style":
			r.Style = true
		default:
			r.Username = parts[0]
		}
	default:
		r.Name = s
	}
	return r
}

// UserIDOfUsername is the id in a "name#id" username, or false.
func UserIDOfUsername(username string) (int64, bool) {
	i := strings.LastIndexByte(username, '#')
	if i < 0 {
		return 0, false
	}
	var id int64
	for _, c := range username[i+1:] {
		if c < '0' || c > '9' || id > (1<<62)/10 {
			return 0, false
		}
		id = id*10 + int64(c-'0')
	}
	return id, i+1 < len(username)
}

// ApplyPrompt puts a request's prompt into the style's template as the AI
// Horde does: {p} is the positive prompt, {np} the negative one (from a
// "positive ### negative" prompt), prefixed with "###" when the template has
// no "###" of its own; every other brace is kept literally.
func (s Style) ApplyPrompt(prompt string) string {
	pos, neg := prompt, ""
	if s.Kind != KindText {
		if i := strings.Index(prompt, "###"); i >= 0 {
			pos, neg = prompt[:i], prompt[i+3:]
		}
		if neg != "" && !strings.Contains(s.Prompt, "###") && !strings.Contains(neg, "###") {
			neg = "###" + neg
		}
	}
	return strings.NewReplacer("{p}", pos, "{np}", neg).Replace(s.Prompt)
}

// NewStyleID returns a fresh id for a style, a collection or an example.
func NewStyleID() string { return newID() }

package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/hordebot/hordebot/horde"
)

var _ horde.StyleStore = (*Store)(nil)

// storedStyle is the JSON of styles.doc; its names must not change.
type storedStyle struct {
	Info     string               `json:"info,omitempty"`
	Prompt   string               `json:"prompt"`
	Params   json.RawMessage      `json:"params,omitempty"`
	Models   []string             `json:"models,omitempty"`
	Tags     []string             `json:"tags,omitempty"`
	Examples []storedStyleExample `json:"examples,omitempty"`
}

type storedStyleExample struct {
	ID      string `json:"id"`
	URL     string `json:"url"`
	Primary bool   `json:"primary,omitempty"`
}

// storedCollection is the JSON of style_collections.doc.
type storedCollection struct {
	Info   string   `json:"info,omitempty"`
	Styles []string `json:"styles"`
}

func styleDoc(s horde.Style) (string, error) {
	d := storedStyle{Info: s.Info, Prompt: s.Prompt, Models: s.Models, Tags: s.Tags}
	if len(s.Params) > 0 {
		d.Params = json.RawMessage(s.Params)
	}
	for _, e := range s.Examples {
		d.Examples = append(d.Examples, storedStyleExample(e))
	}
	b, err := json.Marshal(d)
	return string(b), err
}

const styleColumns = `s.id, s.kind, s.user_id, u.name, s.name, s.public, s.nsfw, s.use_count, s.created_at, s.doc, s.shared_key_hash`

func scanStyle(row interface{ Scan(...any) error }) (horde.Style, error) {
	s, doc, err := scanStyleRow(row)
	if err != nil {
		return horde.Style{}, err
	}
	return decodeStyleDoc(s, doc)
}

// scanStyleRow reads a row of styleColumns but its document, returned as
// it is stored.
func scanStyleRow(row interface{ Scan(...any) error }) (horde.Style, string, error) {
	var s horde.Style
	var kind, owner, doc string
	var created int64
	if err := row.Scan(&s.ID, &kind, &s.UserID, &owner, &s.Name, &s.Public, &s.NSFW, &s.UseCount, &created, &doc, &s.SharedKey); err != nil {
		return horde.Style{}, "", err
	}
	s.Kind = horde.RequestKind(kind)
	s.Creator = horde.User{ID: s.UserID, Name: owner}.Username()
	s.Created = fromNanos(created)
	return s, doc, nil
}

// decodeStyleDoc fills s from its stored document.
func decodeStyleDoc(s horde.Style, doc string) (horde.Style, error) {
	var d storedStyle
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return horde.Style{}, fmt.Errorf("style %s: decode: %w", s.ID, err)
	}
	s.Info, s.Prompt, s.Models, s.Tags = d.Info, d.Prompt, d.Models, d.Tags
	if len(d.Params) > 0 {
		s.Params = []byte(d.Params)
	}
	for _, e := range d.Examples {
		s.Examples = append(s.Examples, horde.StyleExample(e))
	}
	return s, nil
}

// styleNameTaken is the error for a second style (or collection) of one name.
func styleNameTaken(what, name string) error {
	return conflict("StyleNameTaken", "you already have a %s named %s; change that one instead", what, horde.QuoteInput(name))
}

// CreateStyle stores a new style; s.ID must be set.
func (s *Store) CreateStyle(ctx context.Context, st horde.Style) error {
	doc, err := styleDoc(st)
	if err != nil {
		return fmt.Errorf("create style: %w", err)
	}
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO styles (id, kind, user_id, name, public, nsfw, use_count, created_at, doc, shared_key_hash)
			VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?)`, st.ID, string(st.Kind), st.UserID, st.Name, st.Public, st.NSFW, nanos(s.clock.Now()), doc, st.SharedKey)
		return err
	})
	if isUniqueViolation(err, "") {
		return styleNameTaken(string(st.Kind)+" style", st.Name)
	}
	if err != nil {
		return unavailable(fmt.Errorf("create style: %w", err))
	}
	return nil
}

// UpdateStyle replaces a style's name, flags and document.
func (s *Store) UpdateStyle(ctx context.Context, st horde.Style) error {
	doc, err := styleDoc(st)
	if err != nil {
		return fmt.Errorf("update style: %w", err)
	}
	var n int64
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE styles SET name = ?, public = ?, nsfw = ?, doc = ?, shared_key_hash = ? WHERE id = ?`,
			st.Name, st.Public, st.NSFW, doc, st.SharedKey, st.ID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if isUniqueViolation(err, "") {
		return styleNameTaken(string(st.Kind)+" style", st.Name)
	}
	if err != nil {
		return unavailable(fmt.Errorf("update style: %w", err))
	}
	if n == 0 {
		return fmt.Errorf("update style %s: %w", st.ID, horde.ErrNotFound)
	}
	return nil
}

// DeleteStyle deletes a style; collections naming it keep the others.
func (s *Store) DeleteStyle(ctx context.Context, id string) error {
	return s.deleteRow(ctx, "styles", "style", id)
}

func (s *Store) deleteRow(ctx context.Context, table, what, id string) error {
	var n int64
	err := s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE id = ?`, id)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return unavailable(fmt.Errorf("delete %s: %w", what, err))
	}
	if n == 0 {
		return fmt.Errorf("delete %s %s: %w", what, id, horde.ErrNotFound)
	}
	return nil
}

// Style returns a style by id.
func (s *Store) Style(ctx context.Context, id string) (horde.Style, error) {
	st, err := scanStyle(s.r.QueryRowContext(ctx, `SELECT `+styleColumns+` FROM styles s JOIN users u ON u.id = s.user_id WHERE s.id = ?`, id))
	if err != nil {
		return horde.Style{}, notFound(err, "style %s", id)
	}
	return st, nil
}

// StyleByName returns a style of kind by name, of userID (0: any owner's,
// the oldest).
func (s *Store) StyleByName(ctx context.Context, kind horde.RequestKind, userID int64, name string) (horde.Style, error) {
	q := `SELECT ` + styleColumns + ` FROM styles s JOIN users u ON u.id = s.user_id WHERE s.kind = ? AND s.name = ?`
	args := []any{string(kind), name}
	if userID != 0 {
		q += ` AND s.user_id = ?`
		args = append(args, userID)
	}
	st, err := scanStyle(s.r.QueryRowContext(ctx, q+` ORDER BY s.created_at, s.id LIMIT 1`, args...))
	if err != nil {
		return horde.Style{}, notFound(err, "style %q", name)
	}
	return st, nil
}

// Styles lists public styles, filtered by kind, tag and model, most used or
// newest first. Tags and models are filtered here, in Go: a community's
// styles are few.
func (s *Store) Styles(ctx context.Context, q horde.StyleQuery) ([]horde.Style, error) {
	order := `s.use_count DESC, s.created_at, s.id`
	if q.ByAge {
		order = `s.created_at DESC, s.id`
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+styleColumns+` FROM styles s JOIN users u ON u.id = s.user_id
		WHERE s.public = 1 AND (? = '' OR s.kind = ?) ORDER BY `+order, string(q.Kind), string(q.Kind))
	if err != nil {
		return nil, unavailable(fmt.Errorf("list styles: %w", err))
	}
	defer rows.Close()
	var out []horde.Style
	skip := q.Offset
	for rows.Next() {
		st, err := scanStyle(rows)
		if err != nil {
			return nil, err
		}
		if (q.Tag != "" && !slices.Contains(st.Tags, q.Tag)) || (q.Model != "" && !slices.Contains(st.Models, q.Model)) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		out = append(out, st)
		if q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("list styles: %w", err))
	}
	return out, nil
}

// SearchStyles lists the styles of q.Kind that are public or q.UserID's
// whose names contain q.Text in any case, names starting with it first,
// then most used. An ASCII text is matched by the database (lower() and
// LIKE fold ASCII alike in both engines), one query for the page; any
// other text is matched here, in Go, so that both engines fold it alike
// (SQLite's lower() knows only ASCII), decoding only the matches.
func (s *Store) SearchStyles(ctx context.Context, q horde.StyleSearch) ([]horde.Style, error) {
	limit := q.Limit
	if limit <= 0 || limit > horde.MaxStyleSearch {
		limit = horde.MaxStyleSearch
	}
	offset := max(q.Offset, 0)
	text := strings.ToLower(strings.TrimSpace(q.Text))
	if !isASCII(text) {
		return s.searchStylesInGo(ctx, q.Kind, q.UserID, text, offset, limit)
	}
	esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(text)
	rows, err := s.r.QueryContext(ctx, `SELECT `+styleColumns+` FROM styles s JOIN users u ON u.id = s.user_id
		WHERE s.kind = ? AND (s.public = 1 OR s.user_id = ?) AND lower(s.name) LIKE ? ESCAPE '\'
		ORDER BY CASE WHEN lower(s.name) LIKE ? ESCAPE '\' THEN 0 ELSE 1 END, s.use_count DESC, s.created_at, s.id
		LIMIT ? OFFSET ?`, string(q.Kind), q.UserID, "%"+esc+"%", esc+"%", limit, offset)
	if err != nil {
		return nil, unavailable(fmt.Errorf("search styles: %w", err))
	}
	defer rows.Close()
	var out []horde.Style
	for rows.Next() {
		st, err := scanStyle(rows)
		if err != nil {
			return nil, unavailable(fmt.Errorf("search styles: %w", err))
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("search styles: %w", err))
	}
	return out, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// searchStylesInGo is SearchStyles for a text beyond ASCII: the names are
// matched here; a community's styles are few, and only the matches'
// documents are decoded.
func (s *Store) searchStylesInGo(ctx context.Context, kind horde.RequestKind, userID int64, text string, offset, limit int) ([]horde.Style, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+styleColumns+` FROM styles s JOIN users u ON u.id = s.user_id
		WHERE s.kind = ? AND (s.public = 1 OR s.user_id = ?) ORDER BY s.use_count DESC, s.created_at, s.id`, string(kind), userID)
	if err != nil {
		return nil, unavailable(fmt.Errorf("search styles: %w", err))
	}
	defer rows.Close()
	type match struct {
		st  horde.Style
		doc string
	}
	var prefixed, inside []match
	for rows.Next() {
		st, doc, err := scanStyleRow(rows)
		if err != nil {
			return nil, unavailable(fmt.Errorf("search styles: %w", err))
		}
		name := strings.ToLower(st.Name)
		switch {
		case strings.HasPrefix(name, text):
			prefixed = append(prefixed, match{st, doc})
		case strings.Contains(name, text):
			inside = append(inside, match{st, doc})
		}
		if len(prefixed) >= offset+limit {
			break // enough names starting with the text: they come first
		}
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("search styles: %w", err))
	}
	all := append(prefixed, inside...)
	if offset >= len(all) {
		return nil, nil
	}
	all = all[offset:min(len(all), offset+limit)]
	out := make([]horde.Style, 0, len(all))
	for _, m := range all {
		st, err := decodeStyleDoc(m.st, m.doc)
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, nil
}

const collectionColumns = `c.id, c.kind, c.user_id, u.name, c.name, c.public, c.use_count, c.created_at, c.doc`

func scanCollection(row interface{ Scan(...any) error }) (horde.StyleCollection, error) {
	var c horde.StyleCollection
	var kind, owner, doc string
	var created int64
	if err := row.Scan(&c.ID, &kind, &c.UserID, &owner, &c.Name, &c.Public, &c.UseCount, &created, &doc); err != nil {
		return horde.StyleCollection{}, err
	}
	c.Kind = horde.RequestKind(kind)
	c.Creator = horde.User{ID: c.UserID, Name: owner}.Username()
	c.Created = fromNanos(created)
	var d storedCollection
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return horde.StyleCollection{}, fmt.Errorf("collection %s: decode: %w", c.ID, err)
	}
	c.Info, c.StyleIDs = d.Info, d.Styles
	return c, nil
}

// CreateCollection stores a new collection; c.ID must be set.
func (s *Store) CreateCollection(ctx context.Context, c horde.StyleCollection) error {
	doc, err := json.Marshal(storedCollection{Info: c.Info, Styles: c.StyleIDs})
	if err != nil {
		return fmt.Errorf("create collection: %w", err)
	}
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO style_collections (id, kind, user_id, name, public, use_count, created_at, doc)
			VALUES (?, ?, ?, ?, ?, 0, ?, ?)`, c.ID, string(c.Kind), c.UserID, c.Name, c.Public, nanos(s.clock.Now()), string(doc))
		return err
	})
	if isUniqueViolation(err, "") {
		return styleNameTaken("collection", c.Name)
	}
	if err != nil {
		return unavailable(fmt.Errorf("create collection: %w", err))
	}
	return nil
}

// UpdateCollection replaces a collection's kind, name, flag and document.
func (s *Store) UpdateCollection(ctx context.Context, c horde.StyleCollection) error {
	doc, err := json.Marshal(storedCollection{Info: c.Info, Styles: c.StyleIDs})
	if err != nil {
		return fmt.Errorf("update collection: %w", err)
	}
	var n int64
	err = s.writeTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE style_collections SET kind = ?, name = ?, public = ?, doc = ? WHERE id = ?`,
			string(c.Kind), c.Name, c.Public, string(doc), c.ID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if isUniqueViolation(err, "") {
		return styleNameTaken("collection", c.Name)
	}
	if err != nil {
		return unavailable(fmt.Errorf("update collection: %w", err))
	}
	if n == 0 {
		return fmt.Errorf("update collection %s: %w", c.ID, horde.ErrNotFound)
	}
	return nil
}

// DeleteCollection deletes a collection (not its styles).
func (s *Store) DeleteCollection(ctx context.Context, id string) error {
	return s.deleteRow(ctx, "style_collections", "collection", id)
}

// Collection returns a collection by id.
func (s *Store) Collection(ctx context.Context, id string) (horde.StyleCollection, error) {
	c, err := scanCollection(s.r.QueryRowContext(ctx, `SELECT `+collectionColumns+` FROM style_collections c JOIN users u ON u.id = c.user_id WHERE c.id = ?`, id))
	if err != nil {
		return horde.StyleCollection{}, notFound(err, "collection %s", id)
	}
	return c, nil
}

// CollectionByName returns a collection by name, of userID (0: any owner's).
func (s *Store) CollectionByName(ctx context.Context, userID int64, name string) (horde.StyleCollection, error) {
	q := `SELECT ` + collectionColumns + ` FROM style_collections c JOIN users u ON u.id = c.user_id WHERE c.name = ?`
	args := []any{name}
	if userID != 0 {
		q += ` AND c.user_id = ?`
		args = append(args, userID)
	}
	c, err := scanCollection(s.r.QueryRowContext(ctx, q+` ORDER BY c.created_at, c.id LIMIT 1`, args...))
	if err != nil {
		return horde.StyleCollection{}, notFound(err, "collection %q", name)
	}
	return c, nil
}

// Collections lists public collections of a kind ("" any), most used or
// newest first.
func (s *Store) Collections(ctx context.Context, q horde.StyleQuery) ([]horde.StyleCollection, error) {
	order := `c.use_count DESC, c.created_at, c.id`
	if q.ByAge {
		order = `c.created_at DESC, c.id`
	}
	limit := q.Limit
	if limit <= 0 {
		limit = -1
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+collectionColumns+` FROM style_collections c JOIN users u ON u.id = c.user_id
		WHERE c.public = 1 AND (? = '' OR c.kind = ?) ORDER BY `+order+` LIMIT ? OFFSET ?`,
		string(q.Kind), string(q.Kind), limit, q.Offset)
	if err != nil {
		return nil, unavailable(fmt.Errorf("list collections: %w", err))
	}
	defer rows.Close()
	var out []horde.StyleCollection
	for rows.Next() {
		c, err := scanCollection(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, unavailable(fmt.Errorf("list collections: %w", err))
	}
	return out, nil
}

package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/hordebot/hordebot/horde"
)

// maxWarnings caps the unknown-field warnings one response carries, so that
// a body made of thousands of junk keys does not echo them all back.
const maxWarnings = 20

// readBody reads the request body, at most limit bytes, into one buffer
// sized from Content-Length (no doubling copies). A body declared or found
// larger is an error wrapping *http.MaxBytesError (answered 400, rc
// BodyTooLarge) and a declared one is refused before a byte is read. A large
// body first takes its size from the server's body budget, held until the
// request ends, so that many concurrent large bodies wait their turn rather
// than multiply the memory in use.
func (s *server) readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, fmt.Errorf("read body: %w", &http.MaxBytesError{Limit: limit})
	}
	size := r.ContentLength
	if size < 0 {
		size = limit
	}
	if err := s.bodies.acquire(r, size); err != nil {
		return nil, err
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	if r.ContentLength >= 0 {
		// One read into a buffer of the declared size, plus one byte to see
		// a body longer than declared (net/http refuses that anyway).
		buf := make([]byte, r.ContentLength+1)
		n, err := io.ReadFull(body, buf)
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
			if int64(n) < r.ContentLength {
				return nil, bodyError(err)
			}
			return buf[:n], nil
		case err != nil:
			return nil, bodyError(err)
		default:
			return nil, fmt.Errorf("read body: %w", &http.MaxBytesError{Limit: limit})
		}
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, bodyError(err)
	}
	return data, nil
}

// bodyError classifies a failure to read a request body: over the limit
// (answered 400, rc BodyTooLarge), or a broken or too slow upload (400).
func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return fmt.Errorf("read body: %w", err)
	}
	return &horde.Error{Kind: horde.KindInvalid, Code: "BadRequest", Field: "body", Message: "could not read the request body", Err: err}
}

// decodeJSON unmarshals the JSON object in data into v, a pointer to a
// struct. Types are strict (a string where an integer belongs is a
// KindInvalid error naming the field by its JSON path, e.g. "params.steps");
// fields v does not know are tolerated, as the AI Horde ignores them, and
// returned (for the server's log; never as warnings). Finding them walks data in place: no copy of the body
// is made beyond what v keeps.
func decodeJSON(data []byte, v any) ([]string, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, horde.Invalidf("", "the request body must be a JSON object")
	}
	if data[0] != '{' {
		return nil, horde.Invalidf("", "the request body must be a JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, jsonError(err, reflect.TypeOf(v))
	}
	var warnings []string
	unknownFields(data, reflect.TypeOf(v), "", &warnings)
	return warnings, nil
}

// jsonError turns an encoding/json error into a KindInvalid *horde.Error
// that names the offending field, as a JSON path, when there is one.
func jsonError(err error, t reflect.Type) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := jsonPath(t, typeErr.Field)
		if field == "" {
			return horde.Invalidf("", "the request body must be a JSON object")
		}
		return &horde.Error{Kind: horde.KindInvalid, Code: "ValidationError", Field: field,
			Message: fmt.Sprintf("%s must be %s, not %s", field, typeName(typeErr.Type), typeErr.Value), Err: err}
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return &horde.Error{Kind: horde.KindInvalid, Code: "ValidationError",
			Message: fmt.Sprintf("malformed JSON at byte %d", syntaxErr.Offset), Err: err}
	}
	return &horde.Error{Kind: horde.KindInvalid, Code: "ValidationError", Message: "malformed JSON", Err: err}
}

// jsonPath turns encoding/json's field path, which names the Go type of an
// embedded struct (e.g. "AsyncCommon.models"), into the JSON path the client
// sent ("models"), walking t, the type decoded into.
func jsonPath(t reflect.Type, goPath string) string {
	if goPath == "" {
		return ""
	}
	var out []string
	for _, seg := range strings.Split(goPath, ".") {
		t = elemType(t)
		if t == nil || t.Kind() != reflect.Struct {
			out = append(out, seg)
			t = nil
			continue
		}
		fi := indexOf(t)
		if ft, ok := fi.exact[seg]; ok {
			out = append(out, seg)
			t = ft
			continue
		}
		if et, ok := fi.embedded[seg]; ok {
			t = et // a Go name only: the client never wrote it
			continue
		}
		out = append(out, seg)
		t = nil
	}
	return strings.Join(out, ".")
}

// elemType is the struct (or other) type behind pointers, slices, arrays and maps.
func elemType(t reflect.Type) reflect.Type {
	for t != nil {
		switch t.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array, reflect.Map:
			t = t.Elem()
		default:
			return t
		}
	}
	return nil
}

// typeName is how a Go type reads to a client in an error message.
func typeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Slice, reflect.Array:
		return "an array"
	default:
		return "an object"
	}
}

// fieldIndex maps a struct's JSON names to their field types.
type fieldIndex struct {
	exact    map[string]reflect.Type
	lower    map[string]reflect.Type // encoding/json also matches names case-insensitively
	embedded map[string]reflect.Type // Go names of embedded structs, whose fields are promoted
}

var fieldIndexes sync.Map // reflect.Type -> *fieldIndex

func indexOf(t reflect.Type) *fieldIndex {
	if fi, ok := fieldIndexes.Load(t); ok {
		return fi.(*fieldIndex)
	}
	fi := &fieldIndex{exact: map[string]reflect.Type{}, lower: map[string]reflect.Type{}, embedded: map[string]reflect.Type{}}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			// encoding/json promotes an embedded struct's fields.
			inner := indexOf(f.Type)
			for k, v := range inner.exact {
				fi.exact[k] = v
			}
			for k, v := range inner.lower {
				fi.lower[k] = v
			}
			for k, v := range inner.embedded {
				fi.embedded[k] = v
			}
			fi.embedded[f.Name] = f.Type
			continue
		}
		if name == "" {
			name = f.Name
		}
		fi.exact[name] = f.Type
		fi.lower[strings.ToLower(name)] = f.Type
	}
	fieldIndexes.Store(t, fi)
	return fi
}

// unknownFields appends to warnings the object keys in data that type t
// (a struct, or a pointer or slice of one) does not declare, recursing into
// nested objects and arrays of objects. data has already been unmarshalled
// successfully into t, so it is valid JSON and shapes match; it is scanned
// in place (scanObject, scanArray), never copied.
func unknownFields(data []byte, t reflect.Type, path string, warnings *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		fi := indexOf(t)
		var unknown []string
		scanObject(data, func(k string, value []byte) {
			ft, ok := fi.exact[k]
			if !ok {
				ft, ok = fi.lower[strings.ToLower(k)]
			}
			name := joinPath(path, k)
			if !ok {
				if len(unknown) < maxWarnings {
					unknown = append(unknown, name)
				}
				return
			}
			unknownFields(value, ft, name, warnings)
		})
		slices.Sort(unknown) // stable warning order
		for _, name := range unknown {
			if len(*warnings) < maxWarnings {
				*warnings = append(*warnings, fmt.Sprintf("unknown field %s was ignored", horde.QuoteInput(name)))
			}
		}
	case reflect.Slice:
		elem := t.Elem()
		for elem.Kind() == reflect.Pointer {
			elem = elem.Elem()
		}
		if elem.Kind() != reflect.Struct {
			return
		}
		i := 0
		scanArray(data, func(item []byte) {
			unknownFields(item, elem, fmt.Sprintf("%s[%d]", path, i), warnings)
			i++
		})
	}
}

// scanObject calls fn with each key and raw value of the JSON object in
// data (valid JSON); anything else (null) calls nothing.
func scanObject(data []byte, fn func(key string, value []byte)) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return
	}
	i++
	for {
		i = skipSpace(data, i)
		if i >= len(data) || data[i] == '}' {
			return
		}
		if data[i] == ',' {
			i++
			continue
		}
		kEnd := skipValue(data, i)
		key := decodeKey(data[i:kEnd])
		i = skipSpace(data, kEnd)
		if i < len(data) && data[i] == ':' {
			i++
		}
		i = skipSpace(data, i)
		vEnd := skipValue(data, i)
		fn(key, data[i:vEnd])
		i = vEnd
	}
}

// scanArray calls fn with each raw element of the JSON array in data.
func scanArray(data []byte, fn func(item []byte)) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '[' {
		return
	}
	i++
	for {
		i = skipSpace(data, i)
		if i >= len(data) || data[i] == ']' {
			return
		}
		if data[i] == ',' {
			i++
			continue
		}
		end := skipValue(data, i)
		fn(data[i:end])
		i = end
	}
}

// decodeKey is the string a JSON key literal stands for.
func decodeKey(lit []byte) string {
	if len(lit) >= 2 && bytes.IndexByte(lit, '\\') < 0 {
		return string(lit[1 : len(lit)-1])
	}
	var k string
	_ = json.Unmarshal(lit, &k) // valid JSON: cannot fail
	return k
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at data[i].
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	default: // a number, true, false or null
		for i < len(data) {
			switch data[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
			i++
		}
		return i
	}
}

// skipString returns the end of the JSON string starting at data[i] (a quote).
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

func joinPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// seedString reads the AI Horde's request seed, which is a string but which
// clients also send as a number; null or absent is "".
func seedString(raw json.RawMessage, field string) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", horde.Invalidf(field, "%s must be a string or a number", field)
}

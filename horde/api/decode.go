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

// readBody reads the request body, at most limit bytes. A larger body is an
// error wrapping *http.MaxBytesError (answered 400, rc BodyTooLarge).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	body := http.MaxBytesReader(w, r.Body, limit)
	data, err := io.ReadAll(body)
	if err != nil {
		return nil, bodyError(err)
	}
	return data, nil
}

// bodyError classifies a failure to read a request body: over the limit
// (answered 400, rc BodyTooLarge), or a broken upload (400).
func bodyError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return fmt.Errorf("read body: %w", err)
	}
	return &horde.Error{Kind: horde.KindInvalid, Code: "BadRequest", Message: "could not read the request body", Err: err}
}

// decodeJSON unmarshals the JSON object in data into v, a pointer to a
// struct. Types are strict (a string where an integer belongs is a
// KindInvalid error naming the field, e.g. "params.steps"); fields v does not
// know are tolerated and returned as warnings, as the AI Horde ignores them.
func decodeJSON(data []byte, v any) ([]string, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil, horde.Invalidf("", "the request body must be a JSON object")
	}
	if data[0] != '{' {
		return nil, horde.Invalidf("", "the request body must be a JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return nil, jsonError(err)
	}
	var warnings []string
	unknownFields(data, reflect.TypeOf(v), "", &warnings)
	return warnings, nil
}

// jsonError turns an encoding/json error into a KindInvalid *horde.Error
// that names the offending field when there is one.
func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
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
	exact map[string]reflect.Type
	lower map[string]reflect.Type // encoding/json also matches names case-insensitively
}

var fieldIndexes sync.Map // reflect.Type -> *fieldIndex

func indexOf(t reflect.Type) *fieldIndex {
	if fi, ok := fieldIndexes.Load(t); ok {
		return fi.(*fieldIndex)
	}
	fi := &fieldIndex{exact: map[string]reflect.Type{}, lower: map[string]reflect.Type{}}
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
// successfully into t, so shapes match.
func unknownFields(data []byte, t reflect.Type, path string, warnings *[]string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(data, &obj) != nil {
			return // null, or not an object: nothing to report
		}
		fi := indexOf(t)
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		slices.Sort(keys) // stable warning order
		for _, k := range keys {
			ft, ok := fi.exact[k]
			if !ok {
				ft, ok = fi.lower[strings.ToLower(k)]
			}
			name := joinPath(path, k)
			if !ok {
				if len(*warnings) < maxWarnings {
					*warnings = append(*warnings, fmt.Sprintf("unknown field %q was ignored", name))
				}
				continue
			}
			unknownFields(obj[k], ft, name, warnings)
		}
	case reflect.Slice:
		elem := t.Elem()
		for elem.Kind() == reflect.Pointer {
			elem = elem.Elem()
		}
		if elem.Kind() != reflect.Struct {
			return
		}
		var items []json.RawMessage
		if json.Unmarshal(data, &items) != nil {
			return
		}
		for i, item := range items {
			unknownFields(item, elem, fmt.Sprintf("%s[%d]", path, i), warnings)
		}
	}
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

package store

import (
	"encoding/json"
	"fmt"
	"time"
)

// nanos is how times are stored: unix nanoseconds, 0 for the zero time.
func nanos(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// fromNanos is the inverse of nanos; times come back in UTC.
func fromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// nullString stores "" as NULL (for UNIQUE columns where absent is allowed many times).
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// jsonText encodes v for a TEXT column; nil slices are stored as "[]".
func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("encode %T: %w", v, err)
	}
	if string(b) == "null" {
		return "[]", nil
	}
	return string(b), nil
}

// stringList encodes a list of strings; it cannot fail.
func stringList(v []string) string {
	if len(v) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(v) // a []string always marshals
	return string(b)
}

// parseStringList decodes a list of strings stored by stringList; empty
// lists come back nil.
func parseStringList(s string) ([]string, error) {
	if s == "" || s == "[]" {
		return nil, nil
	}
	var v []string
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, fmt.Errorf("decode string list: %w", err)
	}
	return v, nil
}

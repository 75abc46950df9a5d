package worker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
)

// Seed is a job's seed as it comes over the wire: the AI Horde sends a
// number, some servers a numeric string, and a client may have asked for
// any string. Non-numeric strings hash (FNV-1a) to a non-negative 32-bit
// integer so that one text always means one seed. Set is false when the
// payload had no seed (text jobs usually have none).
type Seed struct {
	Value int64
	Set   bool
}

// UnmarshalJSON accepts a number, a string or null.
func (s *Seed) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		*s = Seed{}
		return nil
	}
	if b[0] == '"' {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		*s = seedFromString(str)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	*s = seedFromString(n.String())
	if !s.Set {
		return fmt.Errorf("seed: %q is not a number", n.String())
	}
	return nil
}

// MarshalJSON writes the seed as a number, or null when not set.
func (s Seed) MarshalJSON() ([]byte, error) {
	if !s.Set {
		return []byte("null"), nil
	}
	return strconv.AppendInt(nil, s.Value, 10), nil
}

// seedFromString parses str as an integer (or a float with an integral
// value) and otherwise hashes it. The empty string is no seed.
func seedFromString(str string) Seed {
	str = strings.TrimSpace(str)
	if str == "" {
		return Seed{}
	}
	if v, err := strconv.ParseInt(str, 10, 64); err == nil {
		return Seed{Value: v, Set: true}
	}
	if f, err := strconv.ParseFloat(str, 64); err == nil && !math.IsInf(f, 0) && !math.IsNaN(f) &&
		f == math.Trunc(f) && math.Abs(f) < math.MaxInt64/2 {
		return Seed{Value: int64(f), Set: true}
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(str)) // hash.Hash writes never fail
	return Seed{Value: int64(h.Sum32() & math.MaxInt32), Set: true}
}

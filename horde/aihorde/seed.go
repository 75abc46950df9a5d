package aihorde

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"strconv"
	"strings"
)

// Seed is a job's seed in a pop payload. The AI Horde sends a decimal
// string (its ModelPayload declares seed a String), older servers a number,
// and a client may have asked for any string. Non-numeric strings hash (FNV-1a) to a non-negative 32-bit
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
		*s = ParseSeed(str)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	*s = ParseSeed(n.String())
	if !s.Set {
		return fmt.Errorf("seed: %q is not a number", n.String())
	}
	return nil
}

// MarshalJSON writes the seed as a decimal string, as the AI Horde does
// (horde_sdk, under horde-worker-reGen, rejects a JSON number there), or
// null when not set.
func (s Seed) MarshalJSON() ([]byte, error) {
	if !s.Set {
		return []byte("null"), nil
	}
	b := append([]byte{'"'}, strconv.AppendInt(nil, s.Value, 10)...)
	return append(b, '"'), nil
}

// SeedOf is the seed v, set.
func SeedOf(v int64) Seed { return Seed{Value: v, Set: true} }

// ParseSeed reads a seed as a client or a backend wrote it: str as an
// integer (or a float with an integral value), otherwise its FNV-1a hash.
// The empty string is no seed.
func ParseSeed(str string) Seed {
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

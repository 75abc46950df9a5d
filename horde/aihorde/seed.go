package aihorde

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// Seed is a job's seed in a pop payload. The AI Horde sends a decimal
// string (its ModelPayload declares seed a String), older servers a number,
// and a client may have asked for any string. Non-numeric strings become a
// number as the AI Horde turns them into one (SeedToInt), so that one text
// always means one seed, here and there. Set is false when the payload had
// no seed (text jobs usually have none).
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
// integer (or a float with an integral value), otherwise SeedToInt(str).
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
	return Seed{Value: SeedToInt(str), Set: true}
}

// seedLimit is 2³²: the AI Horde's seeds are below it.
var seedLimit = new(big.Int).Lsh(big.NewInt(1), 32)

// SeedToInt is the seed number the AI Horde makes of a request's seed text
// s (its waiting prompt's seed_to_int): s read as a decimal number when it
// is all digits, otherwise its UTF-8 bytes read as a little-endian number;
// then shifted right by 32 bits until it is below 2³². So "a cat" is 116
// and "-5" 13613 there and here. (Python's isdigit also takes non-ASCII
// digits; this reads those as text.)
func SeedToInt(s string) int64 {
	if len(s) > 0 && len(s) <= 18 && strings.TrimLeft(s, "0123456789") == "" {
		// The common case, a decimal seed, without big numbers: it fits an
		// int64, and shifting right by 32 until below 2³² is the same.
		v, _ := strconv.ParseInt(s, 10, 64)
		for v >= 1<<32 {
			v >>= 32
		}
		return v
	}
	n := new(big.Int)
	if s != "" && strings.TrimLeft(s, "0123456789") == "" {
		n.SetString(s, 10)
	} else {
		b := []byte(s)
		slices.Reverse(b) // big.Int reads big-endian
		n.SetBytes(b)
	}
	for n.Cmp(seedLimit) >= 0 {
		n.Rsh(n, 32)
	}
	return n.Int64()
}

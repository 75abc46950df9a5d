package horde

import (
	"hash/fnv"
	"math/rand/v2"
	"strconv"
	"strings"
)

// seedFromString turns an AI Horde seed string into a number: a decimal
// integer as is, any other text hashed (FNV-1a) into 32 bits, so that the
// same text always gives the same image. Empty gives 0; Submit replaces an
// empty seed with a random one before the request is stored, so that a
// restart keeps the seeds.
func seedFromString(s string) int64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	f := fnv.New32a()
	f.Write([]byte(s)) // a hash.Hash never fails to write
	return int64(f.Sum32())
}

// randomSeed returns a fresh seed in the 32-bit range every backend accepts.
func randomSeed() string {
	return strconv.FormatInt(int64(rand.Uint32()), 10)
}

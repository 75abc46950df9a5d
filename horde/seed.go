package horde

import (
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// seedFromString turns an AI Horde seed string into a number as the AI
// Horde does (aihorde.SeedToInt), so that the same text gives the same seed
// number, and so the same image, here and there. Blank gives 0; Submit
// replaces a blank seed with a random one before the request is stored, so
// that a restart keeps the seeds.
func seedFromString(s string) int64 {
	if strings.TrimSpace(s) == "" {
		return 0
	}
	return aihorde.SeedToInt(s)
}

// randomSeed returns a fresh seed in the 32-bit range every backend accepts.
func randomSeed() string {
	return strconv.FormatInt(int64(rand.Uint32()), 10)
}

// itemSeed is the seed of item i (from 0) of an image request of n items
// with seed base. With a seed_variation, as the AI Horde's
// get_job_payload: base + variation*current_n, current_n being the items
// not yet handed out before this one (n for the first item, 1 for the
// last), folded under 2^32 by shifting as there. Without one, hordebot
// gives base + i, so that the items of one request differ.
func itemSeed(base int64, variation, i, n int) int64 {
	if variation <= 0 {
		return base + int64(i)
	}
	s := base + int64(variation)*int64(n-i)
	for s >= 1<<32 {
		s >>= 32
	}
	return s
}

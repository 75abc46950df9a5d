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

package discordtest

import (
	"strconv"
	"time"
)

// discordEpochMillis is the Discord epoch (2015-01-01T00:00:00Z) in Unix milliseconds.
const discordEpochMillis = 1420070400000

// snowflakes hands out Discord-shaped ids: the timestamp in the high bits and a
// counter in the low 22 bits, so ids sort by creation order and encode a time
// that discordgo.SnowflakeTimestamp can read back. Callers hold Server.mu.
type snowflakes struct {
	lastMillis int64
	seq        int64
}

// next returns a new id for an object created at now.
func (g *snowflakes) next(now time.Time) string {
	ms := now.UnixMilli() - discordEpochMillis
	if ms < 0 {
		ms = 0
	}
	// Keep ids strictly increasing even when the clock stands still or steps back.
	if ms <= g.lastMillis {
		ms = g.lastMillis
		g.seq++
		if g.seq >= 1<<22 {
			ms++
			g.seq = 0
		}
	} else {
		g.seq = 0
	}
	g.lastMillis = ms
	return strconv.FormatInt(ms<<22|g.seq, 10)
}

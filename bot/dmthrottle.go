package bot

import (
	"sync"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// dmThrottle remembers whom the bot DMed a refusal, so that a member gets
// at most one such DM per period however many reactions are refused.
type dmThrottle struct {
	every time.Duration
	clock horde.Clock
	mu    sync.Mutex
	last  map[string]time.Time
}

func newDMThrottle(every time.Duration, clock horde.Clock) *dmThrottle {
	return &dmThrottle{every: every, clock: clock, last: map[string]time.Time{}}
}

// take reports whether userID may be DMed now, and if so records it.
func (t *dmThrottle) take(userID string) bool {
	now := t.clock.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if last, ok := t.last[userID]; ok && now.Sub(last) < t.every {
		return false
	}
	if len(t.last) > 10000 {
		for k, v := range t.last {
			if now.Sub(v) >= t.every {
				delete(t.last, k)
			}
		}
	}
	t.last[userID] = now
	return true
}

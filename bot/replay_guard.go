package bot

import (
	"sync"
	"time"
)

// maxReplayEntries bounds the interaction ids the HTTP endpoint remembers.
// Only validly signed POSTs are remembered, and each only until its signed
// timestamp goes stale, so this is far above what Discord sends in that
// window; past it the endpoint answers 503 rather than forget.
const maxReplayEntries = 1 << 20

// replayVerdict is what the guard says of an interaction id.
type replayVerdict int

const (
	replayFirst replayVerdict = iota // not seen before: handle it
	replaySeen                       // seen before: a replay
	replayFull                       // too many remembered: refuse for now
)

// replayGuard remembers the interaction ids the HTTP endpoint has accepted
// until their signature timestamps are stale: a captured POST replayed
// within that window is refused by id, one replayed later by its timestamp.
// It is per process: behind a load balancer a replay sent to another
// process is caught only by the timestamp (and by Discord, which accepts one
// initial response per interaction).
type replayGuard struct {
	mu        sync.Mutex
	seen      map[string]time.Time // id -> when its timestamp goes stale
	nextPrune int
}

func newReplayGuard() *replayGuard {
	return &replayGuard{seen: map[string]time.Time{}, nextPrune: 1024}
}

// first records id, remembered until expires, and says whether it is new.
func (g *replayGuard) first(id string, expires, now time.Time) replayVerdict {
	g.mu.Lock()
	defer g.mu.Unlock()
	if exp, ok := g.seen[id]; ok && now.Before(exp) {
		return replaySeen
	}
	if len(g.seen) >= g.nextPrune {
		for k, exp := range g.seen {
			if !now.Before(exp) {
				delete(g.seen, k)
			}
		}
		g.nextPrune = max(2*len(g.seen), 1024)
	}
	if len(g.seen) >= maxReplayEntries {
		return replayFull
	}
	g.seen[id] = expires
	return replayFirst
}

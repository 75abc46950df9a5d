package horde

import (
	"sync"
	"time"
)

// PopMessagesFor is how long a worker's active messages, read for its pops,
// are reused: every pop answer carries them and they seldom change. A
// message posted or deleted through this horde is seen by the next pop; one
// posted by another process sharing the database within PopMessagesFor.
const PopMessagesFor = 10 * time.Second

// popMessagesMax bounds the workers whose messages are kept; past it the
// cache starts afresh.
const popMessagesMax = 20000

// popMessages caches ActiveWorkerMessages per worker. A cached list is good
// until PopMessagesFor has passed or its first message expires, whichever
// comes first, so that expiry is exact.
type popMessages struct {
	mu       sync.Mutex
	gen      uint64 // bumped by every change: a read begun before one is not kept
	byWorker map[string]cachedMessages
}

type cachedMessages struct {
	until time.Time
	ms    []WorkerMessage
}

// get returns worker's cached messages at now, and the generation a fresh
// read must be put back with.
func (c *popMessages) get(worker string, now time.Time) ([]WorkerMessage, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.byWorker[worker]
	if !ok || !now.Before(e.until) {
		return nil, false, c.gen
	}
	return e.ms, true, c.gen
}

// put keeps ms, read at now, unless a change came after the read began (gen).
func (c *popMessages) put(worker string, ms []WorkerMessage, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.byWorker == nil || len(c.byWorker) >= popMessagesMax {
		c.byWorker = map[string]cachedMessages{}
	}
	until := now.Add(PopMessagesFor)
	for _, m := range ms {
		if m.Expiry.Before(until) {
			until = m.Expiry
		}
	}
	c.byWorker[worker] = cachedMessages{until: until, ms: ms}
}

// changed forgets every cached list: a message was posted or deleted.
func (c *popMessages) changed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.byWorker = nil
}

package web

import (
	"sync"
	"time"
)

// pageCache keeps rendered public pages for a few seconds: a page read by
// many at once is rendered once per period, and a flood of one page costs
// no database reads. It holds at most max pages; when full it forgets them
// all, so that a flood of distinct URLs (unknown names) cannot grow it.
type pageCache struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	pages map[string]cachedPage
}

type cachedPage struct {
	body   []byte
	status int
	until  time.Time
}

func newPageCache(ttl time.Duration, max int) *pageCache {
	return &pageCache{ttl: ttl, max: max, pages: map[string]cachedPage{}}
}

func (c *pageCache) get(key string, now time.Time) ([]byte, int, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.pages[key]
	if !ok || !now.Before(p.until) {
		return nil, 0, false
	}
	return p.body, p.status, true
}

func (c *pageCache) put(key string, body []byte, status int, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pages) >= c.max {
		clear(c.pages)
	}
	c.pages[key] = cachedPage{body: body, status: status, until: now.Add(c.ttl)}
}

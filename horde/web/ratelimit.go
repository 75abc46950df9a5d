package web

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ipLimits is a token bucket per client address for the pages that reach
// the database. It remembers at most maxIPs addresses; past that it starts
// afresh, so a flood from many addresses cannot grow it without bound.
type ipLimits struct {
	mu    sync.Mutex
	rate  rate.Limit
	burst int
	byIP  map[string]*rate.Limiter
}

const maxIPs = 10000

func newIPLimits(perSecond float64, burst int) *ipLimits {
	return &ipLimits{rate: rate.Limit(perSecond), burst: burst, byIP: map[string]*rate.Limiter{}}
}

func (l *ipLimits) allow(ip string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.byIP[ip]
	if lim == nil {
		if len(l.byIP) >= maxIPs {
			clear(l.byIP)
		}
		lim = rate.NewLimiter(l.rate, l.burst)
		l.byIP[ip] = lim
	}
	return lim.AllowN(now, 1)
}

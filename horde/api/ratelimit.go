package api

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// RateLimit is a token bucket: Rate requests per second on average, bursts
// of up to Burst. A zero RateLimit takes the default; Rate rate.Inf disables it.
type RateLimit struct {
	Rate  rate.Limit
	Burst int
}

// Default limits: generous for a worker popping every second with many
// threads, tight enough that one client cannot starve the others.
var (
	DefaultKeyLimit = RateLimit{Rate: 10, Burst: 40}
	DefaultIPLimit  = RateLimit{Rate: 20, Burst: 80}
)

// sweepEvery is how many new limiters are created between two sweeps of
// the idle ones.
const sweepEvery = 1024

// limiters holds one token bucket per key (an API key hash or a client IP).
// A bucket that is full again behaves exactly like a new one, so sweeps drop
// full buckets: memory stays proportional to the clients being throttled.
type limiters struct {
	limit RateLimit

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
	created int
}

func newLimiters(l RateLimit, def RateLimit) *limiters {
	if l.Rate == 0 && l.Burst == 0 {
		l = def
	}
	if l.Burst < 1 {
		l.Burst = 1
	}
	return &limiters{limit: l, buckets: map[string]*rate.Limiter{}}
}

// allow takes one token from key's bucket at now. When none is left it
// returns false and how long until one is.
func (ls *limiters) allow(key string, now time.Time) (bool, time.Duration) {
	if ls.limit.Rate == rate.Inf {
		return true, 0
	}
	ls.mu.Lock()
	defer ls.mu.Unlock()
	lim, ok := ls.buckets[key]
	if !ok {
		ls.created++
		if ls.created%sweepEvery == 0 {
			ls.sweep(now)
		}
		lim = rate.NewLimiter(ls.limit.Rate, ls.limit.Burst)
		ls.buckets[key] = lim
	}
	res := lim.ReserveN(now, 1)
	if !res.OK() {
		return false, time.Second
	}
	if d := res.DelayFrom(now); d > 0 {
		res.CancelAt(now)
		return false, d
	}
	return true, 0
}

// sweep drops the buckets that have refilled; ls.mu is held.
func (ls *limiters) sweep(now time.Time) {
	full := float64(ls.limit.Burst)
	for k, lim := range ls.buckets {
		if lim.TokensAt(now) >= full {
			delete(ls.buckets, k)
		}
	}
}

// retryAfterSeconds is the Retry-After value for a wait of d: whole seconds,
// rounded up, at least 1.
func retryAfterSeconds(d time.Duration) int {
	s := int(math.Ceil(d.Seconds()))
	if s < 1 {
		return 1
	}
	return s
}

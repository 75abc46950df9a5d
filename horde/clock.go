package horde

import "time"

// Clock tells the time. Production uses SystemClock; tests use a fake so that
// TTLs, expiry and staleness are tested without sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }

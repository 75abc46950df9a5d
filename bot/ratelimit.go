package bot

import (
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hordebot/hordebot/horde"
)

// limiterIdle is how long an unused member's or guild's bucket is kept.
const limiterIdle = 30 * time.Minute

// limiter applies the per-member and per-guild command rate limits. Time
// comes from the injected clock so that tests need no sleeping.
type limiter struct {
	userRate, guildRate   rate.Limit
	userBurst, guildBurst int
	userOff, guildOff     bool
	perMinuteUser         float64
	clock                 horde.Clock

	mu     sync.Mutex
	users  map[string]*bucket
	guilds map[string]*bucket
	calls  int
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newLimiter(userPerMin float64, userBurst int, guildPerMin float64, guildBurst int, clock horde.Clock) *limiter {
	return &limiter{
		userRate: rate.Limit(userPerMin / 60), guildRate: rate.Limit(guildPerMin / 60),
		userBurst: userBurst, guildBurst: guildBurst,
		userOff: userPerMin < 0, guildOff: guildPerMin < 0, perMinuteUser: userPerMin,
		clock: clock, users: map[string]*bucket{}, guilds: map[string]*bucket{},
	}
}

// allow takes one token from the member's bucket and one from the guild's
// (none from either unless both have one). A refusal is a KindRateLimited
// error saying when to try again.
func (l *limiter) allow(userID, guildID string) error {
	now := l.clock.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	if l.calls%1024 == 0 {
		l.prune(now)
	}
	var ur *rate.Reservation
	if !l.userOff {
		ur = l.get(l.users, userID, l.userRate, l.userBurst, now).ReserveN(now, 1)
		if d := ur.DelayFrom(now); !ur.OK() || d > 0 {
			ur.CancelAt(now)
			return horde.Errorf(horde.KindRateLimited, "TooManyCommands",
				"Slow down: you can use %s commands a minute. Try again in %s.", trimFloat(l.perMinuteUser), roundUp(d)).
				With("PerMinute", trimFloat(l.perMinuteUser)).With("Wait", waitOf(d))
		}
	}
	if !l.guildOff && guildID != "" {
		gr := l.get(l.guilds, guildID, l.guildRate, l.guildBurst, now).ReserveN(now, 1)
		if d := gr.DelayFrom(now); !gr.OK() || d > 0 {
			gr.CancelAt(now)
			if ur != nil {
				ur.CancelAt(now)
			}
			return horde.Errorf(horde.KindRateLimited, "GuildBusy",
				"This server is sending the bot a lot of commands right now. Try again in %s.", roundUp(d)).
				With("Wait", waitOf(d))
		}
	}
	return nil
}

func (l *limiter) get(m map[string]*bucket, key string, r rate.Limit, burst int, now time.Time) *rate.Limiter {
	b, ok := m[key]
	if !ok {
		b = &bucket{lim: rate.NewLimiter(r, burst)}
		m[key] = b
	}
	b.seen = now
	return b.lim
}

// prune drops buckets unused for limiterIdle (by then they are full again,
// so forgetting them changes nothing).
func (l *limiter) prune(now time.Time) {
	for _, m := range []map[string]*bucket{l.users, l.guilds} {
		for k, b := range m {
			if now.Sub(b.seen) > limiterIdle {
				delete(m, k)
			}
		}
	}
}

func roundUp(d time.Duration) string {
	if d <= 0 || d == rate.InfDuration {
		return "a minute"
	}
	return fmt.Sprintf("%d s", int(math.Ceil(d.Seconds())))
}

// waitOf is how long to wait, in whole seconds (a minute when unknown),
// for the message's {{.Wait}} (worded by the member's printer).
func waitOf(d time.Duration) time.Duration {
	if d <= 0 || d == rate.InfDuration {
		return time.Minute
	}
	return time.Duration(math.Ceil(d.Seconds())) * time.Second
}

func trimFloat(f float64) string {
	if f == math.Trunc(f) {
		return fmt.Sprintf("%d", int64(f))
	}
	return fmt.Sprintf("%.1f", f)
}

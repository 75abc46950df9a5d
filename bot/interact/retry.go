package interact

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Retrier runs Discord REST calls with retries: a 429 waits the retry_after
// Discord asked for, a 5xx or a network error backs off exponentially. Other
// errors (4xx) are returned at once: repeating them cannot help.
type Retrier struct {
	Attempts int           // total tries; default 5
	Base     time.Duration // first backoff; default 250ms, doubled each time
	Max      time.Duration // longest single wait; default 10s
}

func (r Retrier) withDefaults() Retrier {
	if r.Attempts <= 0 {
		r.Attempts = 5
	}
	if r.Base <= 0 {
		r.Base = 250 * time.Millisecond
	}
	if r.Max <= 0 {
		r.Max = 10 * time.Second
	}
	return r
}

// Do calls fn until it succeeds, fails permanently, the attempts run out or
// ctx ends. fn receives the request options to pass to discordgo: they bind
// the request to ctx and turn off discordgo's own blocking 429 retry so that
// the wait here honours ctx.
func (r Retrier) Do(ctx context.Context, what string, fn func(opts ...discordgo.RequestOption) error) error {
	r = r.withDefaults()
	opts := []discordgo.RequestOption{discordgo.WithContext(ctx), discordgo.WithRetryOnRatelimit(false)}
	backoff := r.Base
	var err error
	for attempt := 1; ; attempt++ {
		err = fn(opts...)
		if err == nil {
			return nil
		}
		wait, retry := r.retryAfter(err, backoff)
		if !retry || attempt >= r.Attempts {
			break
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s: %w (gave up: %w)", what, err, ctx.Err())
		case <-t.C:
		}
		backoff = min(backoff*2, r.Max)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// retryAfter says whether err is worth another try and how long to wait first.
func (r Retrier) retryAfter(err error, backoff time.Duration) (time.Duration, bool) {
	var rl *discordgo.RateLimitError
	if errors.As(err, &rl) && rl.RateLimit != nil && rl.TooManyRequests != nil {
		return min(max(rl.RetryAfter, 10*time.Millisecond), r.Max), true
	}
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Response != nil {
		code := re.Response.StatusCode
		if code == 429 {
			return backoff, true
		}
		return backoff, code >= 500
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return backoff, true
	}
	return 0, false
}

// IsNotFound reports whether err is Discord's 404 (an unknown message,
// channel or webhook): the thing is gone and trying again will not bring it back.
func IsNotFound(err error) bool {
	var re *discordgo.RESTError
	return errors.As(err, &re) && re.Response != nil && re.Response.StatusCode == 404
}

// RESTCode is the Discord JSON error code of a REST error (discordgo's
// ErrCode* constants), or 0 when err carries none.
func RESTCode(err error) int {
	var re *discordgo.RESTError
	if errors.As(err, &re) && re.Message != nil {
		return re.Message.Code
	}
	return 0
}

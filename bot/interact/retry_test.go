package interact_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact"
)

func restErr(code int) error {
	return &discordgo.RESTError{Response: &http.Response{StatusCode: code}}
}

func TestRetrier(t *testing.T) {
	rl := &discordgo.RateLimitError{RateLimit: &discordgo.RateLimit{TooManyRequests: &discordgo.TooManyRequests{RetryAfter: time.Millisecond}}}
	tests := []struct {
		name      string
		errs      []error // returned by successive calls; then nil
		wantCalls int
		wantErr   bool
	}{
		{"success at once", nil, 1, false},
		{"429 then success", []error{rl}, 2, false},
		{"5xx twice then success", []error{restErr(500), restErr(503)}, 3, false},
		{"4xx is not retried", []error{restErr(403)}, 1, true},
		{"gives up after the attempts", []error{restErr(500), restErr(500), restErr(500), restErr(500)}, 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			r := interact.Retrier{Attempts: 3, Base: time.Microsecond}
			err := r.Do(context.Background(), "test", func(opts ...discordgo.RequestOption) error {
				calls++
				if len(opts) == 0 {
					t.Error("no request options passed")
				}
				if calls <= len(tt.errs) {
					return tt.errs[calls-1]
				}
				return nil
			})
			if calls != tt.wantCalls || (err != nil) != tt.wantErr {
				t.Fatalf("calls %d err %v, want %d calls, error %v", calls, err, tt.wantCalls, tt.wantErr)
			}
		})
	}
	t.Run("a cancelled context stops the waiting", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		r := interact.Retrier{Attempts: 5, Base: time.Hour}
		err := r.Do(ctx, "test", func(...discordgo.RequestOption) error { return restErr(502) })
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err %v, want context.Canceled", err)
		}
	})
}

// Package discordtesting holds the helpers that tie a discordtest fake
// Discord to a test's lifetime (testing.TB). It is imported only by tests:
// keeping these helpers out of discordtest lets the demo, which runs the
// fake inside the production binary, link no testing code.
package discordtesting

import (
	"context"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/discordtest"
)

// New starts a fake Discord (discordtest.New) and closes it when the test ends.
func New(tb testing.TB, opts ...discordtest.Option) *discordtest.Server {
	tb.Helper()
	srv := discordtest.New(opts...)
	tb.Cleanup(srv.Close)
	return srv
}

// Session returns an unopened session with the fake's token, wired like
// srv.NewSession, and registers its Close with tb.Cleanup (after
// srv.WaitHeartbeat, see discordtest's doc). Create the Server and register
// its Close before calling Session so the session closes first.
func Session(tb testing.TB, srv *discordtest.Server) *discordgo.Session {
	tb.Helper()
	sess, err := srv.NewSession(srv.Token())
	if err != nil {
		tb.Fatalf("discordtest: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.WaitHeartbeat(ctx); err != nil {
			tb.Logf("discordtest: closing session before its first heartbeat: %v", err)
		}
		_ = sess.Close()
	})
	return sess
}

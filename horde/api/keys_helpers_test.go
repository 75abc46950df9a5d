package api_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/imagecheck"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// newEnvWith starts a server like newEnv, with options that build may take
// from the store, the horde and the clock (rate limits off unless set).
// cfg, when not nil, adjusts the horde's config first.
func newEnvWith(t testing.TB, cfg func(*horde.Config), build func(st *store.Store, h *horde.Horde, clk *storetest.Clock) api.Options) *env {
	t.Helper()
	ctx := context.Background()
	clk := newFakeClock()
	st := storetest.MustOpen(t, t.TempDir(), clk)
	hc := horde.Config{Clock: clk, Logger: quietLogger(), CheckImage: imagecheck.ForHorde, Queue: st.SharedQueue()}
	if cfg != nil {
		cfg(&hc)
	}
	h, err := horde.New(ctx, st, hc)
	if err != nil {
		t.Fatalf("new horde: %v", err)
	}
	opt := build(st, h, clk)
	opt.Logger = quietLogger()
	if opt.KeyLimit == (api.RateLimit{}) {
		opt.KeyLimit = unlimited
	}
	if opt.IPLimit == (api.RateLimit{}) {
		opt.IPLimit = unlimited
	}
	opt.Clock = clk
	srv := httptest.NewServer(api.New(h, opt))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, h: h, st: st, clock: clk}
}

// kudosEngine is a real kudos engine on st with the default rules.
func kudosEngine(t testing.TB, st *store.Store, clk *storetest.Clock) *kudos.Engine {
	t.Helper()
	k, err := kudos.New(st, kudos.Config{}, clk)
	if err != nil {
		t.Fatalf("new kudos engine: %v", err)
	}
	return k
}

// balance is a user's kudos.
func (e *env) balance(userID int64) int64 {
	e.t.Helper()
	b, err := e.st.Balance(context.Background(), userID)
	if err != nil {
		e.t.Fatalf("balance of %d: %v", userID, err)
	}
	return b
}

// wantRC fails the test unless r is an error with status and rc.
func wantRC(t testing.TB, r response, status int, rc string) {
	t.Helper()
	m := wantError(t, r, status, "")
	if rc != "" && m["rc"] != rc {
		t.Errorf("rc = %v, want %s; body %s", m["rc"], rc, r.body)
	}
}

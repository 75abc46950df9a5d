package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/kudos"
)

// transferCall is one call the recording Transferer saw.
type transferCall struct {
	from   int64
	to     int64
	amount int64
	key    string
}

// recordingTransfers is a Transferer that records its calls and refuses
// amounts over limit, as the kudos engine refuses an insufficient balance.
type recordingTransfers struct {
	mu    sync.Mutex
	calls []transferCall
	limit int64
}

func (r *recordingTransfers) Transfer(_ context.Context, from horde.User, to int64, amount int64, key string) error {
	if amount > r.limit {
		return kudos.ErrInsufficient
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, transferCall{from.ID, to, amount, key})
	return nil
}

func TestKudosTransfer(t *testing.T) {
	rec := &recordingTransfers{limit: 100}
	e := newEnv(t, api.Options{Transfers: rec})
	alice, aliceKey := e.user("alice")
	bob, _ := e.user("bob")
	bobName := fmt.Sprintf("bob#%d", bob.ID)

	tests := []struct {
		name    string
		key     string
		body    any
		headers []string
		status  int
		rc      string
	}{
		{"transfers", aliceKey, map[string]any{"username": bobName, "amount": 10}, []string{"Idempotency-Key", "abc"}, http.StatusOK, ""},
		{"refusal is 400 with the AI Horde's rc", aliceKey, map[string]any{"username": bobName, "amount": 1000}, nil, http.StatusBadRequest, "KudosTransferNotEnough"},
		{"unknown user id is 404", aliceKey, map[string]any{"username": "bob#987654", "amount": 1}, nil, http.StatusNotFound, ""},
		{"name not matching the id is 404", aliceKey, map[string]any{"username": fmt.Sprintf("carol#%d", bob.ID), "amount": 1}, nil, http.StatusNotFound, ""},
		{"username without an id is 400", aliceKey, map[string]any{"username": "bob", "amount": 1}, nil, http.StatusBadRequest, ""},
		{"zero amount is 400", aliceKey, map[string]any{"username": bobName, "amount": 0}, nil, http.StatusBadRequest, ""},
		{"amount as a string is 400", aliceKey, map[string]any{"username": bobName, "amount": "5"}, nil, http.StatusBadRequest, ""},
		{"unknown key is 401", "bad", map[string]any{"username": bobName, "amount": 1}, nil, http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/api/v2/kudos/transfer", tt.key, tt.body, tt.headers...)
			if tt.status != http.StatusOK {
				m := wantError(t, r, tt.status, "")
				if tt.rc != "" && m["rc"] != tt.rc {
					t.Errorf("rc = %v, want %s", m["rc"], tt.rc)
				}
				return
			}
			wantStatus(t, r, http.StatusOK)
			if got := r.object(t)["transferred"]; got != 10.0 {
				t.Errorf("transferred = %v, want 10", got)
			}
		})
	}
	if len(rec.calls) != 1 {
		t.Fatalf("transfer calls = %+v, want exactly the one that passed", rec.calls)
	}
	c := rec.calls[0]
	if c.from != alice.ID || c.to != bob.ID || c.amount != 10 || !strings.HasSuffix(c.key, ":abc") {
		t.Errorf("call = %+v", c)
	}

	// Without an Idempotency-Key every call gets a fresh key.
	for range 2 {
		wantStatus(t, e.do("POST", "/api/v2/kudos/transfer", aliceKey, map[string]any{"username": bobName, "amount": 1}), http.StatusOK)
	}
	if rec.calls[1].key == rec.calls[2].key {
		t.Errorf("two transfers without Idempotency-Key shared key %q", rec.calls[1].key)
	}
}

// TestKudosTransferDisabled: transfers switched off are a 403 saying so,
// not a 503 "try again later" with a Retry-After (a feature that is off is
// Disabled, never Unavailable; it was a 503 Retry-After 60).
func TestKudosTransferDisabled(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("alice")
	r := e.do("POST", "/api/v2/kudos/transfer", key, map[string]any{"username": "bob#1", "amount": 1})
	m := wantError(t, r, http.StatusForbidden, "not enabled")
	if m["rc"] != "TransfersDisabled" {
		t.Errorf("rc = %v, want TransfersDisabled", m["rc"])
	}
	if ra := r.header.Get("Retry-After"); ra != "" {
		t.Errorf("Retry-After = %q: retrying does not turn a feature on", ra)
	}
}

// TestKudosTransferIdempotencyKey: the same Idempotency-Key with the same
// username and amount answers as the first call and moves nothing more;
// with another amount or username it is 409 IdempotencyKeyConflict and moves
// nothing (it used to be a 200 while nothing moved).
func TestKudosTransferIdempotencyKey(t *testing.T) {
	tr := &engineTransfers{} // its engine is set once the env's store exists, before any request
	e := newEnv(t, api.Options{Transfers: tr})
	eng, err := kudos.New(e.st, kudos.DefaultConfig(), e.clock, kudos.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	tr.k = eng
	ctx := context.Background()
	alice, aliceKey := e.user("alice")
	bob, _ := e.user("bob")
	carol, _ := e.user("carol")
	if _, err := e.st.Apply(ctx, kudos.Entry{UserID: alice.ID, Delta: 100, Kind: kudos.KindAdmin, Reason: "test", Key: "fund", Floor: kudos.NoFloor, At: e.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	bobName, carolName := fmt.Sprintf("bob#%d", bob.ID), fmt.Sprintf("carol#%d", carol.ID)
	transfer := func(to string, amount int64) response {
		return e.do("POST", "/api/v2/kudos/transfer", aliceKey, map[string]any{"username": to, "amount": amount}, "Idempotency-Key", "once")
	}
	r := transfer(bobName, 10)
	wantStatus(t, r, http.StatusOK)

	tests := []struct {
		name   string
		to     string
		amount int64
		status int
	}{
		{"same content answers as the first call", bobName, 10, http.StatusOK},
		{"another amount is 409", bobName, 20, http.StatusConflict},
		{"another username is 409", carolName, 10, http.StatusConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := transfer(tt.to, tt.amount)
			if tt.status == http.StatusOK {
				wantStatus(t, r, http.StatusOK)
				if got := r.object(t)["transferred"]; got != 10.0 {
					t.Errorf("transferred = %v, want the first call's 10", got)
				}
			} else if m := wantError(t, r, tt.status, ""); m["rc"] != "IdempotencyKeyConflict" {
				t.Errorf("rc = %v, want IdempotencyKeyConflict", m["rc"])
			}
			for _, b := range []struct {
				id   int64
				want int64
			}{{alice.ID, 90}, {bob.ID, 10}, {carol.ID, 0}} {
				if got, err := e.st.Balance(ctx, b.id); err != nil || got != b.want {
					t.Errorf("balance of user %d = %d (%v), want %d", b.id, got, err, b.want)
				}
			}
		})
	}
}

package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/errs"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store/storetest"
)

// failingTransfers is a Transferer that fails every transfer with err: a
// seam to send any domain error through the API's one mapping.
type failingTransfers struct{ err error }

func (f failingTransfers) Transfer(context.Context, horde.User, int64, int64, string) error {
	return f.err
}

// TestErrorKindTable: every kind of the one error model answers with its
// status and rc as a client sees them, kudos refusals included (their code
// is the rc), a 503 says when to retry, and an internal error shows neither
// its text nor its code. "kudos are not enabled" is Disabled, not
// Unavailable: 403 without Retry-After (it was a 503 Retry-After 60); an
// invalid ledger entry is Internal (it was a non-retryable 400).
func TestErrorKindTable(t *testing.T) {
	secret := errors.New("SQLITE_FULL at /srv/secret/hordebot.db")
	tests := []struct {
		name       string
		err        error
		status     int
		rc         string
		message    string // the message must contain it
		retryAfter bool
	}{
		{"invalid", errs.Invalidf("amount", "amount too large"), 400, "BadRequest", "amount too large", false},
		{"unauthorized", errs.Errorf(errs.KindUnauthorized, "InvalidAPIKey", "no such key"), 401, "InvalidAPIKey", "no such key", false},
		{"forbidden", errs.Errorf(errs.KindForbidden, "", "not yours"), 403, "Forbidden", "not yours", false},
		{"not found", errs.NotFoundf("", "no such user"), 404, "NotFound", "no such user", false},
		{"conflict", errs.Errorf(errs.KindConflict, "", "already submitted"), 400, "DuplicateGen", "already submitted", false},
		{"rate limited", errs.Errorf(errs.KindRateLimited, "", "slow down"), 429, "TooManyRequests", "slow down", false},
		{"kudos upfront", errs.Errorf(errs.KindKudosUpfront, "", "missing 5 kudos"), 403, "KudosUpfront", "missing 5 kudos", false},
		{"disabled", errs.Errorf(errs.KindDisabled, "", "transfers are off"), 403, "FeatureDisabled", "transfers are off", false},
		{"unavailable", &errs.Error{Kind: errs.KindUnavailable, Message: "storage is unavailable", Err: secret}, 503, "ServiceUnavailable", "storage is unavailable", true},
		{"internal", fmt.Errorf("apply: %w", secret), 500, "InternalServerError", "internal error", false},
		// Kudos refusals: their kind sets the status, their code the rc, in
		// the AI Horde's name where it has the case.
		{"refusal insufficient", kudos.ErrInsufficient, 400, "KudosTransferNotEnough", "not enough kudos", false},
		{"refusal self", kudos.Refuse(kudos.RefuseSelf, "you cannot give kudos to yourself"), 400, "KudosTransferToSelf", "yourself", false},
		{"refusal amount", kudos.Refuse(kudos.RefuseAmount, "positive"), 400, "NegativeKudosTransfer", "positive", false},
		{"refusal flagged receiver", kudos.Refuse(kudos.RefuseFlagged, "that account is flagged"), 403, "TargetAccountFlagged", "flagged", false},
		{"refusal anonymous receiver", kudos.Refuse(kudos.RefuseAnonymous, "not to the anonymous user"), 403, "KudosTransferToAnon", "anonymous", false},
		{"refusal ping-pong", kudos.Refuse(kudos.RefusePingPong, "wait a little"), 403, "TooFastKudosTransfers", "wait", false},
		{"refusal cap", kudos.Refuse(kudos.RefuseGiverCap, "today's limit"), 429, kudos.RefuseGiverCap, "limit", false},
		{"refusal unknown user", kudos.Refuse(kudos.RefuseUnknownUser, "no kudos account"), 404, "UserNotFound", "account", false},
		{"refusal not enabled", kudos.Refuse(kudos.RefuseNotEnabled, "art awards are off"), 403, kudos.RefuseNotEnabled, "off", false},
		{"reused idempotency key", kudos.KeyReused(kudos.TransferRecord{Amount: 3}), 409, "IdempotencyKeyConflict", "idempotency key", false},
		{"invalid ledger entry is internal", errs.Internalf("InvalidLedgerEntry", secret, "invalid ledger entry"), 500, "InternalServerError", "internal error", false},
	}
	seen := map[errs.Kind]bool{}
	for _, tt := range tests {
		seen[errs.KindOf(tt.err)] = true
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, api.Options{Transfers: failingTransfers{tt.err}})
			_, key := e.user("alice")
			bob, _ := e.user("bob")
			r := e.do("POST", "/api/v2/kudos/transfer", key, map[string]any{"username": fmt.Sprintf("bob#%d", bob.ID), "amount": 1})
			m := wantError(t, r, tt.status, "")
			if m["rc"] != tt.rc {
				t.Errorf("rc = %v, want %s", m["rc"], tt.rc)
			}
			msg, _ := m["message"].(string)
			if !strings.Contains(msg, tt.message) {
				t.Errorf("message %q, want it to contain %q", msg, tt.message)
			}
			if strings.Contains(string(r.body), "/srv/secret") {
				t.Errorf("the body leaks the cause: %s", r.body)
			}
			if got := r.header.Get("Retry-After"); (got != "") != tt.retryAfter {
				t.Errorf("Retry-After = %q, want one: %v", got, tt.retryAfter)
			}
		})
	}
	for _, k := range errs.Kinds() {
		if !seen[k] {
			t.Errorf("kind %s has no row in the table test", k)
		}
	}
}

// TestClientGoneIsNotAnError: a request whose client hung up before its
// answer (a worker stopping in the middle of a pop) is logged as such, not
// as a failure of the server (it was a 500 and an error line).
func TestClientGoneIsNotAnError(t *testing.T) {
	var logs strings.Builder
	clk := newFakeClock()
	st := storetest.MustOpen(t, t.TempDir(), clk)
	h, err := horde.New(context.Background(), st, horde.Config{Clock: clk, Logger: quietLogger(), Queue: st.SharedQueue()})
	if err != nil {
		t.Fatal(err)
	}
	_, key, err := h.CreateUser(context.Background(), "ann")
	if err != nil {
		t.Fatal(err)
	}
	handler := api.New(h, api.Options{Clock: clk, KeyLimit: unlimited, IPLimit: unlimited,
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	body, _ := json.Marshal(imageRequest(nil))
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the client is gone before the request is stored
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, "/api/v2/generate/async", bytes.NewReader(body))
	req.Header.Set("apikey", key)
	req.Header.Set("Client-Agent", "hordebot-test:1:test")
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, req)
	if rec.Code != api.StatusClientClosed {
		t.Fatalf("status %d, want %d (client closed the request)", rec.Code, api.StatusClientClosed)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("a request its client abandoned was logged as an error:\n%s", logs.String())
	}
}

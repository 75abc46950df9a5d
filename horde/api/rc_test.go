package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
)

// TestRCsAreTheAIHordes holds the cases whose rc hordebot used to name its
// own way, each with the AI Horde's rc (README_return_codes.md) as a client
// sees it: the status, and the rc a client generated from the AI Horde's
// swagger (its KNOWN_RC enum) parses.
func TestRCsAreTheAIHordes(t *testing.T) {
	params := func(kv ...any) map[string]any {
		p := map[string]any{"steps": 20, "width": 512, "height": 512}
		for i := 0; i+1 < len(kv); i += 2 {
			p[kv[i].(string)] = kv[i+1]
		}
		return map[string]any{"params": p}
	}
	sixLoras := []any{}
	for range 6 {
		sixLoras = append(sixLoras, map[string]any{"name": "a-lora"})
	}
	manyStops := []string{}
	for range 33 {
		manyStops = append(manyStops, "\n")
	}
	tests := []struct {
		name   string
		path   string
		worker bool // sent with the worker owner's key
		body   any
		status int
		rc     string
		was    string // hordebot's rc before
	}{
		{"submit of an unknown job", "/api/v2/generate/submit", true,
			map[string]any{"id": "00000000-0000-0000-0000-000000000000", "generation": "R2", "seed": 1}, 404, "InvalidJobID", "JobNotFound"},
		{"text submit of an unknown job", "/api/v2/generate/text/submit", true,
			map[string]any{"id": "00000000-0000-0000-0000-000000000000", "generation": "hi"}, 404, "InvalidJobID", "JobNotFound"},
		{"width not a multiple of 64", "/api/v2/generate/async", false, imageRequest(params("width", 500)), 400, "InvalidSize", "ValidationError"},
		{"too many steps", "/api/v2/generate/async", false, imageRequest(params("steps", 501)), 400, "TooManySteps", "ValidationError"},
		{"no prompt", "/api/v2/generate/async", false, imageRequest(map[string]any{"prompt": " "}), 400, "MissingPrompt", "ValidationError"},
		{"prompt too long", "/api/v2/generate/async", false, imageRequest(map[string]any{"prompt": strings.Repeat("a", 10001)}), 400, "InvalidPromptSize", "ValidationError"},
		{"too many loras", "/api/v2/generate/async", false, imageRequest(params("loras", sixLoras)), 400, "TooManyLoras", "ValidationError"},
		{"too many stop sequences", "/api/v2/generate/text/async", false,
			textRequest(map[string]any{"params": map[string]any{"stop_sequence": manyStops}}), 400, "TooManyStopSequences", "ValidationError"},
		{"a stop sequence too long", "/api/v2/generate/text/async", false,
			textRequest(map[string]any{"params": map[string]any{"stop_sequence": []string{strings.Repeat("x", 257)}}}), 400, "ExcessiveStopSequence", "ValidationError"},
		{"a wrong type", "/api/v2/generate/async", false, imageRequest(params("steps", "many")), 400, "BadRequest", "ValidationError"},
		{"malformed JSON", "/api/v2/generate/async", false, `{"prompt":`, 400, "BadRequest", "ValidationError"},
		{"a text pop under an image worker's name", "/api/v2/generate/text/pop", true, textPop("gpu-1"), 400, "PolymorphicNameConflict", "WrongWorkerType"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, api.Options{})
			_, key := e.user("alice")
			owner, wkey := e.user("owner")
			if _, _, err := e.h.RegisterWorker(context.Background(), owner, "gpu-1", horde.KindImage); err != nil {
				t.Fatal(err)
			}
			if !tt.worker {
				wkey = key
			}
			r := e.do("POST", tt.path, wkey, tt.body)
			m := wantError(t, r, tt.status, "")
			if m["rc"] != tt.rc {
				t.Errorf("rc = %v, want the AI Horde's %s (hordebot used to say %s): %s", m["rc"], tt.rc, tt.was, r.body)
			}
		})
	}
}

// TestRCRenames holds the table of hordebot codes renamed on the wire.
func TestRCRenames(t *testing.T) {
	for code, want := range map[string]string{
		"ValidationError": "BadRequest", "JobNotFound": "InvalidJobID", "JobNotProcessing": "AbortedGen",
		"WorkerNameTaken": "WorkerNameAlreadyExists", "WrongWorkerType": "PolymorphicNameConflict",
		"insufficient": "KudosTransferNotEnough", "self": "KudosTransferToSelf", "ping_pong": "TooFastKudosTransfers",
		"unknown_user": "UserNotFound", "key_reused": "IdempotencyKeyConflict",
		"DuplicateGen": "DuplicateGen", "BodyTooLarge": "BodyTooLarge", // unchanged: the AI Horde's, or hordebot's own
	} {
		if got := api.RC(code); got != want {
			t.Errorf("RC(%q) = %q, want %q", code, got, want)
		}
	}
}

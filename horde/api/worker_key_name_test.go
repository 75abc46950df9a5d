package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
)

// TestWorkerKeyPopUnderAnotherNameSaysTheName checks that a key from
// /worker register popping under another name (a reGen or KoboldAI bridge
// configured with another worker name) gets a 403 that names the expected
// name and the setting to change, on both pop routes. It used to say only
// "this API key may only pop as its own worker".
func TestWorkerKeyPopUnderAnotherNameSaysTheName(t *testing.T) {
	tests := []struct {
		name string
		kind horde.RequestKind
		path string
		body map[string]any
	}{
		{"image pop (reGen)", horde.KindImage, "/api/v2/generate/pop", imagePop("my-dreamer", nil)},
		{"text pop (KoboldAI bridge)", horde.KindText, "/api/v2/generate/text/pop", textPop("my-scribe")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, api.Options{})
			owner, _ := e.user("alice")
			_, wkey, err := e.h.RegisterWorker(context.Background(), owner, "alice-rig", tt.kind)
			if err != nil {
				t.Fatalf("register worker: %v", err)
			}
			m := wantError(t, e.do("POST", tt.path, wkey, tt.body), http.StatusForbidden, "")
			msg, _ := m["message"].(string)
			if m["rc"] != "WrongCredentials" {
				t.Errorf("rc = %v, want WrongCredentials", m["rc"])
			}
			for _, want := range []string{"`alice-rig`", "dreamer_name", "kai_name", "--name"} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q does not say %s", msg, want)
				}
			}
		})
	}
}

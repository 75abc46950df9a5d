package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestBinaryLinksNoTestCode: the production binary (whose `demo` runs the
// fake Discord) imports neither testing nor net/http/httptest, nor the
// test-only packages (bot/discordtest/discordtesting, bot/bottest,
// store/storetest).
func TestBinaryLinksNoTestCode(t *testing.T) {
	gotool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH to list the binary's dependencies")
	}
	out, err := exec.Command(gotool, "list", "-deps", "github.com/hordebot/hordebot/cmd/hordebot").Output()
	if err != nil {
		msg := err.Error()
		if ee, ok := err.(*exec.ExitError); ok {
			msg += ": " + string(ee.Stderr)
		}
		t.Fatalf("go list -deps: %s", msg)
	}
	forbidden := map[string]bool{"testing": true, "net/http/httptest": true}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %q: not the binary's dependencies", deps)
	}
	for _, dep := range deps {
		if forbidden[dep] || strings.HasSuffix(dep, "/discordtesting") || strings.HasSuffix(dep, "/bottest") || strings.HasSuffix(dep, "/storetest") {
			t.Errorf("cmd/hordebot links %s (test code)", dep)
		}
	}
}

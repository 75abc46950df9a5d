package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWorkerLinksNoSchedulerCode checks that the worker binary links no
// scheduler code: of hordebot's packages it may depend only on the wire
// format (horde/aihorde) and the worker's own packages, never on horde,
// kudos, store, bot, commands or the server's API, nor on google/btree.
func TestWorkerLinksNoSchedulerCode(t *testing.T) {
	goTool := "go"
	if root := os.Getenv("GOROOT"); root != "" {
		goTool = filepath.Join(root, "bin", "go")
	}
	out, err := exec.Command(goTool, "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	const module = "github.com/hordebot/hordebot"
	allowed := map[string]bool{
		module + "/cmd/hordeworker": true,
		module + "/horde/aihorde":   true,
		module + "/horde/worker":    true,
	}
	var seen []string
	for _, pkg := range strings.Fields(string(out)) {
		switch {
		case strings.HasPrefix(pkg, module+"/"):
			seen = append(seen, pkg)
			if !allowed[pkg] {
				t.Errorf("the worker binary links %s", pkg)
			}
		case strings.HasPrefix(pkg, "github.com/google/btree"), strings.HasPrefix(pkg, "github.com/robfig/cron"):
			t.Errorf("the worker binary links %s (scheduler helpers)", pkg)
		}
	}
	if len(seen) < len(allowed) {
		t.Errorf("go list saw only %v of hordebot's packages; want %d", seen, len(allowed))
	}
}

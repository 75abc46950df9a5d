package storetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// unprivilegedEnv names the test a child process re-runs without the
// capabilities that bypass file permissions.
const unprivilegedEnv = "HORDEBOT_UNPRIVILEGED_TEST"

// Unprivileged makes the file permission checks a test relies on real (a
// folder chmod 0500 cannot be written). An ordinary user has them: it
// returns false and the test goes on. Root bypasses them, so as root it
// re-runs the test (a top-level test, by name) in a child process whose
// capabilities exclude CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH and CAP_FOWNER
// (with setpriv), fails with the child's output if the child failed, and
// returns true: the caller then returns. Either way the checks are probed
// first, so a test that cannot fail is reported rather than passed.
func Unprivileged(t *testing.T) bool {
	t.Helper()
	if os.Geteuid() != 0 || os.Getenv(unprivilegedEnv) == t.Name() {
		if !permissionsEnforced(t) {
			t.Fatal("file permissions are not enforced for this process: a folder chmod 0500 could be written")
		}
		return false
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Skip("running as root, which bypasses file permissions, and setpriv (util-linux) is not installed to drop that")
	}
	cmd := exec.Command(setpriv, "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--",
		os.Args[0], "-test.run=^"+regexp.QuoteMeta(t.Name())+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), unprivilegedEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s without root's file capabilities failed: %v\n%s", t.Name(), err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("%s without root's file capabilities did not pass:\n%s", t.Name(), out)
	}
	return true
}

// permissionsEnforced reports whether this process is refused a file in a
// folder of mode 0500.
func permissionsEnforced(t *testing.T) bool {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "probe")
	if err := os.Mkdir(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700) //nolint:errcheck // so that TempDir's cleanup can remove it
	f, err := os.Create(filepath.Join(dir, "x"))
	if err == nil {
		f.Close()
		return false
	}
	return true
}

package discordtest_test

import (
	"flag"
	"os"
	"testing"
)

// TestMain raises test parallelism unless -parallel was given: most of these
// tests wait on discordgo's one-second sleep in Session.Close rather than on
// the CPU, so running them side by side keeps the package fast on two cores.
func TestMain(m *testing.M) {
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "16")
	}
	os.Exit(m.Run())
}

package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/store/storetest"
)

// TestReadOnlyDataDirMessage: `hordebot api` (and every subcommand that
// opens the store) on a data directory it cannot write stops with one
// sentence naming the directory, the problem and the fix: no SQLite code,
// no stack.
func TestReadOnlyDataDirMessage(t *testing.T) {
	if storetest.Unprivileged(t) {
		return
	}
	data := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(data, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(data, 0o700) })
	for _, args := range [][]string{
		{"api", "--listen", "127.0.0.1:0", "--data", data},
		{"migrate", "--data", data},
	} {
		t.Run(args[0], func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), args, &out, io.Discard, func(string) string { return "" })
			if err == nil {
				t.Fatal("started on a read-only data directory")
			}
			msg := err.Error()
			want := data + " is not writable: permission denied"
			if !strings.HasPrefix(msg, want) || !strings.Contains(msg, "--data") {
				t.Fatalf("message %q, want it to start with %q and say how to fix it", msg, want)
			}
			for _, leak := range []string{"SQLITE", "sqlite", "open store in", "goroutine"} {
				if strings.Contains(msg, leak) {
					t.Errorf("message %q has %q", msg, leak)
				}
			}
		})
	}
}

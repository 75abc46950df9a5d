package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestUserSetAndList: a private horde's bootstrap from the command line:
// `user set NAME --moderator --trusted --kudos N` changes the user (by name
// or name#id), `user list` shows it, and both refuse a data dir without a
// database, an unknown user and an ambiguous name.
func TestUserSetAndList(t *testing.T) {
	noEnv := func(string) string { return "" }
	ctx := context.Background()
	dir := t.TempDir()
	sh := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(ctx, append(args, "--data", dir), &out, io.Discard, noEnv)
		return out.String(), err
	}

	if _, err := sh("user", "list"); err == nil || !strings.Contains(err.Error(), "holds no hordebot database") {
		t.Fatalf("user list on an empty dir: %v, want the requireDatabase refusal", err)
	}
	if _, err := sh("user", "set", "alice", "--moderator"); err == nil || !strings.Contains(err.Error(), "holds no hordebot database") {
		t.Fatalf("user set on an empty dir: %v, want the requireDatabase refusal", err)
	}
	if _, err := sh("migrate"); err != nil {
		t.Fatal(err)
	}
	if _, err := sh("user", "add", "alice"); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		args    []string
		wantOut string
		wantErr string
	}{
		{"moderator, trusted and kudos at once", []string{"user", "set", "alice", "--moderator", "--trusted", "--kudos", "500"}, "moderator true, trusted true, kudos 500", ""},
		{"by name#id, flags first", []string{"user", "set", "--kudos=-100", "alice#1"}, "alice#1: kudos 400", ""},
		{"a concurrency cap", []string{"user", "set", "alice", "--concurrency", "3"}, "concurrency 3", ""},
		{"no longer a moderator", []string{"user", "set", "alice", "--moderator=false"}, "moderator false", ""},
		{"nothing to change", []string{"user", "set", "alice"}, "", "nothing to change"},
		{"an unknown user", []string{"user", "set", "bob", "--trusted"}, "", `no user is named "bob"`},
		{"a wrong id", []string{"user", "set", "alice#7", "--trusted"}, "", "no user is alice#7"},
		{"kudos that are not a number", []string{"user", "set", "alice", "--kudos", "lots"}, "", "whole number"},
		{"a concurrency out of range", []string{"user", "set", "alice", "--concurrency", "9999"}, "", "concurrency must be between 0 and 500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := sh(tt.args...)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || !strings.Contains(out, tt.wantOut) {
				t.Fatalf("out %q, err %v; want %q", out, err, tt.wantOut)
			}
		})
	}

	out, err := sh("user", "list")
	if err != nil {
		t.Fatal(err)
	}
	var alice string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "alice#1 ") {
			alice = strings.Join(strings.Fields(line), " ")
		}
	}
	if alice != "alice#1 400 no yes no 3 0" {
		t.Errorf("user list line of alice = %q, want 400 kudos, not a moderator, trusted, not flagged, concurrency 3, no workers; list:\n%s", alice, out)
	}
	if out, err := sh("kudos", "verify"); err != nil {
		t.Errorf("kudos verify after the adjustments: %v %s", err, out)
	}
}

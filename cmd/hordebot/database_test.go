package main

import (
	"bytes"
	"context"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/store/storetest"
)

// TestDatabaseChoice: where the store is, from the config file's
// database.url, HORDEBOT_DATABASE_URL, --data and --database, the later
// overriding the earlier.
func TestDatabaseChoice(t *testing.T) {
	file := filepath.Join(t.TempDir(), "hordebot.yaml")
	if err := os.WriteFile(file, []byte("database:\n  url: postgres://file@db.example/hordebot\n  max_conns: 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"default", nil, nil, "sqlite:./data"},
		{"HORDEBOT_DATA", nil, map[string]string{"HORDEBOT_DATA": "/srv/horde"}, "sqlite:/srv/horde"},
		{"config file", []string{"--config", file}, nil, "postgres://file@db.example/hordebot"},
		{"environment over the file", []string{"--config", file},
			map[string]string{"HORDEBOT_DATABASE_URL": "postgresql://env@db.example/h"}, "postgresql://env@db.example/h"},
		{"--data means sqlite:DIR", []string{"--config", file, "--data", "/tmp/d"},
			map[string]string{"HORDEBOT_DATABASE_URL": "postgres://env@db.example/h"}, "sqlite:/tmp/d"},
		{"--database over everything", []string{"--config", file, "--data", "/tmp/d", "--database", "postgres://flag@db.example/h"},
			map[string]string{"HORDEBOT_DATABASE_URL": "postgres://env@db.example/h"}, "postgres://flag@db.example/h"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cf commonFlags
			fs := newFlagSet(&cf)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			cfg, err := cf.load(func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.DatabaseURL(); got != tt.want {
				t.Errorf("database = %q, want %q", got, tt.want)
			}
		})
	}
	if cfg, err := LoadConfig(file, func(string) string { return "" }); err != nil || cfg.StoreOptions().MaxConns != 7 {
		t.Errorf("database.max_conns: %+v, %v; want 7", cfg.Database, err)
	}
	for _, bad := range []string{"mysql://x@y/z", "postgres://"} {
		var cf commonFlags
		fs := newFlagSet(&cf)
		if err := fs.Parse([]string{"--database", bad}); err != nil {
			t.Fatal(err)
		}
		if _, err := cf.load(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "--database") {
			t.Errorf("--database %s: %v, want a refusal naming the flag", bad, err)
		}
	}
}

// TestSecondSchedulerOnPostgresExits: while one scheduler runs on a
// PostgreSQL database, a second `hordebot api` on it stops at once with one
// sentence; admin commands still work; once the first is gone, a scheduler
// starts again.
func TestSecondSchedulerOnPostgresExits(t *testing.T) {
	url := storetest.PostgresDatabase(t, t.TempDir())
	noEnv := func(string) string { return "" }
	ctx := context.Background()
	cfg, err := LoadConfig("", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Data, cfg.Database.URL, cfg.API.Listen = t.TempDir(), url, "127.0.0.1:0"
	first, err := OpenApp(ctx, cfg, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	err = run(ctx, []string{"api", "--data", t.TempDir(), "--database", url, "--listen", "127.0.0.1:0"}, io.Discard, io.Discard, noEnv)
	if err == nil || !strings.Contains(err.Error(), "another hordebot scheduler (run or api) is already running on this PostgreSQL database") {
		t.Fatalf("second api: %v, want it refused", err)
	}
	if strings.Count(err.Error(), ": ") > 1 || strings.Contains(err.Error(), "\n") {
		t.Errorf("the refusal is more than one sentence: %q", err)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"kudos", "verify", "--database", url}, &out, io.Discard, noEnv); err != nil || !strings.Contains(out.String(), "ok: every balance") {
		t.Fatalf("kudos verify beside the scheduler: %v %q", err, out.String())
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := OpenApp(ctx, cfg, testLogger(t), nil)
	if err != nil {
		t.Fatalf("a scheduler after the first closed: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatal(err)
	}
}

// newFlagSet is a flag set with the common flags registered on cf.
func newFlagSet(cf *commonFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cf.register(fs)
	return fs
}

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"flag"
	"image"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde/worker"
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

// TestTwoSchedulersOnPostgresBothServe: two `hordebot api` processes (two
// Apps) on one PostgreSQL database share one queue: a request accepted by
// one is popped from the other, its result submitted to the first, its
// status read on the second; admin commands run beside them.
func TestTwoSchedulersOnPostgresBothServe(t *testing.T) {
	url := storetest.PostgresDatabase(t, t.TempDir())
	noEnv := func(string) string { return "" }
	ctx := context.Background()
	open := func() *runningApp {
		cfg, err := LoadConfig("", noEnv)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Data, cfg.Database.URL, cfg.API.Listen = t.TempDir(), url, "127.0.0.1:0"
		return startApp(t, cfg, nil)
	}
	a, b := open(), open()
	defer a.shutdown(t)
	defer b.shutdown(t)
	_, wkey, err := a.Horde.CreateUser(ctx, "owner")
	if err != nil {
		t.Fatal(err)
	}
	_, rkey, err := b.Horde.CreateUser(ctx, "requester")
	if err != nil {
		t.Fatal(err)
	}
	onA, onB := "http://"+a.Addr()+"/api/v2", "http://"+b.Addr()+"/api/v2"

	var async struct{ ID string }
	if code := (apiClient{base: onA, key: rkey, hc: http.DefaultClient}).do(t, "POST", "/generate/async",
		map[string]any{"prompt": "two lighthouses", "params": map[string]any{"width": 64, "height": 64, "steps": 10}}, &async); code != http.StatusAccepted {
		t.Fatalf("async on A: %d", code)
	}
	var pop struct {
		ID string `json:"id"`
	}
	pop1 := map[string]any{"name": "w1", "models": []string{"stable_diffusion"}, "max_pixels": 1 << 20}
	if code := (apiClient{base: onB, key: wkey, hc: http.DefaultClient}).do(t, "POST", "/generate/pop", pop1, &pop); code != http.StatusOK || pop.ID == "" {
		t.Fatalf("pop on B of the request accepted on A: %d %+v", code, pop)
	}
	var again struct {
		ID *string `json:"id"`
	}
	if code := (apiClient{base: onA, key: wkey, hc: http.DefaultClient}).do(t, "POST", "/generate/pop", pop1, &again); code != http.StatusOK || again.ID != nil {
		t.Fatalf("pop on A after B took the one item: %d, job %v; want none", code, again.ID)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = uint8(i / 3)
	}
	webp, err := worker.EncodeWebP(img)
	if err != nil {
		t.Fatal(err)
	}
	if code := (apiClient{base: onA, key: wkey, hc: http.DefaultClient}).do(t, "POST", "/generate/submit",
		map[string]any{"id": pop.ID, "generation": base64.StdEncoding.EncodeToString(webp), "state": "ok", "seed": 1}, nil); code != http.StatusOK {
		t.Fatalf("submit on A of the job popped on B: %d", code)
	}
	var st struct {
		Done        bool `json:"done"`
		Generations []struct {
			Img string `json:"img"`
		} `json:"generations"`
	}
	if code := (apiClient{base: onB, key: rkey, hc: http.DefaultClient}).do(t, "GET", "/generate/status/"+async.ID, nil, &st); code != http.StatusOK || !st.Done || len(st.Generations) != 1 {
		t.Fatalf("status on B: %d %+v; want done with one image", code, st)
	}
	var out bytes.Buffer
	if err := run(ctx, []string{"kudos", "verify", "--database", url}, &out, io.Discard, noEnv); err != nil || !strings.Contains(out.String(), "ok: every balance") {
		t.Fatalf("kudos verify beside the schedulers: %v %q", err, out.String())
	}
}

// newFlagSet is a flag set with the common flags registered on cf.
func newFlagSet(cf *commonFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	cf.register(fs)
	return fs
}

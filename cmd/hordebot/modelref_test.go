package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// The reference comes from a URL, is cached, and a later failed fetch uses
// the cache; with nothing named, the embedded default; never fatal.
func TestLoadModelReference(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	up := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		_, _ = io.WriteString(w, `{"Remote": {"baseline": "stable_diffusion_xl", "nsfw": true}}`)
	}))
	defer srv.Close()
	dir := t.TempDir()

	ref, err := loadModelReference(ctx, ModelsConfig{}, dir, nil, log)
	if err != nil || !ref.Known("image", "stable_diffusion") || !ref.Known("text", "koboldcpp/Mistral-7B-Instruct-v0.3") {
		t.Fatalf("embedded default: %v, %+v", err, ref)
	}
	ref, err = loadModelReference(ctx, ModelsConfig{ReferenceURL: srv.URL}, dir, srv.Client(), log)
	if err != nil || !ref.Known("image", "Remote") || ref.Known("image", "stable_diffusion") {
		t.Fatalf("from the URL: %v, %+v", err, ref)
	}
	if _, err := os.Stat(filepath.Join(dir, "model_reference_image.json")); err != nil {
		t.Fatalf("not cached: %v", err)
	}
	up = false
	ref, err = loadModelReference(ctx, ModelsConfig{ReferenceURL: srv.URL}, dir, srv.Client(), log)
	if err != nil || !ref.Known("image", "Remote") {
		t.Fatalf("from the cache: %v, %+v", err, ref)
	}
	ref, err = loadModelReference(ctx, ModelsConfig{ReferenceURL: srv.URL}, t.TempDir(), srv.Client(), log)
	if err != nil || !ref.Known("image", "stable_diffusion") {
		t.Fatalf("no cache: want the default: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	_ = os.WriteFile(bad, []byte("not json"), 0o600)
	if _, err := loadModelReference(ctx, ModelsConfig{ReferenceFile: bad}, dir, nil, log); err == nil {
		t.Error("a named file that does not parse must be an error")
	}
}

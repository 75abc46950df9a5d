package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde/worker"
	"github.com/hordebot/hordebot/store/s3blobs/s3test"
	"github.com/hordebot/hordebot/store/storetest"
)

// TestMigrateDataBetweenBlobBackends: a horde's result image moves with its
// rows from one place to another: a SQLite data folder into an S3 bucket
// (beside PostgreSQL), from the bucket into PostgreSQL's blobs table (another
// schema), and from there back into a SQLite data folder. After each move a
// hordebot on the target, with the target's results settings, serves the
// same image on the request's status.
func TestMigrateDataBetweenBlobBackends(t *testing.T) {
	pgBucket := storetest.PostgresDatabase(t, t.TempDir())
	pgTable := storetest.PostgresDatabase(t, t.TempDir())
	ctx := context.Background()
	srv := s3test.New(t, nil)
	srv.CreateBucket(t, "moved")
	env := map[string]string{"HORDEBOT_S3_ACCESS_KEY_ID": "test-key", "HORDEBOT_S3_SECRET_ACCESS_KEY": "test-secret"}
	getenv := func(k string) string { return env[k] }
	conf := filepath.Join(t.TempDir(), "s3.yaml")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf("results:\n  store: s3\n  s3: {endpoint: %q, bucket: moved, region: us-east-1, path_style: true}\n", srv.URL)), 0o600); err != nil {
		t.Fatal(err)
	}

	// A horde on SQLite with one request done, its image in the data folder.
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Database.URL = "sqlite:" + dir
	app := startApp(t, cfg, nil)
	base := "http://" + app.Addr() + "/api/v2"
	_, ownerKey, err := app.Horde.CreateUser(ctx, "owner")
	if err != nil {
		t.Fatal(err)
	}
	_, requesterKey, err := app.Horde.CreateUser(ctx, "requester")
	if err != nil {
		t.Fatal(err)
	}
	var done struct{ ID string }
	if code := (apiClient{base: base, key: requesterKey, hc: http.DefaultClient}).do(t, "POST", "/generate/async",
		map[string]any{"prompt": "a lighthouse", "params": map[string]any{"width": 64, "height": 64, "steps": 10}, "r2": false}, &done); code != http.StatusAccepted {
		t.Fatalf("async: %d", code)
	}
	asOwner := apiClient{base: base, key: ownerKey, hc: http.DefaultClient}
	var job struct {
		ID string `json:"id"`
	}
	if code := asOwner.do(t, "POST", "/generate/pop", map[string]any{"name": "w1", "max_pixels": 1 << 20}, &job); code != http.StatusOK || job.ID == "" {
		t.Fatalf("pop: %d %+v", code, job)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = uint8(i / 3)
	}
	webp, err := worker.EncodeWebP(img)
	if err != nil {
		t.Fatal(err)
	}
	if code := asOwner.do(t, "POST", "/generate/submit",
		map[string]any{"id": job.ID, "generation": base64.StdEncoding.EncodeToString(webp), "state": "ok", "seed": 1}, nil); code != http.StatusOK {
		t.Fatalf("submit: %d", code)
	}
	if seen := seeHorde(t, base, requesterKey, ownerKey, done.ID); !bytes.Equal(seen.doneImage, webp) {
		t.Fatal("the image before the moves is not the one submitted")
	}
	app.shutdown(t)

	back := t.TempDir()
	moves := []struct {
		name     string
		args     []string
		to       string
		inBucket bool // the target's results are in the bucket
	}{
		{"data folder to S3", []string{"--from", "sqlite:" + dir, "--to", pgBucket, "--config", conf, "--from-results", "database"}, pgBucket, true},
		{"S3 to PostgreSQL's blobs", []string{"--from", pgBucket, "--to", pgTable, "--config", conf, "--to-results", "database"}, pgTable, false},
		{"PostgreSQL's blobs to a data folder", []string{"--from", pgTable, "--to", "sqlite:" + back}, "sqlite:" + back, false},
	}
	for _, m := range moves {
		var out, errOut bytes.Buffer
		if err := run(ctx, append([]string{"migrate-data"}, m.args...), &out, &errOut, getenv); err != nil {
			t.Fatalf("%s: %v\n%s\n%s", m.name, err, out.String(), errOut.String())
		}
		if !strings.Contains(out.String(), "ok: result images copied: 1 (") {
			t.Errorf("%s printed\n%s\nwithout the one image copied", m.name, out.String())
		}
		tcfg := testConfig(t, t.TempDir())
		if m.inBucket {
			tcfg = s3Config(t, srv, "moved")
			tcfg.Results.S3.Presign = false
		}
		if strings.HasPrefix(m.to, "sqlite:") {
			tcfg.Data = strings.TrimPrefix(m.to, "sqlite:")
		}
		tcfg.Database.URL = m.to
		tapp := startApp(t, tcfg, nil)
		seen := seeHorde(t, "http://"+tapp.Addr()+"/api/v2", requesterKey, ownerKey, done.ID)
		tapp.shutdown(t)
		if !bytes.Equal(seen.doneImage, webp) {
			t.Errorf("%s: the status on the target shows an image of %d bytes, not the one submitted (%d bytes)", m.name, len(seen.doneImage), len(webp))
		}
	}

	var out bytes.Buffer
	err = run(ctx, []string{"migrate-data", "--from", "sqlite:" + dir, "--to", "sqlite:" + t.TempDir(), "--to-results", "bucket"}, &out, &out, getenv)
	if err == nil || !strings.Contains(err.Error(), `--to-results "bucket": want database`) {
		t.Errorf("--to-results bucket: %v; want a refusal naming the two choices", err)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/worker"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// hordeSeen is what members and workers see of a horde, read through its
// API: what must be the same after the data moved.
type hordeSeen struct {
	requesterKudos int64
	ownerKudos     int64
	doneImage      []byte // the finished request's result, as status returns it
}

// seeHorde reads, through the API at base, what hordeSeen holds.
func seeHorde(t *testing.T, base, requesterKey, ownerKey, doneID string) hordeSeen {
	t.Helper()
	var seen hordeSeen
	for _, u := range []struct {
		key string
		dst *int64
	}{{requesterKey, &seen.requesterKudos}, {ownerKey, &seen.ownerKudos}} {
		var me struct {
			Kudos float64 `json:"kudos"`
		}
		if code := (apiClient{base: base, key: u.key, hc: http.DefaultClient}).do(t, "GET", "/find_user", nil, &me); code != http.StatusOK {
			t.Fatalf("find_user: %d", code)
		}
		*u.dst = int64(me.Kudos)
	}
	var st struct {
		Done        bool `json:"done"`
		Generations []struct {
			Img string `json:"img"`
		} `json:"generations"`
	}
	if code := (apiClient{base: base, hc: http.DefaultClient}).do(t, "GET", "/generate/status/"+doneID, nil, &st); code != http.StatusOK || !st.Done || len(st.Generations) != 1 {
		t.Fatalf("status of %s: %d %+v; want done with one image", doneID, code, st)
	}
	img, err := base64.StdEncoding.DecodeString(st.Generations[0].Img)
	if err != nil {
		t.Fatalf("status of %s: the image is not base64: %v", doneID, err)
	}
	seen.doneImage = img
	return seen
}

// TestMigrateDataSQLiteToPostgres: a horde that ran on SQLite (a request
// served with its image, one still waiting, a transfer, Discord state) is
// moved with `hordebot migrate-data` into PostgreSQL; a hordebot on
// PostgreSQL then shows every member the same kudos and the same image,
// the worker's key still pops, and pops the request left waiting; kudos
// verify is ok. A second run into the now full target, a source with no
// database and a source in use are refused, each saying why; and the data
// goes back to SQLite the same way.
func TestMigrateDataSQLiteToPostgres(t *testing.T) {
	pgURL := storetest.PostgresDatabase(t, t.TempDir())
	ctx := context.Background()
	noEnv := func(string) string { return "" }
	dir := t.TempDir()
	cfg := testConfig(t, dir)
	cfg.Database.URL = "sqlite:" + dir
	app := startApp(t, cfg, nil)
	base := "http://" + app.Addr() + "/api/v2"

	_, ownerKey, err := app.Horde.CreateUser(ctx, "owner")
	if err != nil {
		t.Fatal(err)
	}
	requester, requesterKey, err := app.Horde.CreateUser(ctx, "requester")
	if err != nil {
		t.Fatal(err)
	}
	asRequester := apiClient{base: base, key: requesterKey, hc: http.DefaultClient}
	asOwner := apiClient{base: base, key: ownerKey, hc: http.DefaultClient}
	var done, waiting struct{ ID string }
	imageReq := func(prompt string) map[string]any {
		return map[string]any{"prompt": prompt, "params": map[string]any{"width": 64, "height": 64, "steps": 10}, "r2": false}
	}
	if code := asRequester.do(t, "POST", "/generate/async", imageReq("a lighthouse at dusk"), &done); code != http.StatusAccepted {
		t.Fatalf("async: %d", code)
	}
	pop := map[string]any{"name": "w1", "models": []string{"stable_diffusion"}, "max_pixels": 1 << 20}
	var job struct {
		ID string `json:"id"`
	}
	if code := asOwner.do(t, "POST", "/generate/pop", pop, &job); code != http.StatusOK || job.ID == "" {
		t.Fatalf("pop: %d %+v", code, job)
	}
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = uint8(i / 5)
	}
	webp, err := worker.EncodeWebP(img)
	if err != nil {
		t.Fatal(err)
	}
	if code := asOwner.do(t, "POST", "/generate/submit",
		map[string]any{"id": job.ID, "generation": base64.StdEncoding.EncodeToString(webp), "state": "ok", "seed": 1}, nil); code != http.StatusOK {
		t.Fatalf("submit: %d", code)
	}
	if code := asRequester.do(t, "POST", "/generate/async", imageReq("a second lighthouse"), &waiting); code != http.StatusAccepted {
		t.Fatalf("async of the request left waiting: %d", code)
	}
	if code := asOwner.do(t, "POST", "/kudos/transfer", map[string]any{"username": "requester#" + strconv.FormatInt(requester.ID, 10), "amount": 2}, nil); code != http.StatusOK {
		t.Fatalf("transfer: %d", code)
	}
	workers, err := app.Store.Workers(ctx)
	if err != nil || len(workers) != 1 {
		t.Fatalf("workers: %v %v", workers, err)
	}
	const workerKey = "a-worker-key-0123456789"
	if err := app.Store.SetWorkerKey(ctx, workers[0].ID, horde.HashKey(workerKey)); err != nil {
		t.Fatal(err)
	}
	if err := app.Store.SaveDiscordDelivery(ctx, waiting.ID, []byte(`{"channel_id":"1"}`)); err != nil {
		t.Fatal(err)
	}
	if err := app.Store.SetDiscordSetting(ctx, "commands_hash", "c0ffee"); err != nil {
		t.Fatal(err)
	}
	before := seeHorde(t, base, requesterKey, ownerKey, done.ID)
	if !bytes.Equal(before.doneImage, webp) {
		t.Fatalf("the image before the move is not the one submitted")
	}

	// The source in use by the running hordebot is refused.
	var out, errOut bytes.Buffer
	busyTarget := storetest.PostgresDatabase(t, t.TempDir())
	err = run(ctx, []string{"migrate-data", "--from", "sqlite:" + dir, "--to", busyTarget}, &out, &errOut, noEnv)
	if err == nil || !strings.Contains(err.Error(), "in use by another process") {
		t.Fatalf("migrate-data from a running horde: %v; want a refusal saying it is in use", err)
	}
	app.shutdown(t)

	out.Reset()
	if err := run(ctx, []string{"migrate-data", "--from", "sqlite:" + dir, "--to", pgURL}, &out, &errOut, noEnv); err != nil {
		t.Fatalf("migrate-data: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	for _, want := range []string{"ok: every balance equals the sum of its ledger entries", "ok: result images copied: 1 (",
		"counted again in the target", "ok: the data is in postgres://"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("migrate-data printed\n%s\nwithout %q", out.String(), want)
		}
	}
	t.Logf("migrate-data printed:\n%s", out.String())

	pgCfg := testConfig(t, t.TempDir())
	pgCfg.Database.URL = pgURL
	pgApp := startApp(t, pgCfg, nil)
	pgBase := "http://" + pgApp.Addr() + "/api/v2"
	if after := seeHorde(t, pgBase, requesterKey, ownerKey, done.ID); after.requesterKudos != before.requesterKudos ||
		after.ownerKudos != before.ownerKudos || !bytes.Equal(after.doneImage, before.doneImage) {
		t.Errorf("on PostgreSQL: requester %d kudos, owner %d, image %d bytes; on SQLite %d, %d, %d bytes",
			after.requesterKudos, after.ownerKudos, len(after.doneImage), before.requesterKudos, before.ownerKudos, len(before.doneImage))
	}
	var popped struct {
		ID  string `json:"id"`
		IDs []string
	}
	if code := (apiClient{base: pgBase, key: workerKey, hc: http.DefaultClient}).do(t, "POST", "/generate/pop", pop, &popped); code != http.StatusOK || popped.ID == "" {
		t.Errorf("pop with the worker's key on PostgreSQL: %d %+v; want the request left waiting", code, popped)
	}
	if v, err := pgApp.Store.DiscordSetting(ctx, "commands_hash"); err != nil || v != "c0ffee" {
		t.Errorf("a Discord setting on PostgreSQL: %q %v", v, err)
	}
	if ds, err := pgApp.Store.DiscordDeliveries(ctx); err != nil || len(ds) != 1 {
		t.Errorf("Discord deliveries on PostgreSQL: %d %v; want the one owed", len(ds), err)
	}
	pgApp.shutdown(t)
	out.Reset()
	if err := run(ctx, []string{"kudos", "verify", "--database", pgURL}, &out, io.Discard, noEnv); err != nil || !strings.Contains(out.String(), "ok: every ledger rollup") {
		t.Errorf("kudos verify on PostgreSQL: %v %q", err, out.String())
	}

	// Again into the target, now full: refused.
	err = run(ctx, []string{"migrate-data", "--from", "sqlite:" + dir, "--to", pgURL}, io.Discard, io.Discard, noEnv)
	if err == nil || !strings.Contains(err.Error(), "already holds data") {
		t.Errorf("a second migrate-data into the same target: %v; want a refusal saying it holds data", err)
	}
	// A source with no database: refused, and none is created.
	empty := t.TempDir()
	err = run(ctx, []string{"migrate-data", "--from", "sqlite:" + empty, "--to", busyTarget}, io.Discard, io.Discard, noEnv)
	if err == nil || !strings.Contains(err.Error(), "holds no hordebot database") {
		t.Errorf("migrate-data from an empty directory: %v; want a refusal saying it holds no database", err)
	}
	if _, err := os.Stat(filepath.Join(empty, store.DBFile)); err == nil {
		t.Errorf("migrate-data created a database in the empty source directory")
	}

	// Back to SQLite.
	back := t.TempDir()
	out.Reset()
	if err := run(ctx, []string{"migrate-data", "--from", pgURL, "--to", "sqlite:" + back}, &out, &errOut, noEnv); err != nil {
		t.Fatalf("migrate-data back to SQLite: %v\n%s", err, out.String())
	}
	backCfg := testConfig(t, back)
	backCfg.Database.URL = "sqlite:" + back
	backApp := startApp(t, backCfg, nil)
	defer backApp.shutdown(t)
	if again := seeHorde(t, "http://"+backApp.Addr()+"/api/v2", requesterKey, ownerKey, done.ID); again.requesterKudos != before.requesterKudos ||
		!bytes.Equal(again.doneImage, before.doneImage) {
		t.Errorf("back on SQLite: requester %d kudos, image %d bytes; want %d and the same image", again.requesterKudos, len(again.doneImage), before.requesterKudos)
	}
}

// TestMigrateDataUsage: the flags it needs, said when missing or wrong.
func TestMigrateDataUsage(t *testing.T) {
	noEnv := func(string) string { return "" }
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"migrate-data"}, "--from and --to are both needed"},
		{[]string{"migrate-data", "--from", "sqlite:/x"}, "--from and --to are both needed"},
		{[]string{"migrate-data", "--from", "mysql://a@b/c", "--to", "sqlite:/y"}, "--from"},
		{[]string{"migrate-data", "--from", "sqlite:" + t.TempDir(), "--to", "sqlite:/y"}, "holds no hordebot database"},
		{[]string{"migrate-data", "--from", "sqlite:/srv/horde", "--to", "/srv/horde/"}, "name the same database"},
	} {
		err := run(context.Background(), tt.args, io.Discard, io.Discard, noEnv)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v; want an error saying %q", tt.args, err, tt.want)
		}
	}
}

// TestMigrateDataRefusesLivePostgres: copying out of a PostgreSQL schema
// that a running hordebot uses (its event listener, its leases) is refused,
// naming the sessions, unless --force; a hordebot running on another schema
// of the same database does not count; once the process stopped, the copy
// goes ahead.
func TestMigrateDataRefusesLivePostgres(t *testing.T) {
	pgURL := storetest.PostgresDatabase(t, t.TempDir())
	otherURL := storetest.PostgresDatabase(t, t.TempDir())
	ctx := context.Background()
	noEnv := func(string) string { return "" }
	cfg := testConfig(t, t.TempDir())
	cfg.Database.URL = pgURL
	app := startApp(t, cfg, nil)
	otherCfg := testConfig(t, t.TempDir())
	otherCfg.Database.URL = otherURL
	other := startApp(t, otherCfg, nil)
	defer other.shutdown(t)

	// The running process's sessions show once it listens and holds its leases.
	waitLive := func() []store.LiveSession {
		t.Helper()
		st, err := store.Open(ctx, pgURL, store.Options{Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		for range 200 {
			live, err := st.LiveSessions(ctx, allLeases)
			if err != nil {
				t.Fatal(err)
			}
			if len(live) >= 2 {
				return live
			}
			time.Sleep(25 * time.Millisecond)
		}
		t.Fatal("the running hordebot's listener and lease sessions never showed in pg_stat_activity")
		return nil
	}
	live := waitLive()
	for _, ls := range live {
		if !strings.HasPrefix(ls.Application, "hordebot ") || ls.PID == 0 {
			t.Errorf("a live session %+v: want a hordebot session with its pid", ls)
		}
	}

	var out, errOut bytes.Buffer
	err := run(ctx, []string{"migrate-data", "--from", pgURL, "--to", "sqlite:" + t.TempDir()}, &out, &errOut, noEnv)
	if err == nil || !strings.Contains(err.Error(), "is in use by running hordebot processes") ||
		!strings.Contains(err.Error(), "stop them first, or give --force") || !strings.Contains(err.Error(), "pid ") {
		t.Fatalf("migrate-data from a schema in use: %v; want a refusal naming the sessions", err)
	}
	out.Reset()
	errOut.Reset()
	if err := run(ctx, []string{"migrate-data", "--force", "--from", pgURL, "--to", "sqlite:" + t.TempDir()}, &out, &errOut, noEnv); err != nil {
		t.Fatalf("migrate-data --force: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "warning: --force: copying while hordebot processes use") {
		t.Errorf("migrate-data --force warned\n%s\nwithout saying the source is in use", errOut.String())
	}

	app.shutdown(t)
	out.Reset()
	if err := run(ctx, []string{"migrate-data", "--from", pgURL, "--to", "sqlite:" + t.TempDir()}, &out, &errOut, noEnv); err != nil {
		t.Fatalf("migrate-data once the process stopped (another schema's still runs): %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "ok: the data is in sqlite:") {
		t.Errorf("migrate-data printed\n%s\nwithout its ok", out.String())
	}
}

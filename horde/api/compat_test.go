package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/filter"
	"github.com/hordebot/hordebot/horde/worker"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// compatDir is the node project that drives the API with the npm client.
const compatDir = "testdata/compat"

// compatEnv turns TestNPMClientCompat on; CI sets it after `npm ci` in compatDir.
const compatEnv = "HORDEBOT_COMPAT"

// engineTransfers serves /kudos/transfer with the real kudos engine, as
// cmd/hordebot wires it.
type engineTransfers struct{ k *kudos.Engine }

func (t engineTransfers) Transfer(ctx context.Context, from horde.User, to, amount int64, key string) error {
	return t.k.Transfer(ctx, from.ID, to, amount, key)
}

var _ api.Transferer = engineTransfers{}

// compatSummary is what testdata/compat/client.mjs prints.
type compatSummary struct {
	OK       bool     `json:"ok"`
	Failures []string `json:"failures"`
	User     struct {
		ID       int64  `json:"id"`
		Username string `json:"username"`
		Kudos    int64  `json:"kudos"`
	} `json:"user"`
	Image struct {
		ID          string `json:"id"`
		Finished    int    `json:"finished"`
		Generations []struct {
			ID         string `json:"id"`
			Seed       string `json:"seed"`
			WorkerName string `json:"worker_name"`
			Model      string `json:"model"`
			Img        string `json:"img"`
		} `json:"generations"`
		Download struct {
			Status int    `json:"status"`
			Bytes  int    `json:"bytes"`
			Format string `json:"format"`
		} `json:"download"`
	} `json:"image"`
	Text struct {
		ID         string `json:"id"`
		Text       string `json:"text"`
		WorkerName string `json:"worker_name"`
		Model      string `json:"model"`
	} `json:"text"`
	Models []struct {
		Name  string `json:"name"`
		Count int    `json:"count"`
	} `json:"models"`
	Performance struct {
		WorkerCount     int `json:"worker_count"`
		TextWorkerCount int `json:"text_worker_count"`
	} `json:"performance"`
	Workers    []string `json:"workers"`
	Unservable struct {
		WarningCodes []string `json:"warning_codes"`
	} `json:"unservable"`
	Transfer struct {
		To             string `json:"to"`
		Transferred    int64  `json:"transferred"`
		ReceiverBefore int64  `json:"receiver_before"`
		ReceiverAfter  int64  `json:"receiver_after"`
	} `json:"transfer"`
	Errors map[string]*struct {
		Status int    `json:"status"`
		RC     string `json:"rc"`
	} `json:"errors"`
	Admin struct {
		Trusted       bool `json:"trusted"`
		WorkerDeleted struct {
			DeletedName string `json:"deleted_name"`
		} `json:"worker_deleted"`
	} `json:"admin"`
	Stats struct {
		ImageTotal struct {
			Images int64 `json:"images"`
		} `json:"image_total"`
		TextTotal struct {
			Requests int64 `json:"requests"`
		} `json:"text_total"`
		Model string `json:"model"`
		News  int    `json:"news"`
	} `json:"stats"`
	Moderation struct {
		Filters      int `json:"filters"`
		NotModerator *struct {
			RC string `json:"rc"`
		} `json:"not_moderator"`
	} `json:"moderation"`
	SharedKeys struct {
		Created     int64 `json:"created"`
		Changed     int64 `json:"changed"`
		AfterDelete *struct {
			Status int `json:"status"`
		} `json:"after_delete"`
	} `json:"sharedkeys"`
	Rating struct {
		Reward float64 `json:"reward"`
		Again  *struct {
			RC string `json:"rc"`
		} `json:"again"`
	} `json:"rating"`
	CancelText struct {
		ID string `json:"id"`
	} `json:"cancel_text"`
}

// TestNPMClientCompat drives the API with the npm package
// @zeldafan0225/ai_horde (DESIGN.md names it as a client to stay compatible
// with): users, an r2 image request served by a real worker over HTTP, a
// text request, status, a kudos transfer and error answers, then every
// other route of the library hordebot serves: the users list and a
// moderator's user change, a worker the client pops into being and then
// reads, changes and deletes, modes, news, a model, the statistics, the
// prompt filter's lists and check, lifting an IP timeout, a shared key's
// life, a rating and a text cancel. It runs only
// when HORDEBOT_COMPAT is set, and then node and the installed package must
// be there.
func TestNPMClientCompat(t *testing.T) {
	if os.Getenv(compatEnv) == "" {
		t.Skipf("%s is not set (CI sets it after `npm ci` in horde/api/%s)", compatEnv, compatDir)
	}
	nodeBin, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("%s is set but node is not on PATH: %v", compatEnv, err)
	}
	if _, err := os.Stat(filepath.Join(compatDir, "node_modules", "@zeldafan0225", "ai_horde", "package.json")); err != nil {
		t.Fatalf("%s is set but the npm client is not installed (run `npm ci` in horde/api/%s): %v", compatEnv, compatDir, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st, err := store.Open(ctx, storetest.Database(t, t.TempDir()), store.Options{Logger: quietLogger(), MaxConns: storetest.TestMaxConns})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	h, err := horde.New(ctx, st, horde.Config{Logger: quietLogger()})
	if err != nil {
		t.Fatalf("new horde: %v", err)
	}
	eng, err := kudos.New(st, kudos.DefaultConfig(), nil, kudos.WithLogger(quietLogger()))
	if err != nil {
		t.Fatalf("new kudos engine: %v", err)
	}
	pf, err := filter.New(filter.Lists{Minors: assets.FilterMinors, Sexual: assets.FilterSexual, NSFW: assets.FilterNSFW, Negative: assets.FilterNegative}, filter.Options{})
	if err != nil {
		t.Fatalf("prompt filter: %v", err)
	}
	timeouts, err := horde.NewIPTimeouts(ctx, st, nil)
	if err != nil {
		t.Fatalf("ip timeouts: %v", err)
	}
	modes, err := horde.NewModes(ctx, st)
	if err != nil {
		t.Fatalf("modes: %v", err)
	}
	srv := httptest.NewServer(api.New(h, api.Options{
		Transfers: engineTransfers{eng}, Awards: eng, Logger: quietLogger(), KeyLimit: unlimited, IPLimit: unlimited,
		Filter: pf, FilterLists: []api.FilterList{{Type: 10, Name: "minors", Terms: []string{"child"}}, {Type: 20, Name: "nsfw", Terms: []string{"gore"}}},
		IPTimeouts: timeouts, Ratings: horde.NewRatings(h, st, horde.RatingConfig{}), SharedKeys: horde.NewSharedKeys(h, st), Styles: st,
		Teams: horde.NewTeams(h, st), Modes: modes,
		News: []aihorde.Newspiece{{DatePublished: "2026-01-01", Newspiece: "hordebot compat", Importance: "Information", Tags: []string{}}},
	}))
	t.Cleanup(srv.Close)

	alice, aliceKey := mustUser(t, h, "alice")
	bob, bobKey := mustUser(t, h, "bob")
	_, volKey := mustUser(t, h, "vol")
	mod, modKey := mustUser(t, h, "mod")
	mod.Moderator = true
	if err := st.UpdateUser(ctx, mod); err != nil {
		t.Fatalf("make moderator: %v", err)
	}
	const seed = 1000
	if _, err := h.AdjustKudos(ctx, mod, alice.ID, seed, "compat test budget", "compat-seed"); err != nil {
		t.Fatalf("seed kudos: %v", err)
	}

	wctx, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() { stopWorkers(); wg.Wait() })
	for _, w := range []struct {
		name string
		kind horde.RequestKind
	}{{"compat-image", horde.KindImage}, {"compat-text", horde.KindText}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := worker.Run(wctx, worker.Config{
				BaseURL: srv.URL, APIKey: volKey, Name: w.name, Kind: aihorde.Kind(w.kind), Backend: worker.NewProcedural(),
				PopInterval: 20 * time.Millisecond, Logger: quietLogger(),
				Retry: worker.RetryPolicy{BaseDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond},
			})
			if err != nil && !errors.Is(err, context.Canceled) && wctx.Err() == nil {
				t.Errorf("worker %s: %v", w.name, err)
			}
		}()
	}

	sum := runCompatClient(t, nodeBin, map[string]string{
		"HORDE_API_ROUTE": srv.URL + api.Prefix,
		"HORDE_KEY":       aliceKey,
		"HORDE_OTHER_KEY": bobKey,
		"HORDE_MOD_KEY":   modKey,
	})

	type check struct {
		what string
		ok   bool
		got  any
	}
	checks := []check{
		{"client reports ok", sum.OK && len(sum.Failures) == 0, sum.Failures},
		{"findUser: alice by key", sum.User.ID == alice.ID && sum.User.Username == "alice#"+strconv.FormatInt(alice.ID, 10), sum.User},
		{"findUser: seeded kudos", sum.User.Kudos == seed, sum.User.Kudos},
		{"image: two finished", sum.Image.Finished == 2 && len(sum.Image.Generations) == 2, sum.Image},
		{"image: served by the image worker", allImagesBy(sum, "compat-image", worker.ProceduralModel), sum.Image.Generations},
		{"image: links to this server", allImagesUnder(sum, srv.URL+api.Prefix+"/"), sum.Image.Generations},
		{"image: download is an image", sum.Image.Download.Status == 200 && sum.Image.Download.Bytes > 0 &&
			(sum.Image.Download.Format == "webp" || sum.Image.Download.Format == "png"), sum.Image.Download},
		{"text: served by the text worker", sum.Text.Text != "" && sum.Text.WorkerName == "compat-text", sum.Text},
		{"models: the procedural image model online", hasModel(sum, worker.ProceduralModel), sum.Models},
		{"performance: one image and one text worker", sum.Performance.WorkerCount == 1 && sum.Performance.TextWorkerCount == 1, sum.Performance},
		{"unservable: warned NoAvailableWorker", slices.Contains(sum.Unservable.WarningCodes, api.WarnNoAvailableWorker), sum.Unservable},
		{"workers: both listed", strings.Join(sum.Workers, ",") == "compat-image,compat-text", sum.Workers},
		{"transfer: 5 to bob", sum.Transfer.To == "bob#"+strconv.FormatInt(bob.ID, 10) && sum.Transfer.Transferred == 5 &&
			sum.Transfer.ReceiverAfter-sum.Transfer.ReceiverBefore == 5, sum.Transfer},
		{"updateUser: alice trusted", sum.Admin.Trusted, sum.Admin},
		{"deleteWorker: the client's rig", sum.Admin.WorkerDeleted.DeletedName == "compat-client-rig", sum.Admin},
		{"stats: images and texts counted", sum.Stats.ImageTotal.Images >= 2 && sum.Stats.TextTotal.Requests >= 1 && sum.Stats.Model == worker.ProceduralModel, sum.Stats},
		{"news: the configured piece", sum.Stats.News == 1, sum.Stats},
		{"filters: the configured lists", sum.Moderation.Filters == 2 && sum.Moderation.NotModerator != nil && sum.Moderation.NotModerator.RC == "NotModerator", sum.Moderation},
		{"shared keys: made, changed, deleted", sum.SharedKeys.Created == 100 && sum.SharedKeys.Changed == 50 &&
			sum.SharedKeys.AfterDelete != nil && sum.SharedKeys.AfterDelete.Status == 404, sum.SharedKeys},
		{"rating: rewarded once", sum.Rating.Reward > 0 && sum.Rating.Again != nil && sum.Rating.Again.RC == "AestheticsAlreadyExist", sum.Rating},
		{"text cancel: ran", sum.CancelText.ID != "", sum.CancelText},
	}
	for _, e := range []struct {
		name   string
		status int
		rc     string
	}{
		{"async_bad_key", 401, "InvalidAPIKey"},
		{"find_user_bad_key", 404, ""},
		{"check_unknown", 404, ""},
		{"text_status_unknown", 404, ""},
		{"transfer_unknown_user", 404, ""},
		{"transfer_too_much", 400, ""},
	} {
		got := sum.Errors[e.name]
		checks = append(checks, check{"error " + e.name, got != nil && got.Status == e.status && got.RC != "" && (e.rc == "" || got.RC == e.rc), got})
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: got %+v", c.what, c.got)
		}
	}

	// The server's own books agree with what the client saw.
	bobInfo, err := h.UserInfo(ctx, bob.ID)
	if err != nil {
		t.Fatalf("bob's info: %v", err)
	}
	if bobInfo.Kudos != sum.Transfer.ReceiverAfter {
		t.Errorf("bob's kudos on the server = %d, the client saw %d", bobInfo.Kudos, sum.Transfer.ReceiverAfter)
	}
	if bad, err := eng.Verify(ctx); err != nil || len(bad) > 0 {
		t.Errorf("kudos ledger verify: %v, mismatches %+v", err, bad)
	}
}

// mustUser creates an API user and returns it with its key.
func mustUser(t *testing.T, h *horde.Horde, name string) (horde.User, string) {
	t.Helper()
	u, key, err := h.CreateUser(context.Background(), name)
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
	return u, key
}

// runCompatClient runs client.mjs with env and decodes its summary.
func runCompatClient(t *testing.T, nodeBin string, env map[string]string) compatSummary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nodeBin, "client.mjs")
	cmd.Dir = compatDir
	cmd.Env = append(os.Environ(), "HORDE_TIMEOUT_MS=90000")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	var sum compatSummary
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("client.mjs (%v) printed no JSON summary (%v)\nstdout:\n%s\nstderr:\n%s", runErr, err, stdout.Bytes(), stderr.Bytes())
	}
	if runErr != nil || !sum.OK {
		t.Errorf("client.mjs failed (%v): %s\nstderr:\n%s", runErr, strings.Join(sum.Failures, "\n  "), stderr.Bytes())
	}
	t.Logf("client.mjs summary: %s", compact(stdout.Bytes()))
	return sum
}

func compact(b []byte) string {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return string(b)
	}
	return buf.String()
}

func allImagesBy(sum compatSummary, workerName, model string) bool {
	for _, g := range sum.Image.Generations {
		if g.WorkerName != workerName || g.Model != model {
			return false
		}
	}
	return len(sum.Image.Generations) > 0
}

func allImagesUnder(sum compatSummary, prefix string) bool {
	for _, g := range sum.Image.Generations {
		if !strings.HasPrefix(g.Img, prefix) {
			return false
		}
	}
	return len(sum.Image.Generations) > 0
}

func hasModel(sum compatSummary, name string) bool {
	for _, m := range sum.Models {
		if m.Name == name && m.Count >= 1 {
			return true
		}
	}
	return false
}

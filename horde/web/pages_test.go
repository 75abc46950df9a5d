package web_test

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/web"
	"github.com/hordebot/hordebot/kudos"

	"github.com/hordebot/hordebot/store/storetest"
)

// dataPoints returns the data-points attribute of the chart with this id.
func dataPoints(t *testing.T, body, id string) int {
	t.Helper()
	m := regexp.MustCompile(`<svg id="` + regexp.QuoteMeta(id) + `"[^>]*data-points="(\d+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no chart %s on the page", id)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// buckets counts the distinct buckets the times fall in (the points a chart draws).
func buckets(times []time.Time, b time.Duration) int {
	seen := map[int64]bool{}
	for _, t := range times {
		seen[t.UnixNano()/int64(b)] = true
	}
	return len(seen)
}

func TestStatusPageShowsTheQueueWorkersAndCharts(t *testing.T) {
	e := newEnv(t, web.Options{})
	c := e.seed()
	storetest.SweepEstimates(t, e.h) // the queue counts, on the shared queue
	perf, err := e.h.Performance(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	code, body := e.get("/")
	if code != http.StatusOK {
		t.Fatalf("GET / = %d", code)
	}
	contains(t, "status page", body,
		fmt.Sprintf(`id="image-queue">%d<`, perf.QueuedRequests),
		fmt.Sprintf(`id="image-workers">%d<`, perf.WorkerCount),
		"<th scope=\"row\">stable_diffusion</th>", `<html lang="en">`)
	if perf.QueuedRequests != 1 || perf.WorkerCount != 1 {
		t.Errorf("seeded horde has %d waiting and %d workers, want 1 and 1", perf.QueuedRequests, perf.WorkerCount)
	}
	for _, chart := range []string{"queue", "finished", "workers", "wait"} {
		if got, want := dataPoints(t, body, "day-"+chart), buckets(c.snapshotTimes, web.DayBucket); got != want {
			t.Errorf("day chart %s has %d points, want %d", chart, got, want)
		}
		if got, want := dataPoints(t, body, "month-"+chart), buckets(c.snapshotTimes, web.MonthBucket); got != want {
			t.Errorf("month chart %s has %d points, want %d", chart, got, want)
		}
	}
}

func TestLeaderboardShowsTheNumbersOfKudosLeaderboard(t *testing.T) {
	e := newEnv(t, web.Options{})
	e.seed()
	lb, err := e.k.Leaderboard(e.ctx, e.clock.Now()) // what /kudos leaderboard shows
	if err != nil {
		t.Fatal(err)
	}
	_, body := e.get("/leaderboard")
	for _, cat := range kudos.Categories {
		if len(lb.Categories[cat]) == 0 && cat != kudos.CategoryHelpful {
			continue
		}
		for _, er := range lb.Categories[cat] {
			u, _ := e.st.User(e.ctx, er.UserID)
			row := regexp.MustCompile(`(?s)id="board-` + string(cat) + `".*?>` + regexp.QuoteMeta(u.Name) + `</a></th><td class="kudos">(\d+)<`).FindStringSubmatch(body)
			if row == nil || row[1] != strconv.FormatInt(er.Kudos, 10) {
				t.Errorf("board %s: %s has %v on the page, /kudos leaderboard says %d", cat, u.Name, row, er.Kudos)
			}
		}
	}
	if len(lb.Categories[kudos.CategoryHelpful]) == 0 {
		t.Fatal("the seed awarded nothing helpful: the test checks nothing")
	}
	b, err := e.k.Board(e.ctx, kudos.SpanAll, e.clock.Now())
	if err != nil || len(b.Workers) == 0 {
		t.Fatalf("all-time board: %v, %d worker earners", err, len(b.Workers))
	}
	_, all := e.get("/leaderboard?span=all")
	u, _ := e.st.User(e.ctx, b.Workers[0].UserID)
	contains(t, "all-time board", all, fmt.Sprintf(`>%s</a></th><td class="kudos">%d<`, u.Name, b.Workers[0].Kudos))
	if code, _ := e.get("/leaderboard?span=year"); code != http.StatusBadRequest {
		t.Errorf("unknown span: %d, want 400", code)
	}
}

func TestGallery(t *testing.T) {
	e := newEnv(t, web.Options{})
	c := e.seed()
	// Two members rate the shared images (a best-of alone counts as a rater, not in the average).
	rated, _ := e.st.Generations(e.ctx, c.shared.ID)
	for i, r := range []struct {
		u      horde.User
		rating int
	}{{c.ada, 7}, {c.anon, 9}} {
		row := horde.RatingRecord{UserID: r.u.ID, GenerationID: rated[0].JobID, RequestID: c.shared.ID, Rating: r.rating, Artifacts: horde.NoArtifacts, At: time.Now()}
		entry := kudos.Entry{UserID: r.u.ID, Delta: 5, Kind: kudos.KindRating, Key: fmt.Sprintf("gallery-rating-%d", i), Floor: kudos.NoFloor}
		if _, err := e.st.RecordRatings(e.ctx, []horde.RatingRecord{row}, entry, time.Time{}, 0); err != nil {
			t.Fatal(err)
		}
	}
	_, body := e.get("/gallery")
	contains(t, "gallery", body, "a lighthouse at dawn", `aria-label="2 members reacted"`, ">bob</a>", "stable_diffusion",
		`aria-label="rated 8.0 out of 10 by 2 members">⭐ 8.0/10 (2)`)
	lacks(t, "gallery", body, "blurry", nsfwPrompt, flaggedPrompt, unsharedPrompt)
	_, nsfw := e.get("/gallery?nsfw=1")
	contains(t, "gallery with NSFW", nsfw, nsfwPrompt, "a lighthouse at dawn")
	lacks(t, "gallery with NSFW", nsfw, flaggedPrompt, unsharedPrompt)
	_, top := e.get("/gallery?order=top&nsfw=1")
	if strings.Index(top, "a lighthouse at dawn") > strings.Index(top, nsfwPrompt) {
		t.Error("most reacted: the share with 2 reactors is not first")
	}
	// The images are the request's results, cached for good.
	gens, _ := e.st.Generations(e.ctx, c.shared.ID)
	contains(t, "gallery", body, "/api/v2/results/"+gens[0].BlobRef)
	res, err := http.Get(e.srv.URL + "/api/v2/results/" + gens[0].BlobRef)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if cc := res.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") {
		t.Errorf("image Cache-Control %q", cc)
	}

	t.Run("a deleted share disappears", func(t *testing.T) {
		if err := e.st.ForgetSharedPost(e.ctx, "m1"); err != nil {
			t.Fatal(err)
		}
		_, body := e.get("/gallery")
		lacks(t, "gallery after the delete", body, "a lighthouse at dawn")
		_, bob := e.get(fmt.Sprintf("/u/bob?id=%d", c.bob.ID))
		lacks(t, "bob's page after the delete", bob, "a lighthouse at dawn")
	})
}

func TestMemberPage(t *testing.T) {
	e := newEnv(t, web.Options{})
	c := e.seed()
	bal, _ := e.st.Balance(e.ctx, c.ada.ID)
	code, body := e.get("/u/ada")
	if code != http.StatusOK {
		t.Fatalf("GET /u/ada = %d", code)
	}
	contains(t, "ada's page", body, fmt.Sprintf(`id="balance">%d<`, bal), `href="/w/ada-gpu"`,
		`<th scope="row">Helpful</th><td>1</td><td class="kudos">15</td>`)
	if got := dataPoints(t, body, "kudos"); got != web.MemberDays {
		t.Errorf("kudos chart has %d points, want %d", got, web.MemberDays)
	}
	_, bob := e.get(fmt.Sprintf("/u/bob?id=%d", c.bob.ID))
	contains(t, "bob's page", bob, "a lighthouse at dawn", `<th scope="row">Art</th><td>1</td><td class="kudos">9</td>`)
	lacks(t, "bob's page", bob, unsharedPrompt, nsfwPrompt)

	for _, path := range []string{"/u/nobody", fmt.Sprintf("/u/ada?id=%d", c.bob.ID), "/u/ada?id=x", "/u/" + strings.Repeat("a", 5000)} {
		if code, _ := e.get(path); code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path[:min(len(path), 40)], code)
		}
	}
}

func TestWorkerPage(t *testing.T) {
	e := newEnv(t, web.Options{})
	e.seed()
	w, err := e.h.WorkerByName(e.ctx, "ada-gpu")
	if err != nil {
		t.Fatal(err)
	}
	_, body := e.get("/w/ada-gpu")
	contains(t, "worker page", body, fmt.Sprintf(`id="jobs">%d<`, w.Fulfilled), "<li>stable_diffusion</li>", `class="ok">online`, ">ada</a>")
	if w.Fulfilled != 4 {
		t.Errorf("worker did %d jobs, want 4", w.Fulfilled)
	}
	if got := dataPoints(t, body, "uptime-day"); got != 24 {
		t.Errorf("uptime day chart: %d points, want 24", got)
	}
	if got := dataPoints(t, body, "uptime-month"); got != web.MemberDays {
		t.Errorf("uptime month chart: %d points, want %d", got, web.MemberDays)
	}
	// The three snapshots counted three online minutes.
	if !regexp.MustCompile(`uptime-day"[^>]*aria-label="[^"]*highest 1 min`).MatchString(body) {
		t.Error("uptime chart does not show the recorded minutes")
	}
	if code, _ := e.get("/w/nobody"); code != http.StatusNotFound {
		t.Errorf("unknown worker: %d", code)
	}
}

func TestRequestPage(t *testing.T) {
	e := newEnv(t, web.Options{})
	c := e.seed()
	res, err := http.Get(e.srv.URL + "/r/" + c.waiting.ID)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("request page Cache-Control %q, want no-store", cc)
	}
	_, body := e.get("/r/" + c.waiting.ID)
	contains(t, "waiting request page", body, `id="position">1<`, `data-done="false"`, "/static/live.js")
	lacks(t, "request page", body, "a waiting request")
	e.work(c.gpu, "ada-gpu", true)
	_, live := e.get("/r/" + c.waiting.ID + "?live=1")
	gens, _ := e.st.Generations(e.ctx, c.waiting.ID)
	contains(t, "finished live section", live, `data-done="true"`, "/api/v2/results/"+gens[0].BlobRef)
	lacks(t, "live section", live, "<html")
	for _, id := range []string{"unknown", "00000000-0000-0000-0000-000000000000", strings.Repeat("x", 3000)} {
		if code, _ := e.get("/r/" + id); code != http.StatusNotFound {
			t.Errorf("GET /r/%s = %d, want 404", id[:min(len(id), 20)], code)
		}
	}
}

// TestRequestPageShowsTheLivePreview: while the request's job runs, the
// page shows the worker's latest preview from the API's preview route (a
// new preview, a new address); once the request is done it shows the
// result and no preview, and the route has none.
func TestRequestPageShowsTheLivePreview(t *testing.T) {
	e := newEnv(t, web.Options{})
	c := e.seed()
	job := e.pop(c.gpu, "ada-gpu", true)
	_, body := e.get("/r/" + c.waiting.ID)
	contains(t, "request page of a job with no preview yet", body, "Generating")
	lacks(t, "request page of a job with no preview yet", body, `id="preview"`)

	red := solidPNG(64, 64, color.RGBA{R: 220, A: 255})
	e.preview(c.gpu, job.Job.ID, red)
	_, live := e.get("/r/" + c.waiting.ID + "?live=1")
	src := previewSrc(t, live)
	if !strings.HasPrefix(src, "/api/v2/generate/status/"+c.waiting.ID+"/preview?v=") {
		t.Fatalf("preview image at %q, want the API's preview route of the request", src)
	}
	contains(t, "live section with a preview", live, `alt="Live preview`)
	res, err := http.Get(e.srv.URL + strings.ReplaceAll(src, "&amp;", "&"))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "image/png" || !bytes.Equal(got, red) {
		t.Errorf("GET %s = %d %s (%d bytes), want the worker's PNG", src, res.StatusCode, res.Header.Get("Content-Type"), len(got))
	}

	e.preview(c.gpu, job.Job.ID, solidPNG(64, 64, color.RGBA{B: 220, A: 255}))
	_, live = e.get("/r/" + c.waiting.ID + "?live=1")
	if next := previewSrc(t, live); next == src {
		t.Errorf("a new preview kept the address %q: the browser would show the old one", src)
	}

	e.finish(c.gpu, job.Job.ID)
	_, live = e.get("/r/" + c.waiting.ID + "?live=1")
	contains(t, "finished live section", live, `data-done="true"`, "/api/v2/results/")
	lacks(t, "finished live section", live, `id="preview"`)
	if code, _ := e.get("/api/v2/generate/status/" + c.waiting.ID + "/preview"); code != http.StatusNotFound {
		t.Errorf("preview of a finished request = %d, want 404", code)
	}
}

// previewSrc is the src of the live preview's image in a page.
func previewSrc(t *testing.T, body string) string {
	t.Helper()
	_, after, ok := strings.Cut(body, `id="preview"><img src="`)
	if !ok {
		t.Fatalf("no live preview in %s", body)
	}
	src, _, _ := strings.Cut(after, `"`)
	return src
}

// Privacy: a flagged member's pages show the name only; no page shows a
// prompt that was not shared, an address or a key.
func TestPrivacy(t *testing.T) {
	e := newEnv(t, web.Options{})
	c := e.seed()
	_, eve := e.get("/u/eve")
	contains(t, "flagged member's page", eve, "<h1>eve</h1>")
	lacks(t, "flagged member's page", eve, `id="balance"`, ">50<", flaggedPrompt, "ada-gpu", "Kudos received")
	_, box := e.get("/w/eve-box")
	contains(t, "flagged member's worker", box, "<h1>eve-box</h1>")
	lacks(t, "flagged member's worker", box, ">eve</a>", "Jobs done", "Models")
	_, evil := e.get("/gallery?nsfw=1&order=top")
	lacks(t, "gallery", evil, flaggedPrompt, ">eve</a>")

	paths := []string{"/", "/leaderboard", "/leaderboard?span=month", "/leaderboard?span=all", "/gallery", "/gallery?nsfw=1",
		"/u/ada", "/u/bob", "/u/eve", "/w/ada-gpu", "/r/" + c.shared.ID, "/r/" + c.unshared.ID, "/r/" + c.waiting.ID}
	for _, p := range paths {
		_, body := e.get(p)
		lacks(t, p, body, unsharedPrompt, flaggedPrompt, "127.0.0.1", "apikey", "0000000000", "a waiting request")
	}
}

func TestPagesRefuseWhatTheyDoNotServe(t *testing.T) {
	e := newEnv(t, web.Options{})
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/", http.StatusMethodNotAllowed},
		{http.MethodDelete, "/gallery", http.StatusMethodNotAllowed},
		{http.MethodGet, "/nope", http.StatusNotFound},
		{http.MethodGet, "/static/nope.js", http.StatusNotFound},
		{http.MethodGet, "/static/style.css", http.StatusOK},
		{http.MethodGet, "/api/v2/nope", http.StatusNotFound},
	} {
		req, _ := http.NewRequest(tc.method, e.srv.URL+tc.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, res.StatusCode, tc.want)
		}
		if tc.path == "/api/v2/nope" && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("the API's 404 is %s, want JSON", res.Header.Get("Content-Type"))
		}
		if tc.path == "/static/style.css" && !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
			t.Errorf("static Cache-Control %q", res.Header.Get("Cache-Control"))
		}
	}
}

func TestFloodsAreCachedAndLimited(t *testing.T) {
	e := newEnv(t, web.Options{CacheFor: time.Minute, RatePerIP: 1, BurstPerIP: 3})
	for i := 0; i < 50; i++ { // one page, rendered once: the rest from the cache
		if code, _ := e.get("/"); code != http.StatusOK {
			t.Fatalf("GET / #%d = %d", i, code)
		}
	}
	codes := map[int]int{}
	for i := 0; i < 10; i++ { // distinct names miss the cache: the limit stops them
		code, _ := e.get(fmt.Sprintf("/u/nobody%d", i))
		codes[code]++
	}
	if codes[http.StatusTooManyRequests] == 0 || codes[http.StatusNotFound] == 0 {
		t.Errorf("ten distinct misses from one address: %v, want some 404 then 429", codes)
	}
}

// TestRecorderSnapshotsTheMinute: the snapshot of a minute holds the queue
// and workers as they are and the requests finished in the minute before,
// with their median wait; recording it again changes nothing.
func TestRecorderSnapshotsTheMinute(t *testing.T) {
	e := newEnv(t, web.Options{})
	ada := e.member("1", "ada", 1000)
	gpu := e.worker(ada, "gpu")
	minute := e.clock.Now().Truncate(time.Minute)
	e.clock.Set(minute.Add(time.Second))
	for i := 0; i < 3; i++ {
		e.submit(ada, fmt.Sprint("p", i), false)
	}
	for _, wait := range []time.Duration{10 * time.Second, 10 * time.Second, 30 * time.Second} {
		e.clock.Advance(wait)
		e.work(gpu, "gpu", false) // finished after 10 s, 20 s and 50 s
	}
	e.submit(ada, "still waiting", false)
	storetest.SweepEstimates(t, e.h) // the queue counts, on the shared queue
	rec := web.NewRecorder(e.h, e.st, e.clock, discard, 0)
	next := minute.Add(time.Minute + 5*time.Second)
	for i, want := range []bool{true, false} {
		ok, err := rec.Record(e.ctx, next)
		if err != nil || ok != want {
			t.Fatalf("record #%d: %v, %v; want %v", i+1, ok, err, want)
		}
	}
	snaps, err := e.st.Snapshots(e.ctx, minute, minute.Add(2*time.Minute), time.Minute)
	if err != nil || len(snaps) != 1 {
		t.Fatalf("snapshots: %+v, %v", snaps, err)
	}
	s := snaps[0]
	if s.ImageFinished != 3 || s.ImageQueue != 1 || s.ImageWorkers != 1 || s.MedianWait != 20*time.Second {
		t.Errorf("snapshot %+v: want 3 finished, 1 waiting, 1 worker, median wait 20s", s)
	}
}

package web_test

import (
	"context"
	"fmt"
	"image/color"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/hordebot/hordebot/horde/web"
)

// One headless chromium for the package (started by the first browser
// test); each test opens its own tab.
var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserErr    error
	browserCancel = func() {}
)

func TestMain(m *testing.M) {
	code := m.Run()
	browserCancel()
	os.Exit(code)
}

// chromiumPath finds Debian's chromium (or another Chrome on PATH).
func chromiumPath() string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// tab opens a browser tab for t, or skips t where no chromium is installed
// (and fails it on CI, where .ci/run installs one). It collects the page's
// console errors and failed loads into *errs.
func tab(t *testing.T, width, height int64) (context.Context, *[]string) {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed (CI installs it in .ci/run: apt-get install chromium)")
		}
		t.Skip("browser test skipped: chromium is not installed (apt-get install -y chromium)")
	}
	browserOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hordebot-web-chromium-")
		if err != nil {
			browserErr = err
			return
		}
		opts := append([]chromedp.ExecAllocatorOption{}, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
			chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.UserDataDir(dir),
			chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-dev-shm-usage", true), chromedp.Flag("mute-audio", true))
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
		ctx, cancelCtx := chromedp.NewContext(alloc)
		if err := chromedp.Do(ctx); err != nil { // starts the browser
			browserErr = err
		}
		browserCtx = ctx
		browserCancel = func() { cancelCtx(); cancelAlloc(); os.RemoveAll(dir) }
	})
	if browserErr != nil {
		t.Fatalf("start chromium: %v", browserErr)
	}
	ctx, cancel := chromedp.NewContext(browserCtx)
	t.Cleanup(cancel)
	// A bound on the whole test, not a timing assertion: a hung browser fails
	// the test instead of the package's timeout.
	ctx, cancelT := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancelT)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	var mu sync.Mutex
	errs := &[]string{}
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleType("error") || m.Type == chromedp.ConsoleType("warning") || m.IsException() {
				mu.Lock()
				*errs = append(*errs, m.String())
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancelT(); <-done })
	return ctx, errs
}

// shot writes a full-page screenshot of the tab into the test's artifacts.
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(t.ArtifactDir(), name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatalf("write screenshot: %v", err)
	}
	t.Logf("screenshot: %s", p)
}

// visit loads a page and returns the text of the selectors asked for.
func visit(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitReady("footer")); err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	// The images too (the load event), so that checks of loaded images do
	// not race them on a busy machine.
	waitFor(t, ctx, `document.readyState === "complete"`, "the whole page loaded")
}

// imagesLoadedJS loads every image sel selects (lazy ones too), waits for
// each to load or fail, and counts those that loaded.
func imagesLoadedJS(sel string) string {
	return `((imgs) => Promise.all(imgs.map(i => {
	i.loading = "eager";
	return i.complete ? 0 : new Promise(done => { i.addEventListener("load", done); i.addEventListener("error", done); });
})).then(() => imgs.filter(i => i.naturalWidth > 0).length))([...document.querySelectorAll(` + strconv.Quote(sel) + `)])`
}

func evalInt(t *testing.T, ctx context.Context, js string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return n
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// TestPagesInABrowser loads every page in chromium at desktop and phone
// sizes: no console error, the store's data on screen, the charts' vertex
// counts, no horizontal scroll at 375 px, and a screenshot of each.
func TestPagesInABrowser(t *testing.T) {
	e := newEnv(t, web.Options{})
	c := e.seed()
	bal, _ := e.st.Balance(e.ctx, c.ada.ID)
	perf, _ := e.h.Performance(e.ctx)
	pages := []struct {
		name, path string
		check      func(t *testing.T, ctx context.Context)
	}{
		{"status", "/", func(t *testing.T, ctx context.Context) {
			if got := text(t, ctx, "#image-queue"); got != fmt.Sprint(perf.QueuedRequests) {
				t.Errorf("images waiting shows %q, the horde has %d", got, perf.QueuedRequests)
			}
			want := buckets(c.snapshotTimes, web.DayBucket)
			if n := evalInt(t, ctx, `document.querySelector("#day-queue polyline").points.numberOfItems`); n != want {
				t.Errorf("day queue chart draws %d points, want %d", n, want)
			}
			if n := evalInt(t, ctx, `document.querySelectorAll("svg.chart").length`); n != 8 {
				t.Errorf("%d charts, want 8", n)
			}
		}},
		{"leaderboard", "/leaderboard", func(t *testing.T, ctx context.Context) {
			if got := text(t, ctx, "#board-helpful tbody tr td.kudos"); got != "15" {
				t.Errorf("helpful board's first row shows %q, want 15", got)
			}
		}},
		{"gallery", "/gallery", func(t *testing.T, ctx context.Context) {
			if n := evalInt(t, ctx, `document.querySelectorAll("#art li.art").length`); n != 1 {
				t.Errorf("gallery shows %d shares, want 1 (the NSFW one hidden, the flagged member's left out)", n)
			}
			// Lazy images may still be on their way after the load event (the
			// result comes from the database on PostgreSQL): wait for each.
			if n := evalInt(t, ctx, imagesLoadedJS("img")); n < 2 {
				t.Errorf("%d images loaded, want the icon and the share's", n)
			}
			if n := evalInt(t, ctx, `[...document.images].filter(i => !i.hasAttribute("alt")).length`); n != 0 {
				t.Errorf("%d images without alt text", n)
			}
		}},
		{"member-ada", "/u/ada", func(t *testing.T, ctx context.Context) {
			if got := text(t, ctx, "#balance"); got != fmt.Sprint(bal) {
				t.Errorf("balance shows %q, the store has %d", got, bal)
			}
			if n := evalInt(t, ctx, `document.querySelector("#kudos polyline").points.numberOfItems`); n != web.MemberDays {
				t.Errorf("kudos chart draws %d points, want %d", n, web.MemberDays)
			}
		}},
		{"worker", "/w/ada-gpu", func(t *testing.T, ctx context.Context) {
			if got := text(t, ctx, "#jobs"); got != "4" {
				t.Errorf("jobs done shows %q, want 4", got)
			}
			if n := evalInt(t, ctx, `document.querySelector("#uptime-day polyline").points.numberOfItems`); n != 24 {
				t.Errorf("uptime chart draws %d points, want 24", n)
			}
		}},
		{"member-flagged", "/u/eve", func(t *testing.T, ctx context.Context) {
			if n := evalInt(t, ctx, `document.querySelectorAll("main section").length`); n != 0 {
				t.Errorf("a flagged member's page has %d sections, want none", n)
			}
		}},
	}
	for _, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1280, 900}, {"phone", 375, 740}} {
		t.Run(size.name, func(t *testing.T) {
			ctx, errs := tab(t, size.w, size.h)
			for _, p := range pages {
				t.Run(p.name, func(t *testing.T) {
					n := len(*errs)
					visit(t, ctx, e.srv.URL+p.path)
					p.check(t, ctx)
					if lang := evalInt(t, ctx, `document.documentElement.lang === "en" ? 1 : 0`); lang != 1 {
						t.Error("no lang on <html>")
					}
					if over := evalInt(t, ctx, `document.documentElement.scrollWidth - document.documentElement.clientWidth`); over > 0 {
						t.Errorf("scrolls %d px sideways at %d px wide", over, size.w)
					}
					shot(t, ctx, p.name+"-"+size.name)
					if got := (*errs)[n:]; len(got) > 0 {
						t.Errorf("console errors: %q", got)
					}
				})
			}
		})
	}
}

// TestRequestPageUpdatesWhenItsJobFinishes: the page shows the queue
// position, then, with no reload, the result once a worker submits it.
func TestRequestPageUpdatesWhenItsJobFinishes(t *testing.T) {
	e := newEnv(t, web.Options{})
	c := e.seed()
	ctx, errs := tab(t, 375, 740)
	visit(t, ctx, e.srv.URL+"/r/"+c.waiting.ID)
	if got := text(t, ctx, "#position"); got != "1" {
		t.Errorf("position shows %q, want 1", got)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notReloaded = true`)); err != nil {
		t.Fatal(err)
	}
	e.work(c.gpu, "ada-gpu", true)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#live[data-done="true"] #results img`)); err != nil {
		t.Fatalf("the page did not show the result: %v", err)
	}
	if got := text(t, ctx, "#state"); got != "Done" {
		t.Errorf("state shows %q, want Done", got)
	}
	if n := evalInt(t, ctx, `window.notReloaded ? 1 : 0`); n != 1 {
		t.Error("the page reloaded instead of updating in place")
	}
	// The swapped-in section's image loads after it shows: wait for it.
	waitFor(t, ctx, `[...document.querySelectorAll("#results img")].filter(i => i.complete && i.naturalWidth > 0).length === 1`,
		"the result image loaded")
	shot(t, ctx, "request-done-phone")
	if len(*errs) > 0 {
		t.Errorf("console errors: %q", *errs)
	}
}

// TestRequestPageShowsTheLivePreview: while the job runs, the page shows
// the worker's preview and, with no reload, each newer one; when the job
// finishes the preview gives way to the result.
func TestRequestPageShowsTheLivePreviewInABrowser(t *testing.T) {
	e := newEnv(t, web.Options{})
	c := e.seed()
	job := e.pop(c.gpu, "ada-gpu", true)
	e.preview(c.gpu, job.Job.ID, solidPNG(64, 64, color.RGBA{R: 220, A: 255}))
	ctx, errs := tab(t, 375, 740)
	visit(t, ctx, e.srv.URL+"/r/"+c.waiting.ID)
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notReloaded = true`)); err != nil {
		t.Fatal(err)
	}
	loaded := `(() => { const i = document.querySelector("#preview img"); return i && i.complete ? i.naturalWidth : 0 })()`
	waitFor(t, ctx, loaded+` === 64`, "the first preview")
	if got := text(t, ctx, "#state"); !strings.HasPrefix(got, "Generating") {
		t.Errorf("state shows %q, want Generating", got)
	}
	shot(t, ctx, "request-preview-phone")

	e.preview(c.gpu, job.Job.ID, solidPNG(96, 96, color.RGBA{G: 180, A: 255}))
	waitFor(t, ctx, loaded+` === 96`, "the newer preview")

	e.finish(c.gpu, job.Job.ID)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#live[data-done="true"] #results img`)); err != nil {
		t.Fatalf("the page did not show the result: %v", err)
	}
	if n := evalInt(t, ctx, `document.querySelectorAll("#preview").length`); n != 0 {
		t.Error("the finished request's page still shows a live preview")
	}
	if n := evalInt(t, ctx, `window.notReloaded ? 1 : 0`); n != 1 {
		t.Error("the page reloaded instead of updating in place")
	}
	if n := evalInt(t, ctx, `document.documentElement.scrollWidth > window.innerWidth ? 1 : 0`); n != 0 {
		t.Error("the phone-sized page scrolls sideways")
	}
	if len(*errs) > 0 {
		t.Errorf("console errors: %q", *errs)
	}
}

// waitFor waits until the JavaScript expression js is true in the tab
// (bounded by the tab's deadline, not timed).
func waitFor(t *testing.T, ctx context.Context, js, what string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(50*time.Second))); err != nil {
		t.Fatalf("the page did not show %s: %v", what, err)
	}
}

// TestDarkTheme: with prefers-color-scheme: dark the pages turn dark (the
// body's background and text swap), and a screenshot shows it.
func TestDarkTheme(t *testing.T) {
	e := newEnv(t, web.Options{})
	e.seed()
	ctx, errs := tab(t, 1280, 900)
	bg := func() string {
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	visit(t, ctx, e.srv.URL+"/")
	light := bg()
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}}); err != nil {
		t.Fatalf("emulate dark: %v", err)
	}
	for _, p := range []string{"/", "/gallery"} {
		visit(t, ctx, e.srv.URL+p)
		if dark := bg(); dark == light || light != "rgb(255, 255, 255)" {
			t.Errorf("%s: background %s in the light theme, %s in the dark one", p, light, dark)
		}
	}
	shot(t, ctx, "gallery-dark")
	if len(*errs) > 0 {
		t.Errorf("console errors: %q", *errs)
	}
}

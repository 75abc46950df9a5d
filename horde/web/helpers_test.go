package web_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hordebot/hordebot/assets"
	"github.com/hordebot/hordebot/bot/sharedpost"
	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/imagecheck"
	"github.com/hordebot/hordebot/horde/web"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

var discard = slog.New(slog.DiscardHandler)

// env is a real store in a temp dir, the horde and kudos engine over it,
// and the API and the pages on one httptest server, as `run` serves them.
type env struct {
	tb    testing.TB
	ctx   context.Context
	clock *storetest.Clock
	st    *store.Store
	h     *horde.Horde
	k     *kudos.Engine
	pages *web.Handler
	srv   *httptest.Server
	keys  atomic.Int64
	// previews are the workers' live previews, taken and served by the
	// API and shown by the request page.
	previews *horde.Previews
}

// start is a Wednesday noon, so that the week and the month hold the
// entries of the last few days.
var start = time.Date(2026, 3, 18, 12, 0, 0, 0, time.UTC)

func newEnv(tb testing.TB, opt web.Options) *env {
	tb.Helper()
	e := &env{tb: tb, ctx: context.Background(), clock: storetest.NewClock(start)}
	e.st = storetest.MustOpen(tb, tb.TempDir(), e.clock)
	var err error
	if e.h, err = horde.New(e.ctx, e.st, horde.Config{Clock: e.clock, Logger: discard, Queue: e.st.SharedQueue()}); err != nil {
		tb.Fatalf("new horde: %v", err)
	}
	if e.k, err = kudos.New(e.st, kudos.DefaultConfig(), e.clock, kudos.WithLogger(discard)); err != nil {
		tb.Fatalf("new kudos engine: %v", err)
	}
	opt.Clock, opt.Logger = e.clock, discard
	if opt.CacheFor == 0 {
		opt.CacheFor, opt.DataFor = -1, -1 // tests change the store between page loads
	}
	if opt.RatePerIP == 0 {
		opt.RatePerIP, opt.BurstPerIP = 1e9, 1e9 // the fake clock never refills a bucket
	}
	e.previews = horde.NewPreviews(e.h, e.st, horde.PreviewConfig{Check: imagecheck.Preview})
	if opt.Previews == nil {
		opt.Previews = e.previews
	}
	if e.pages, err = web.New(e.h, e.k, e.st, assets.Web, opt); err != nil {
		tb.Fatalf("new pages: %v", err)
	}
	mux := http.NewServeMux()
	mux.Handle(api.Prefix+"/", api.New(e.h, api.Options{Clock: e.clock, Logger: discard, Previews: e.previews}))
	mux.Handle("/", e.pages)
	e.srv = httptest.NewServer(mux)
	tb.Cleanup(e.srv.Close)
	return e
}

// member creates a Discord member with a balance.
func (e *env) member(discordID, name string, balance int64) horde.User {
	e.tb.Helper()
	u, err := e.h.DiscordUser(e.ctx, discordID, name)
	if err != nil {
		e.tb.Fatalf("member %s: %v", name, err)
	}
	e.entry(u.ID, balance, kudos.KindAdmin)
	return u
}

// entry writes one ledger entry.
func (e *env) entry(userID, delta int64, kind kudos.EntryKind) {
	e.tb.Helper()
	if delta == 0 {
		return
	}
	if _, err := e.st.Apply(e.ctx, kudos.Entry{UserID: userID, Delta: delta, Kind: kind, Reason: "test",
		Key: fmt.Sprintf("test:%d", e.keys.Add(1)), Floor: kudos.NoFloor, At: e.clock.Now()}); err != nil {
		e.tb.Fatalf("entry %d %s for %d: %v", delta, kind, userID, err)
	}
}

// worker registers an image worker for owner and returns its credential.
func (e *env) worker(owner horde.User, name string) horde.Credential {
	e.tb.Helper()
	_, key, err := e.h.RegisterWorker(e.ctx, owner, name, horde.KindImage)
	if err != nil {
		e.tb.Fatalf("register worker %s: %v", name, err)
	}
	c, err := e.h.Authenticate(e.ctx, key)
	if err != nil {
		e.tb.Fatalf("authenticate worker %s: %v", name, err)
	}
	return c
}

// submit queues an image request of u.
func (e *env) submit(u horde.User, prompt string, nsfw bool) horde.Request {
	e.tb.Helper()
	r, _, err := e.h.Submit(e.ctx, u, horde.NewRequest{Kind: horde.KindImage, Prompt: prompt, Models: []string{"stable_diffusion"},
		N: 1, NSFW: nsfw, R2: true, Image: &horde.ImageParams{Width: 512, Height: 512, Steps: 20}, Source: "discord"})
	if err != nil {
		e.tb.Fatalf("submit %q: %v", prompt, err)
	}
	return r
}

// work pops one job as the worker and submits a real PNG for it.
func (e *env) work(w horde.Credential, name string, nsfw bool) horde.Assignment {
	e.tb.Helper()
	a := e.pop(w, name, nsfw)
	e.finish(w, a.Job.ID)
	return a
}

// pop pops one job as the worker and leaves it processing.
func (e *env) pop(w horde.Credential, name string, nsfw bool) horde.Assignment {
	e.tb.Helper()
	as, sk, err := e.h.Pop(e.ctx, w, horde.PopRequest{Kind: horde.KindImage, Name: name, Models: []string{"stable_diffusion"},
		MaxPixels: 1024 * 1024, NSFW: nsfw, Amount: 1})
	if err != nil || len(as) != 1 {
		e.tb.Fatalf("pop as %s: %d jobs, skipped %v, err %v", name, len(as), sk, err)
	}
	return as[0]
}

// finish submits a real PNG for a processing job.
func (e *env) finish(w horde.Credential, jobID string) {
	e.tb.Helper()
	if _, err := e.h.SubmitResult(e.ctx, w, horde.Submission{JobID: jobID, State: horde.ResultOK, Image: pngOf(jobID)}); err != nil {
		e.tb.Fatalf("submit result of %s: %v", jobID, err)
	}
}

// preview sends a live preview of a processing job as its worker would,
// a second after the last one (the horde takes one a second per job).
func (e *env) preview(w horde.Credential, jobID string, data []byte) {
	e.tb.Helper()
	e.clock.Advance(time.Second)
	if _, err := e.previews.Put(e.ctx, w, jobID, data); err != nil {
		e.tb.Fatalf("preview of %s: %v", jobID, err)
	}
}

// solidPNG is a w x h PNG of one colour: a live preview.
func solidPNG(w, h int, c color.RGBA) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// pngOf is a small real image, its colour from s.
func pngOf(s string) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 64))
	c := color.RGBA{R: s[0], G: s[1], B: s[2], A: 255}
	for y := 0; y < 64; y++ {
		for x := 0; x < 64; x++ {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// share records a post of request r shared to the art channel by u, with
// reactions by the given members.
func (e *env) share(u horde.User, r horde.Request, messageID string, reactors ...horde.User) {
	e.tb.Helper()
	if err := e.st.RecordSharedPost(e.ctx, sharedpost.Post{MessageID: messageID, ChannelID: "art", DiscordUserID: u.DiscordID, RequestID: r.ID}); err != nil {
		e.tb.Fatalf("share %s: %v", r.ID, err)
	}
	for _, rx := range reactors {
		if err := e.st.RecordArtReaction(e.ctx, kudos.ArtReaction{MessageID: messageID, ChannelID: "art", AuthorID: u.ID,
			ReactorID: rx.ID, Emoji: "🎨", Added: true, At: e.clock.Now()}); err != nil {
			e.tb.Fatalf("react on %s: %v", messageID, err)
		}
	}
}

// get fetches a path and returns its status and body.
func (e *env) get(path string) (int, string) {
	e.tb.Helper()
	res, err := http.Get(e.srv.URL + path)
	if err != nil {
		e.tb.Fatalf("GET %s: %v", path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.tb.Fatalf("GET %s: %v", path, err)
	}
	return res.StatusCode, string(b)
}

// community is the seeded scene most tests read: members, a worker,
// finished and waiting requests, shares, awards, snapshots.
type community struct {
	ada, bob, eve, anon horde.User // eve is flagged
	gpu                 horde.Credential
	shared, nsfwShared  horde.Request
	unshared, evilShare horde.Request
	waiting             horde.Request
	snapshotTimes       []time.Time
}

// Prompts that must never appear on a page.
const (
	unsharedPrompt = "a secret unshared castle"
	flaggedPrompt  = "eve's flagged share"
	nsfwPrompt     = "an nsfw shared figure"
)

func (e *env) seed() community {
	e.tb.Helper()
	var c community
	c.ada = e.member("100", "ada", 500)
	c.bob = e.member("200", "bob", 300)
	c.eve = e.member("300", "eve", 50)
	c.gpu = e.worker(c.ada, "ada-gpu")

	c.shared = e.submit(c.bob, "a lighthouse at dawn ### blurry", false)
	e.work(c.gpu, "ada-gpu", true)
	c.nsfwShared = e.submit(c.bob, nsfwPrompt, true)
	e.work(c.gpu, "ada-gpu", true)
	c.unshared = e.submit(c.bob, unsharedPrompt, false)
	e.work(c.gpu, "ada-gpu", true)
	c.evilShare = e.submit(c.eve, flaggedPrompt, false)
	e.work(c.gpu, "ada-gpu", true)

	e.share(c.bob, c.shared, "m1", c.ada, c.eve)
	e.share(c.bob, c.nsfwShared, "m2")
	e.share(c.eve, c.evilShare, "m3", c.ada, c.bob)

	e.entry(c.ada.ID, 15, kudos.KindAwardHelpful)
	e.entry(c.bob.ID, 9, kudos.KindAwardArt)
	e.entry(c.bob.ID, 10, kudos.KindAwardModeration)

	e.worker(c.eve, "eve-box")
	eve := c.eve
	eve.Flagged = true
	if err := e.st.UpdateUser(e.ctx, eve); err != nil {
		e.tb.Fatalf("flag eve: %v", err)
	}

	// Snapshots over the last day: three in distinct 15-minute buckets.
	rec := web.NewRecorder(e.h, e.st, e.clock, discard, 0)
	for _, ago := range []time.Duration{5 * time.Hour, 2 * time.Hour, 20 * time.Minute} {
		at := e.clock.Now().Add(-ago)
		if _, err := rec.Record(e.ctx, at); err != nil {
			e.tb.Fatalf("record snapshot: %v", err)
		}
		c.snapshotTimes = append(c.snapshotTimes, at.Truncate(time.Minute))
	}
	c.waiting = e.submit(c.ada, "a waiting request", false)
	return c
}

// contains fails unless body has each of want.
func contains(t *testing.T, what, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Errorf("%s does not show %q", what, w)
		}
	}
}

// lacks fails if body has any of bad.
func lacks(t *testing.T, what, body string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(body, b) {
			t.Errorf("%s shows %q", what, b)
		}
	}
}

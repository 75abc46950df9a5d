package bot_test

import (
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/kudos"
	"github.com/hordebot/hordebot/store"
)

// reopenWithQuota restarts the bot over the same data directory opened with
// a database quota (store.Options.MaxDBBytes), as an admin's config would.
func (h *harness) reopenWithQuota(maxDBBytes int64) {
	h.t.Helper()
	must(h.t, h.srv.WaitHeartbeat(h.ctx)) // see discordtest's doc on closing a fresh session
	stop(h.bot, h.sess)
	must(h.t, h.st.Close())
	kcfg := h.kudos.Config()
	var err error
	h.st, err = store.Open(h.ctx, h.dir, store.Options{Clock: h.clock, Logger: quietLogger(), MaxDBBytes: maxDBBytes})
	must(h.t, err)
	st := h.st
	h.t.Cleanup(func() { _ = st.Close() })
	h.horde, err = horde.New(h.ctx, h.st, horde.Config{Clock: h.clock, Logger: quietLogger(), MemberFloor: -100, AnonymousFloor: -1000000})
	must(h.t, err)
	h.kudos, err = kudos.New(h.st, kcfg, h.clock, kudos.WithLogger(quietLogger()))
	must(h.t, err)
	h.start()
}

// TestImagineOnFullStorageSaysSo: with the database at its quota, /imagine
// tells the member, privately, that storage is unavailable (not a generic
// failure), and nothing is queued or left for delivery.
func TestImagineOnFullStorageSaysSo(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.workerCred("gpu")
	h.popImages(w, "gpu-1")
	_, err := h.horde.DiscordUser(h.ctx, h.alice.ID, "alice") // her account exists already
	must(t, err)
	h.reopenWithQuota(1) // the database cannot grow
	h.popImages(w, "gpu-1")

	// The longest prompt and negative prompt Discord allows, in Japanese:
	// stored, they need pages the database cannot have.
	prompt := strings.Repeat("嵐の灯台", 250)
	negative := strings.Repeat("ぼやけ", 166)
	tok := h.run(h.alice, h.general, "imagine", opt("prompt", prompt), opt("negative", negative))
	text, private := h.reply(tok)
	if !private {
		t.Errorf("the failure was shown to the channel: %q", text)
	}
	wantContains(t, text, "storage is unavailable")
	if as := h.popImages(w, "gpu-1"); len(as) != 0 {
		t.Fatalf("a worker popped %d jobs of a refused request", len(as))
	}
	pending, err := h.st.DiscordDeliveries(h.ctx)
	must(t, err)
	if len(pending) != 0 {
		t.Fatalf("%d deliveries pending for a refused request", len(pending))
	}
}

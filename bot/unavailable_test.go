package bot_test

import (
	"strings"
	"testing"
)

// reopenWithQuota restarts the bot over the same data directory opened with
// a database quota (store.Options.MaxDBBytes), as an admin's config would.
func (h *harness) reopenWithQuota(maxDBBytes int64) {
	h.t.Helper()
	must(h.t, h.srv.WaitHeartbeat(h.ctx)) // see discordtest's doc on closing a fresh session
	stop(h.bot, h.sess)
	must(h.t, h.st.Close())
	h.openServices(h.kudos.Config(), maxDBBytes)
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

package bot_test

import (
	"strings"
	"testing"
)

// reopenWithQuota restarts the bot over the same data directory opened with
// a database quota (store.Options.MaxDBBytes), as an admin's config would.
func reopenWithQuota(h *harness, maxDBBytes int64) {
	h.T.Helper()
	must(h.T, h.Srv.WaitHeartbeat(h.Ctx)) // see discordtest's doc on closing a fresh session
	stop(h.Bot, h.Sess)
	must(h.T, h.Store.Close())
	h.OpenServices(h.Kudos.Config(), maxDBBytes)
	h.Start()
}

// TestImagineOnFullStorageSaysSo: with the database at its quota, /imagine
// tells the member, privately, that storage is unavailable (not a generic
// failure), and nothing is queued or left for delivery.
func TestImagineOnFullStorageSaysSo(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.WorkerCred("gpu")
	h.PopImages(w, "gpu-1")
	_, err := h.Horde.DiscordUser(h.Ctx, h.Alice.ID, "alice") // her account exists already
	must(t, err)
	reopenWithQuota(h, 1) // the database cannot grow
	h.PopImages(w, "gpu-1")

	// The longest prompt and negative prompt Discord allows, in Japanese:
	// stored, they need pages the database cannot have.
	prompt := strings.Repeat("嵐の灯台", 250)
	negative := strings.Repeat("ぼやけ", 166)
	tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", prompt), opt("negative", negative))
	text, private := h.Reply(tok)
	if !private {
		t.Errorf("the failure was shown to the channel: %q", text)
	}
	wantContains(t, text, "storage is unavailable")
	if as := h.PopImages(w, "gpu-1"); len(as) != 0 {
		t.Fatalf("a worker popped %d jobs of a refused request", len(as))
	}
	pending, err := h.Store.DiscordDeliveries(h.Ctx)
	must(t, err)
	if len(pending) != 0 {
		t.Fatalf("%d deliveries pending for a refused request", len(pending))
	}
}

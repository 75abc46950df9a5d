package commands_test

import (
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde"
)

func TestWorkerCommands(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	t.Run("refused in a guild", func(t *testing.T) {
		h := h.On(t)
		text, private := h.Reply(h.Run(h.Alice, h.General, "worker", sub("register", opt("name", "rig"))))
		if !private || !strings.Contains(text, "DM") {
			t.Fatalf("reply %q private %v, want a private note about DMs", text, private)
		}
		if _, err := h.Horde.WorkerByName(h.Ctx, "rig"); err == nil {
			t.Fatal("a worker was registered from a guild")
		}
	})

	var key string
	t.Run("register shows the key once in the DM", func(t *testing.T) {
		h := h.On(t)
		text, _ := h.Reply(h.DM(h.Alice, "worker", sub("register", opt("name", "alice-rig"))))
		wantContains(t, text, "HORDE_API_KEY=<the key> hordeworker --url http://horde.test --name alice-rig --kind image --backend comfyui --comfyui-url http://127.0.0.1:8188")
		wantContains(t, text, "`--backend a1111 --backend-url http://127.0.0.1:7860`")
		// The settings README gives for horde-worker-reGen, with this horde's URL and the worker's name.
		wantContains(t, text, `horde_url: "http://horde.test/api/"`)
		wantContains(t, text, `dreamer_name: "alice-rig"`)
		// The key itself is in the first code block, shown once.
		key = strings.TrimSpace(strings.SplitN(strings.SplitN(text, "```", 3)[1], "\n", 3)[1])
		if strings.Count(text, key) != 1 {
			t.Fatalf("the key is shown %d times, want once", strings.Count(text, key))
		}
		c, err := h.Horde.Authenticate(h.Ctx, key)
		must(t, err)
		if c.WorkerID == "" {
			t.Fatal("the shown key is not a worker key")
		}
		listed, _ := h.Reply(h.DM(h.Alice, "worker", sub("list")))
		wantContains(t, listed, "alice-rig")
		info, _ := h.Reply(h.DM(h.Alice, "worker", sub("info", opt("name", "alice-rig"))))
		if strings.Contains(listed+info, key) {
			t.Fatal("the key was shown again")
		}
	})
	t.Run("a text worker's DM gives the KoboldAI bridge's settings", func(t *testing.T) {
		h := h.On(t)
		text, _ := h.Reply(h.DM(h.Bob, "worker", sub("register", opt("name", "bob-kobold"), opt("kind", "text"))))
		wantContains(t, text, "hordeworker --url http://horde.test --name bob-kobold --kind text --backend kobold --backend-url http://127.0.0.1:5001")
		wantContains(t, text, `cluster_url = "http://horde.test"`)
		wantContains(t, text, `kai_name = "bob-kobold"`)
		wantContains(t, text, "python bridge.py -c http://horde.test -a <the key> -n bob-kobold")
	})
	t.Run("an alchemist's DM gives hordeworker's alchemy kind and reGen's alchemist settings", func(t *testing.T) {
		h := h.On(t)
		text, _ := h.Reply(h.DM(h.Bob, "worker", sub("register", opt("name", "bob-alchemist"), opt("kind", "interrogation"))))
		wantContains(t, text, "hordeworker --url http://horde.test --name bob-alchemist --kind alchemy")
		wantContains(t, text, `alchemist_name: "bob-alchemist"`)
		w, err := h.Horde.WorkerByName(h.Ctx, "bob-alchemist")
		must(t, err)
		if w.Kind != horde.KindAlchemy {
			t.Fatalf("registered a %s worker, want an alchemist", w.Kind)
		}
	})
	t.Run("another member's worker is not found", func(t *testing.T) {
		h := h.On(t)
		text, _ := h.Reply(h.DM(h.Bob, "worker", sub("delete", opt("name", "alice-rig"))))
		wantContains(t, text, "no worker named")
	})
	t.Run("maintenance", func(t *testing.T) {
		h := h.On(t)
		text, _ := h.Reply(h.DM(h.Alice, "worker", sub("maintenance", opt("name", "alice-rig"), opt("enabled", true))))
		wantContains(t, text, "maintenance")
		w, err := h.Horde.WorkerByName(h.Ctx, "alice-rig")
		must(t, err)
		if !w.Maintenance {
			t.Fatal("worker not in maintenance")
		}
	})
	t.Run("rename", func(t *testing.T) {
		h := h.On(t)
		text, _ := h.Reply(h.DM(h.Alice, "worker", sub("rename", opt("name", "alice-rig"), opt("new_name", "alice-gpu"))))
		wantContains(t, text, "alice-gpu")
		if _, err := h.Horde.WorkerByName(h.Ctx, "alice-gpu"); err != nil {
			t.Fatalf("renamed worker not found: %v", err)
		}
	})
	t.Run("rotate-key", func(t *testing.T) {
		h := h.On(t)
		text, _ := h.Reply(h.DM(h.Alice, "worker", sub("rotate-key", opt("name", "alice-gpu"))))
		wantContains(t, text, "HORDE_API_KEY=")
		if _, err := h.Horde.Authenticate(h.Ctx, key); err == nil {
			t.Fatal("the old key still works")
		}
	})
	t.Run("delete", func(t *testing.T) {
		h := h.On(t)
		text, _ := h.Reply(h.DM(h.Alice, "worker", sub("delete", opt("name", "alice-gpu"))))
		wantContains(t, text, "deleted")
		if _, err := h.Horde.WorkerByName(h.Ctx, "alice-gpu"); err == nil {
			t.Fatal("worker still exists")
		}
	})
}

package commands_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/bot/discordtest"
	"github.com/hordebot/hordebot/horde"
)

// previewFiles are a message's live-preview attachments.
func previewFiles(m discordtest.Message) []discordtest.File {
	var out []discordtest.File
	for _, f := range m.Files {
		if strings.HasPrefix(f.Name, "preview.") {
			out = append(out, f)
		}
	}
	return out
}

// showsPreview reports whether m carries exactly one live preview, img.
func showsPreview(img []byte) func(discordtest.Message) bool {
	return func(m discordtest.Message) bool {
		p := previewFiles(m)
		return len(p) == 1 && bytes.Equal(p[0].Data, img)
	}
}

// TestImagineProgressShowsLivePreview: while a worker sends previews of the
// jobs of an /imagine, its progress message carries the latest one (each
// uploaded once, the newer replacing the older) until the result replaces
// it.
func TestImagineProgressShowsLivePreview(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	w := h.WorkerCred("gpu")
	h.PopImages(w, "gpu-1") // the worker is online: the request is possible

	tok := h.Run(h.Alice, h.General, "imagine", opt("prompt", "a lighthouse at dusk"), opt("count", 2))
	h.Original(tok, "queue position", queuedMsg)
	pop := func() horde.Assignment {
		as, _, err := h.Horde.Pop(h.Ctx, w, horde.PopRequest{Kind: horde.KindImage, Name: "gpu-1", Models: []string{"stable_diffusion"}, MaxPixels: 1024 * 1024, Amount: 1, Threads: 1})
		must(t, err)
		if len(as) != 1 {
			t.Fatalf("popped %d jobs, want 1", len(as))
		}
		return as[0]
	}
	first := pop()

	// The worker's first preview shows in the progress message.
	early := solidPNG(t, 64, 64, 1)
	_, err := h.Previews.Put(h.Ctx, w, first.Job.ID, early)
	must(t, err)
	m := h.Original(tok, "the first preview", showsPreview(early))
	wantContains(t, m.Content, "1 in progress")

	// The second image starts: the text changes, the same preview stays
	// and is not sent again.
	second := pop()
	h.Original(tok, "two in progress", func(m discordtest.Message) bool {
		return strings.Contains(m.Content, "2 in progress") && showsPreview(early)(m)
	})
	uploads := func(img []byte) int {
		n := 0
		for _, r := range h.Srv.Requests() {
			for _, f := range r.Files {
				if strings.HasPrefix(f.Name, "preview.") && bytes.Equal(f.Data, img) {
					n++
				}
			}
		}
		return n
	}
	if n := uploads(early); n != 1 {
		t.Errorf("the first preview was uploaded %d times, want once", n)
	}

	// A newer preview (of the other job) replaces it.
	later := solidPNG(t, 64, 64, 2)
	_, err = h.Previews.Put(h.Ctx, w, second.Job.ID, later)
	must(t, err)
	h.Original(tok, "the newer preview alone", showsPreview(later))

	// The result replaces the preview.
	for i, a := range []horde.Assignment{first, second} {
		_, err := h.Horde.SubmitResult(h.Ctx, w, horde.Submission{JobID: a.Job.ID, State: horde.ResultOK, Image: solidPNG(t, 512, 512, 10+i)})
		must(t, err)
	}
	res := h.Original(tok, "result", func(m discordtest.Message) bool { return len(m.Components) > 0 && len(m.Files) > 0 })
	if p := previewFiles(res); len(p) != 0 {
		t.Errorf("the result still carries %d previews: %v", len(p), fileNames(res))
	}
	if n := uploads(later); n != 1 {
		t.Errorf("the newer preview was uploaded %d times, want once", n)
	}
}

func fileNames(m discordtest.Message) []string {
	var out []string
	for _, f := range m.Files {
		out = append(out, f.Name)
	}
	return out
}

package worker

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"slices"
	"testing"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// The graphs the ComfyUI backend queues for painting, LoRAs, batches and
// the hires fix, asserted by their wiring: which node's output each input
// takes, as ComfyUI would run it. The fake ComfyUI validates every graph as
// ComfyUI does and makes images of the size and batch the graph makes.

// linked returns the node an input links to, checking that it is output
// out of a node of class.
func linked(t *testing.T, g map[string]any, v any, class string, out int) (string, map[string]any) {
	t.Helper()
	l, ok := asComfyLink(v)
	if !ok {
		t.Fatalf("%v is not a link (want %s output %d)", v, class, out)
	}
	n, _ := g[l.node].(map[string]any)
	if n == nil || n["class_type"] != class || l.output != out {
		t.Fatalf("%v links to %v output %d, want %s output %d", v, n["class_type"], l.output, class, out)
	}
	return l.node, n["inputs"].(map[string]any)
}

// savedChain follows a graph from its SaveImage (through a painting's
// ImageCompositeMasked, whose destination is the decoded image) back to
// the KSampler that made the latent VAEDecode decoded, and returns that
// KSampler and the checkpoint loader whose VAE decoded it.
func savedChain(t *testing.T, g map[string]any) (ksID string, ks map[string]any, ckptID string) {
	t.Helper()
	images := inputs(t, g, "SaveImage")["images"]
	if l, ok := asComfyLink(images); ok && g[l.node].(map[string]any)["class_type"] == "ImageCompositeMasked" {
		images = comfyInputs(g, l.node)["destination"]
	}
	_, dec := linked(t, g, images, "VAEDecode", 0)
	ksID, ks = linked(t, g, dec["samples"], "KSampler", 0)
	ckptID, _ = linked(t, g, dec["vae"], "CheckpointLoaderSimple", 2)
	return ksID, ks, ckptID
}

// onlyPrompt is the one prompt f received.
func onlyPrompt(t *testing.T, f *fakeComfyUI) map[string]any {
	t.Helper()
	ps := f.snapshotPrompts()
	if len(ps) != 1 {
		t.Fatalf("%d prompts queued, want 1", len(ps))
	}
	return ps[0].graph
}

func TestComfyUIInpaintGraph(t *testing.T) {
	for _, tt := range []struct {
		name        string
		processing  string
		mask        func(t *testing.T) []byte
		paint, keep image.Point // probes of the uploaded canvas: transparent, opaque
	}{
		{"outpainting a zoom-out canvas paints its transparent border", "outpainting", nil, image.Pt(2, 2), image.Pt(48, 32)},
		{"inpainting paints the white of the mask", "inpainting",
			func(t *testing.T) []byte { return squareMask(t, 96, 64, 40, 20, 60, 40) }, image.Pt(50, 30), image.Pt(5, 5)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeComfyUI(t)
			c := newTestComfyUI(t, f, ComfyUIOptions{})
			job := comfyJob()
			job.Image.SourceImage, job.Image.SourceProcessing, job.Image.DenoisingStrength = zoomCanvas(t, 96, 64), tt.processing, 0.4
			if tt.mask != nil {
				job.Image.SourceMask = tt.mask(t)
			}
			res, err := c.Generate(context.Background(), job)
			if err != nil {
				t.Fatal(err)
			}
			checkWebP(t, res.Image, 96, 64)
			g := onlyPrompt(t, f)

			// SaveImage <- VAEDecode <- KSampler (denoise 1: VAEEncodeForInpaint
			// blanks what it paints) <- RepeatLatentBatch(1) <- VAEEncodeForInpaint,
			// whose pixels and mask are LoadImage's IMAGE and MASK.
			_, ks, ckpt := savedChain(t, g)
			if ks["denoise"] != 1.0 {
				t.Errorf("KSampler denoise %v, want 1 (painting samples the blanked part whole)", ks["denoise"])
			}
			_, rep := linked(t, g, ks["latent_image"], "RepeatLatentBatch", 0)
			if rep["amount"] != 1.0 {
				t.Errorf("RepeatLatentBatch amount %v, want 1", rep["amount"])
			}
			_, enc := linked(t, g, rep["samples"], "VAEEncodeForInpaint", 0)
			loadID, load := linked(t, g, enc["pixels"], "LoadImage", 0)
			if id, _ := linked(t, g, enc["mask"], "LoadImage", 1); id != loadID {
				t.Errorf("the mask comes from LoadImage %s, the pixels from %s: want one upload", id, loadID)
			}
			if id, _ := linked(t, g, enc["vae"], "CheckpointLoaderSimple", 2); id != ckpt {
				t.Errorf("VAEEncodeForInpaint uses the VAE of %s, VAEDecode of %s", id, ckpt)
			}
			for _, class := range []string{"EmptyLatentImage", "VAEEncode"} {
				if id, _ := node(g, class); id != "" {
					t.Errorf("a painting graph has a %s (%s)", class, id)
				}
			}
			// What is saved is the decoded image with the kept part of the
			// source laid back over it: ImageCompositeMasked takes its source
			// (LoadImage's IMAGE) where its mask is 1, the inverse of LoadImage's
			// MASK (1 where to paint), and keeps the decoded image elsewhere.
			_, comp := linked(t, g, inputs(t, g, "SaveImage")["images"], "ImageCompositeMasked", 0)
			linked(t, g, comp["destination"], "VAEDecode", 0)
			if id, _ := linked(t, g, comp["source"], "LoadImage", 0); id != loadID {
				t.Errorf("the composite lays LoadImage %s over the result, want the painted upload %s", id, loadID)
			}
			_, inv := linked(t, g, comp["mask"], "InvertMask", 0)
			if id, _ := linked(t, g, inv["mask"], "LoadImage", 1); id != loadID {
				t.Errorf("the composite's mask inverts LoadImage %s's MASK, want %s's", id, loadID)
			}
			if comp["x"] != 0.0 || comp["y"] != 0.0 || comp["resize_source"] != false {
				t.Errorf("ImageCompositeMasked at (%v, %v) resize_source %v, want (0, 0) unresized", comp["x"], comp["y"], comp["resize_source"])
			}
			// The upload is the source, transparent where to paint: LoadImage's MASK.
			f.mu.Lock()
			up, err := png.Decode(bytes.NewReader(f.uploads[load["image"].(string)]))
			f.mu.Unlock()
			if err != nil {
				t.Fatalf("LoadImage's %v: %v", load["image"], err)
			}
			if b := up.Bounds(); b.Dx() != 96 || b.Dy() != 64 {
				t.Fatalf("uploaded canvas %v, want the job's 96x64", b)
			}
			if _, _, _, a := up.At(tt.paint.X, tt.paint.Y).RGBA(); a != 0 {
				t.Errorf("uploaded canvas at %v (to paint) has alpha %d, want 0", tt.paint, a>>8)
			}
			if _, _, _, a := up.At(tt.keep.X, tt.keep.Y).RGBA(); a>>8 != 255 {
				t.Errorf("uploaded canvas at %v (to keep) has alpha %d, want 255", tt.keep, a>>8)
			}
			// The result is the source where kept, what was sampled where painted.
			out := decodeWebP(t, res.Image)
			checkColour(t, "kept", out, tt.keep, color.NRGBAModel.Convert(up.At(tt.keep.X, tt.keep.Y)).(color.NRGBA))
			checkColour(t, "painted", out, tt.paint, fakeComfyDecoded)
		})
	}
}

func TestComfyUILoraChain(t *testing.T) {
	loras := []aihorde.Lora{
		{Name: "Detail Tweaker", Model: 0.8, Clip: 0.6}, // mapped by ComfyUIOptions.Loras
		{Name: "pixel-art-xl", Model: 1, Clip: 0.5},     // found by its file name, in a folder
		{Name: "no-such-lora", Model: 1, Clip: 1},       // ComfyUI has no file: left out, reported
	}
	for _, tt := range []struct {
		name       string
		processing string
	}{
		{"txt2img", ""},
		{"img2img", "img2img"},
		{"inpainting", "inpainting"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeComfyUI(t)
			c := newTestComfyUI(t, f, ComfyUIOptions{Loras: map[string]string{"detail tweaker": "add_detail.safetensors"}})
			job := comfyJob()
			job.Image.Loras = loras
			if tt.processing != "" {
				job.Image.SourceImage, job.Image.SourceProcessing = zoomCanvas(t, 96, 64), tt.processing
			}
			res, err := c.Generate(context.Background(), job)
			if err != nil {
				t.Fatal(err)
			}
			g := onlyPrompt(t, f)
			_, ks, ckpt := savedChain(t, g)

			// KSampler's model is the last LoraLoader's, which takes the first's,
			// which takes the checkpoint's MODEL and CLIP.
			l2, second := linked(t, g, ks["model"], "LoraLoader", 0)
			l1, first := linked(t, g, second["model"], "LoraLoader", 0)
			if id, _ := linked(t, g, second["clip"], "LoraLoader", 1); id != l1 {
				t.Errorf("the second LoRA's CLIP comes from %s, want the first's (%s)", id, l1)
			}
			if id, _ := linked(t, g, first["model"], "CheckpointLoaderSimple", 0); id != ckpt {
				t.Errorf("the first LoRA's MODEL comes from %s, want the checkpoint %s", id, ckpt)
			}
			if id, _ := linked(t, g, first["clip"], "CheckpointLoaderSimple", 1); id != ckpt {
				t.Errorf("the first LoRA's CLIP comes from %s, want the checkpoint %s", id, ckpt)
			}
			if first["lora_name"] != "add_detail.safetensors" || first["strength_model"] != 0.8 || first["strength_clip"] != 0.6 {
				t.Errorf("first LoraLoader %v", first)
			}
			if second["lora_name"] != `styles\pixel-art-xl.safetensors` || second["strength_model"] != 1.0 || second["strength_clip"] != 0.5 {
				t.Errorf("second LoraLoader %v", second)
			}
			if got := comfyNodesOf(g, "LoraLoader"); len(got) != 2 {
				t.Errorf("LoraLoaders %v, want 2 (the missing LoRA gets none)", got)
			}
			// The prompts' CLIP is the last LoRA's, through CLIPSetLastLayer.
			last := inputs(t, g, "CLIPSetLastLayer")
			if id, _ := linked(t, g, last["clip"], "LoraLoader", 1); id != l2 {
				t.Errorf("CLIPSetLastLayer's CLIP comes from %s, want the last LoRA's (%s)", id, l2)
			}
			// No node but the first LoRA takes the checkpoint's MODEL or CLIP.
			for id, raw := range g {
				for k, v := range raw.(map[string]any)["inputs"].(map[string]any) {
					if l, ok := asComfyLink(v); ok && l.node == ckpt && l.output < 2 && id != l1 {
						t.Errorf("node %s (%v) input %s bypasses the LoRAs: %v", id, raw.(map[string]any)["class_type"], k, v)
					}
				}
			}
			if !slices.Contains(res.Metadata, loraMissing("no-such-lora")) || len(res.Metadata) != 1 {
				t.Errorf("gen_metadata %v, want the missing LoRA's download_failed alone", res.Metadata)
			}
		})
	}
}

func TestComfyUIBatchGraph(t *testing.T) {
	for _, tt := range []struct {
		name       string
		processing string
		n          int
		// the node the batch is made at, and the input naming its size
		batchAt, sizeInput string
	}{
		{"txt2img: EmptyLatentImage's batch_size", "", 3, "EmptyLatentImage", "batch_size"},
		{"img2img: RepeatLatentBatch after VAEEncode", "img2img", 2, "RepeatLatentBatch", "amount"},
		{"painting: RepeatLatentBatch after VAEEncodeForInpaint", "outpainting", 2, "RepeatLatentBatch", "amount"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeComfyUI(t)
			c := newTestComfyUI(t, f, ComfyUIOptions{})
			job := comfyJob()
			if tt.processing != "" {
				job.Image.SourceImage, job.Image.SourceProcessing, job.Image.DenoisingStrength = zoomCanvas(t, 96, 64), tt.processing, 0.5
			}
			rs, err := c.GenerateBatch(context.Background(), job, tt.n)
			if err != nil {
				t.Fatal(err)
			}
			g := onlyPrompt(t, f) // one prompt for the whole batch
			_, ks, _ := savedChain(t, g)
			_, at := linked(t, g, ks["latent_image"], tt.batchAt, 0)
			if at[tt.sizeInput] != float64(tt.n) {
				t.Errorf("%s %s = %v, want %d", tt.batchAt, tt.sizeInput, at[tt.sizeInput], tt.n)
			}
			switch tt.processing {
			case "img2img":
				linked(t, g, at["samples"], "VAEEncode", 0)
			case "outpainting":
				linked(t, g, at["samples"], "VAEEncodeForInpaint", 0)
			}
			if len(rs) != tt.n {
				t.Fatalf("%d results, want %d", len(rs), tt.n)
			}
			for i, r := range rs {
				checkWebP(t, r.Image, 96, 64)
				// ComfyUI draws a batch's noise from one seed: every image has
				// the job's seed and says its index.
				if r.Seed != job.Seed || !slices.Contains(r.Metadata, batchIndex(i)) {
					t.Errorf("image %d: seed %d (want %d), gen_metadata %v", i, r.Seed, job.Seed, r.Metadata)
				}
			}
		})
	}
}

func TestComfyUIHiresFixGraph(t *testing.T) {
	f := newFakeComfyUI(t)
	c := newTestComfyUI(t, f, ComfyUIOptions{})
	job := comfyJob()
	job.Image.Width, job.Image.Height = 640, 512
	job.Image.HiresFix, job.Image.HiresFixDenoisingStrength = true, 0.45
	res, err := c.Generate(context.Background(), job)
	if err != nil {
		t.Fatal(err)
	}
	checkWebP(t, res.Image, 640, 512)
	g := onlyPrompt(t, f)
	// SaveImage <- VAEDecode <- KSampler 2 (denoise 0.45) <- LatentUpscale to
	// 640x512 <- KSampler 1 (denoise 1) <- EmptyLatentImage at the first pass's size.
	ks2ID, ks2, _ := savedChain(t, g)
	_, up := linked(t, g, ks2["latent_image"], "LatentUpscale", 0)
	ks1ID, ks1 := linked(t, g, up["samples"], "KSampler", 0)
	_, lat := linked(t, g, ks1["latent_image"], "EmptyLatentImage", 0)
	fw, fh := hiresFirstPass(640, 512)
	if lat["width"] != float64(fw) || lat["height"] != float64(fh) || fw >= 640 {
		t.Errorf("first pass %vx%v, want %dx%d", lat["width"], lat["height"], fw, fh)
	}
	if up["width"] != 640.0 || up["height"] != 512.0 {
		t.Errorf("LatentUpscale to %vx%v, want the job's 640x512", up["width"], up["height"])
	}
	if ks1["denoise"] != 1.0 || ks2["denoise"] != 0.45 {
		t.Errorf("denoise: first pass %v, second %v; want 1 and 0.45", ks1["denoise"], ks2["denoise"])
	}
	for _, k := range []string{"model", "positive", "negative", "seed", "steps", "cfg", "sampler_name", "scheduler"} {
		if a, b := ks1[k], ks2[k]; !slices.Equal(asSlice(a), asSlice(b)) {
			t.Errorf("%s: first pass %v, second %v", k, a, b)
		}
	}
	if ks1ID == ks2ID {
		t.Error("one KSampler")
	}
}

// asSlice makes a link or a value comparable.
func asSlice(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

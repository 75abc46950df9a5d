package worker

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// Changes the ComfyUI backend makes to a filled workflow for what a job
// asks beyond its template: LoRAs (LoraLoader nodes between the checkpoint
// and whatever used its model and CLIP) and the hires fix (a first pass at
// a smaller size, LatentUpscale, a second KSampler pass at the job's
// size). They find the nodes by class, so they apply to a workflow of
// one's own of the same shape too; one that has no such place is run
// without the change, and the log says so.

// Defaults of the hires fix.
const (
	// comfyHiresBasePixels is the area of the hires fix's first pass: the
	// job's size scaled down to about 512x512 (the SD 1.5 models' native
	// size), keeping its aspect ratio. A job no larger gets no hires fix.
	comfyHiresBasePixels = 512 * 512
	// DefaultHiresFixDenoisingStrength is the second pass's strength when
	// the job gives none (the AI Horde's hires_fix_denoising_strength default).
	DefaultHiresFixDenoisingStrength = 0.65
)

// nextComfyID returns a node id not in graph: one past its largest
// numeric id.
func nextComfyID(graph map[string]any) func() string {
	top := 0
	for id := range graph {
		if n, err := strconv.Atoi(id); err == nil && n > top {
			top = n
		}
	}
	return func() string {
		top++
		return strconv.Itoa(top)
	}
}

// comfyNodesOf returns the ids of graph's nodes of a class, sorted.
func comfyNodesOf(graph map[string]any, class string) []string {
	var ids []string
	for _, id := range slices.Sorted(maps.Keys(graph)) {
		if n, ok := graph[id].(map[string]any); ok && n["class_type"] == class {
			ids = append(ids, id)
		}
	}
	return ids
}

// comfyInputs returns a node's inputs.
func comfyInputs(graph map[string]any, id string) map[string]any {
	return graph[id].(map[string]any)["inputs"].(map[string]any)
}

// relinkComfy points every input that takes output from of node from at
// output to of node to instead, except the inputs of the nodes in skip.
func relinkComfy(graph map[string]any, from string, fromOut int, to string, toOut int, skip ...string) {
	for id, raw := range graph {
		if slices.Contains(skip, id) {
			continue
		}
		inputs := raw.(map[string]any)["inputs"].(map[string]any)
		for k, v := range inputs {
			if l, ok := asComfyLink(v); ok && l.node == from && l.output == fromOut {
				inputs[k] = []any{to, toOut}
			}
		}
	}
}

// comfyLora is a LoRA of a job resolved to one of ComfyUI's files.
type comfyLora struct {
	file        string
	model, clip float64
}

// addComfyLoras chains a LoraLoader for each LoRA after the workflow's
// CheckpointLoaderSimple: the first takes the checkpoint's MODEL and CLIP,
// each next one the previous one's, and every node that used the
// checkpoint's MODEL or CLIP uses the last one's. It reports false when the
// workflow has no CheckpointLoaderSimple.
func addComfyLoras(graph map[string]any, loras []comfyLora) bool {
	if len(loras) == 0 {
		return true
	}
	ckpts := comfyNodesOf(graph, "CheckpointLoaderSimple")
	if len(ckpts) == 0 {
		return false
	}
	next := nextComfyID(graph)
	ckpt := ckpts[0]
	model, clip := []any{ckpt, 0}, []any{ckpt, 1}
	var chain []string
	for _, l := range loras {
		id := next()
		graph[id] = map[string]any{"class_type": "LoraLoader", "inputs": map[string]any{
			"model": model, "clip": clip, "lora_name": l.file,
			"strength_model": l.model, "strength_clip": l.clip,
		}}
		chain = append(chain, id)
		model, clip = []any{id, 0}, []any{id, 1}
	}
	last := chain[len(chain)-1]
	relinkComfy(graph, ckpt, 0, last, 0, chain...)
	relinkComfy(graph, ckpt, 1, last, 1, chain...)
	return true
}

// addComfyHiresFix makes a txt2img workflow two passes: the KSampler that
// starts from an EmptyLatentImage samples at the first pass's size
// (hiresFirstPass), LatentUpscale takes its latent to the job's size, and
// a copy of that KSampler samples it again at strength denoise; what used
// the first pass's latent uses the second's. It reports false when the
// workflow has no KSampler fed by an EmptyLatentImage.
func addComfyHiresFix(graph map[string]any, width, height int, denoise float64) bool {
	for _, ks := range comfyNodesOf(graph, "KSampler") {
		in := comfyInputs(graph, ks)
		l, ok := asComfyLink(in["latent_image"])
		if !ok {
			continue
		}
		lat, ok := graph[l.node].(map[string]any)
		if !ok || lat["class_type"] != "EmptyLatentImage" {
			continue
		}
		fw, fh := hiresFirstPass(width, height)
		latIn := lat["inputs"].(map[string]any)
		latIn["width"], latIn["height"] = fw, fh
		next := nextComfyID(graph)
		up, second := next(), next()
		graph[up] = map[string]any{"class_type": "LatentUpscale", "inputs": map[string]any{
			"samples": []any{ks, 0}, "upscale_method": "nearest-exact", "width": width, "height": height, "crop": "disabled",
		}}
		in2 := maps.Clone(in)
		in2["latent_image"], in2["denoise"] = []any{up, 0}, denoise
		graph[second] = map[string]any{"class_type": "KSampler", "inputs": in2}
		relinkComfy(graph, ks, 0, second, 0, up, second)
		return true
	}
	return false
}

// hiresFirstPass is the size of the hires fix's first pass for a job of
// width x height: scaled to about comfyHiresBasePixels, sides multiples
// of 64 (at least 64).
func hiresFirstPass(width, height int) (int, int) {
	f := math.Sqrt(float64(comfyHiresBasePixels) / float64(width*height))
	side := func(v int) int { return max(64, int(math.Round(float64(v)*f/64))*64) }
	return side(width), side(height)
}

// needsHiresFix reports whether a job's hires fix changes anything: it is
// asked for and the job is larger than the first pass would be.
func needsHiresFix(p *ImageParams) bool {
	return p.HiresFix && p.Width*p.Height > comfyHiresBasePixels
}

// loraMissing is the gen_metadata of a LoRA the worker does not have, as
// reGen says of a LoRA it could not download.
func loraMissing(name string) aihorde.GenMetadata {
	return aihorde.GenMetadata{Type: "lora", Value: "download_failed", Ref: name}
}

// batchIndex is the gen_metadata of image i of a ComfyUI batch: every image
// of it is made from the batch's seed, image i from the noise at index i.
func batchIndex(i int) aihorde.GenMetadata {
	return aihorde.GenMetadata{Type: "batch_index", Value: "see_ref", Ref: fmt.Sprint(i)}
}

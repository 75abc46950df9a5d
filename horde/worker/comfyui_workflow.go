package worker

import (
	"bytes"
	_ "embed" // the default workflows
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// ComfyUI workflows. The ComfyUI backend sends each job as a workflow in
// ComfyUI's API format (what "Export (API)" saves: an object of nodes by
// id, each {"class_type": ..., "inputs": {...}}, an input that is a link
// being [node id, output index]), made from a template whose strings may
// hold placeholders {{name}}: a string that is exactly one placeholder
// becomes the value itself (a number stays a number), a placeholder inside
// a longer string becomes its text.

//go:embed workflows/comfyui_txt2img.json
var defaultComfyTxt2Img []byte

//go:embed workflows/comfyui_img2img.json
var defaultComfyImg2Img []byte

//go:embed workflows/comfyui_inpaint.json
var defaultComfyInpaint []byte

// ComfyPlaceholders names the placeholders a workflow template may use and
// says what each becomes (README documents them).
var ComfyPlaceholders = map[string]string{
	"prompt":          "the positive prompt (the part before ###)",
	"negative_prompt": "the negative prompt (the part after ###, or empty)",
	"seed":            "the seed (a number, 0..2^64-1)",
	"steps":           "the sampling steps",
	"cfg":             "the CFG scale",
	"sampler_name":    "the ComfyUI sampler (k_euler -> euler, k_dpmpp_2m -> dpmpp_2m, ...)",
	"scheduler":       "the ComfyUI scheduler: karras when the job asks for Karras, normal otherwise",
	"denoise":         "the denoising strength: 1 for txt2img, the job's strength for img2img",
	"width":           "the image width",
	"height":          "the image height",
	"ckpt_name":       "the checkpoint file of the job's model (CheckpointLoaderSimple's ckpt_name)",
	"model":           "the job's model name as the horde knows it",
	"clip_layer":      "CLIPSetLastLayer's stop_at_clip_layer: -1, or -clip_skip",
	"image":           "img2img and painting only: the uploaded source image, for LoadImage (painting: transparent where to paint, LoadImage's MASK)",
	"batch_size":      "how many images the prompt makes (EmptyLatentImage's batch_size, RepeatLatentBatch's amount); a workflow without it makes one a prompt",
	"filename_prefix": "SaveImage's prefix: hordeworker/<job id>",
}

// placeholderRE matches one placeholder.
var placeholderRE = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// ComfyWorkflow is a parsed workflow template.
type ComfyWorkflow struct {
	name  string         // where it came from, for errors
	nodes map[string]any // node id -> node object, numbers as json.Number
	uses  map[string]bool
}

// ParseComfyWorkflow parses a workflow template in ComfyUI's API format and
// checks it: every node has a class_type and inputs, every link names a node
// of the workflow, and every placeholder is one of ComfyPlaceholders. name
// says where it came from in errors.
func ParseComfyWorkflow(name string, data []byte) (*ComfyWorkflow, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw map[string]any
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("comfyui workflow %s: not a JSON object: %w", name, err)
	}
	if _, ok := raw["nodes"].([]any); ok {
		if _, ok := raw["links"]; ok {
			return nil, fmt.Errorf("comfyui workflow %s: this is a UI workflow; save it in API format (Workflow > Export (API))", name)
		}
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("comfyui workflow %s: no nodes", name)
	}
	w := &ComfyWorkflow{name: name, nodes: raw, uses: map[string]bool{}}
	if err := checkComfyGraph(raw); err != nil {
		return nil, fmt.Errorf("comfyui workflow %s: %w", name, err)
	}
	var unknown []string
	walkComfyStrings(raw, func(s string) {
		for _, m := range placeholderRE.FindAllStringSubmatch(s, -1) {
			if _, ok := ComfyPlaceholders[m[1]]; ok {
				w.uses[m[1]] = true
			} else if !slices.Contains(unknown, m[1]) {
				unknown = append(unknown, m[1])
			}
		}
	})
	if len(unknown) > 0 {
		return nil, fmt.Errorf("comfyui workflow %s: unknown placeholders %s (known: %s)", name,
			strings.Join(unknown, ", "), strings.Join(slices.Sorted(maps.Keys(ComfyPlaceholders)), ", "))
	}
	return w, nil
}

// Uses reports whether the workflow has the placeholder {{name}}.
func (w *ComfyWorkflow) Uses(name string) bool { return w.uses[name] }

// classTypes returns the workflow's node classes, sorted.
func (w *ComfyWorkflow) classTypes() []string {
	var out []string
	for _, n := range w.nodes {
		if c := n.(map[string]any)["class_type"].(string); !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	slices.Sort(out)
	return out
}

// fill returns the workflow with its placeholders replaced by vals (every
// placeholder it uses must have a value).
func (w *ComfyWorkflow) fill(vals map[string]any) (map[string]any, error) {
	for name := range w.uses {
		if _, ok := vals[name]; !ok {
			return nil, fmt.Errorf("comfyui workflow %s: no value for {{%s}}", w.name, name)
		}
	}
	return fillComfyValue(w.nodes, vals).(map[string]any), nil
}

// fillComfyValue copies v with its placeholders replaced.
func fillComfyValue(v any, vals map[string]any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = fillComfyValue(e, vals)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = fillComfyValue(e, vals)
		}
		return out
	case string:
		if m := placeholderRE.FindStringSubmatch(v); m != nil && m[0] == v {
			return vals[m[1]]
		}
		return placeholderRE.ReplaceAllStringFunc(v, func(p string) string {
			return fmt.Sprint(vals[placeholderRE.FindStringSubmatch(p)[1]])
		})
	default:
		return v
	}
}

// walkComfyStrings calls f with every string value under v.
func walkComfyStrings(v any, f func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for _, e := range v {
			walkComfyStrings(e, f)
		}
	case []any:
		for _, e := range v {
			walkComfyStrings(e, f)
		}
	case string:
		f(v)
	}
}

// comfyLink is an input that takes another node's output.
type comfyLink struct {
	node   string
	output int
}

// asComfyLink reports whether an input value is a link [node id, output index].
func asComfyLink(v any) (comfyLink, bool) {
	l, ok := v.([]any)
	if !ok || len(l) != 2 {
		return comfyLink{}, false
	}
	id, ok := l[0].(string)
	if !ok {
		return comfyLink{}, false
	}
	var idx int64
	switch n := l[1].(type) {
	case json.Number:
		i, err := n.Int64()
		if err != nil {
			return comfyLink{}, false
		}
		idx = i
	case int:
		idx = int64(n)
	case float64:
		idx = int64(n)
	default:
		return comfyLink{}, false
	}
	return comfyLink{node: id, output: int(idx)}, true
}

// checkComfyGraph checks a workflow's shape: nodes with a class_type and
// inputs, links to nodes that exist.
func checkComfyGraph(nodes map[string]any) error {
	var errs []error
	for _, id := range slices.Sorted(maps.Keys(nodes)) {
		n, ok := nodes[id].(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("node %s is not an object", id))
			continue
		}
		if c, ok := n["class_type"].(string); !ok || strings.TrimSpace(c) == "" {
			errs = append(errs, fmt.Errorf("node %s has no class_type", id))
		}
		inputs, ok := n["inputs"].(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("node %s has no inputs object", id))
			continue
		}
		for _, in := range slices.Sorted(maps.Keys(inputs)) {
			l, ok := asComfyLink(inputs[in])
			if !ok {
				continue
			}
			if _, ok := nodes[l.node]; !ok {
				errs = append(errs, fmt.Errorf("node %s input %s links to node %s, which is not in the workflow", id, in, l.node))
			} else if l.output < 0 {
				errs = append(errs, fmt.Errorf("node %s input %s links to output %d of node %s", id, in, l.output, l.node))
			}
		}
	}
	return errors.Join(errs...)
}

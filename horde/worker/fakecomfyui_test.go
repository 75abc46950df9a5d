package worker

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"
)

// fakeComfyNode is a node class the fake ComfyUI knows: its required and
// optional inputs (a link type in capitals, or INT, FLOAT, STRING,
// BOOLEAN, COMBO) and its outputs, as ComfyUI's nodes.py and
// comfy_extras/nodes_mask.py declare them.
type fakeComfyNode struct {
	inputs   map[string]string
	optional map[string]string
	outputs  []string
	output   bool
}

var fakeComfyNodes = map[string]fakeComfyNode{
	"CheckpointLoaderSimple": {inputs: map[string]string{"ckpt_name": "COMBO"}, outputs: []string{"MODEL", "CLIP", "VAE"}},
	"CLIPSetLastLayer":       {inputs: map[string]string{"clip": "CLIP", "stop_at_clip_layer": "INT"}, outputs: []string{"CLIP"}},
	"CLIPTextEncode":         {inputs: map[string]string{"text": "STRING", "clip": "CLIP"}, outputs: []string{"CONDITIONING"}},
	"EmptyLatentImage":       {inputs: map[string]string{"width": "INT", "height": "INT", "batch_size": "INT"}, outputs: []string{"LATENT"}},
	"LoadImage":              {inputs: map[string]string{"image": "COMBO"}, outputs: []string{"IMAGE", "MASK"}},
	"VAEEncode":              {inputs: map[string]string{"pixels": "IMAGE", "vae": "VAE"}, outputs: []string{"LATENT"}},
	"VAEEncodeForInpaint": {inputs: map[string]string{"pixels": "IMAGE", "vae": "VAE", "mask": "MASK", "grow_mask_by": "INT"},
		outputs: []string{"LATENT"}},
	"RepeatLatentBatch": {inputs: map[string]string{"samples": "LATENT", "amount": "INT"}, outputs: []string{"LATENT"}},
	"KSampler": {inputs: map[string]string{"model": "MODEL", "seed": "INT", "steps": "INT", "cfg": "FLOAT",
		"sampler_name": "COMBO", "scheduler": "COMBO", "positive": "CONDITIONING", "negative": "CONDITIONING",
		"latent_image": "LATENT", "denoise": "FLOAT"}, outputs: []string{"LATENT"}},
	"VAEDecode": {inputs: map[string]string{"samples": "LATENT", "vae": "VAE"}, outputs: []string{"IMAGE"}},
	"LoraLoader": {inputs: map[string]string{"model": "MODEL", "clip": "CLIP", "lora_name": "COMBO", "strength_model": "FLOAT",
		"strength_clip": "FLOAT"}, outputs: []string{"MODEL", "CLIP"}},
	"LatentUpscale": {inputs: map[string]string{"samples": "LATENT", "upscale_method": "COMBO", "width": "INT", "height": "INT",
		"crop": "COMBO"}, outputs: []string{"LATENT"}},
	"InvertMask": {inputs: map[string]string{"mask": "MASK"}, outputs: []string{"MASK"}},
	"ImageCompositeMasked": {inputs: map[string]string{"destination": "IMAGE", "source": "IMAGE", "x": "INT", "y": "INT",
		"resize_source": "BOOLEAN"}, optional: map[string]string{"mask": "MASK"}, outputs: []string{"IMAGE"}},
	"SaveImage": {inputs: map[string]string{"images": "IMAGE", "filename_prefix": "STRING"}, output: true},
}

// fakeComfyDecoded is the colour of every pixel the fake's VAEDecode
// makes: what it "samples", far from any source colour of the tests.
var fakeComfyDecoded = color.NRGBA{40, 160, 220, 255}

// fakeComfySamplers and fakeComfySchedulers are the combos of KSampler (a part of ComfyUI's).
var (
	fakeComfySamplers   = []string{"euler", "euler_ancestral", "heun", "dpm_2", "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral", "dpmpp_sde", "dpmpp_2m", "lcm", "ddim", "uni_pc"}
	fakeComfySchedulers = []string{"normal", "karras", "exponential", "sgm_uniform", "simple", "ddim_uniform"}
)

// fakeComfyPrompt is a prompt the fake received.
type fakeComfyPrompt struct {
	id       string
	clientID string
	graph    map[string]any
}

// fakeComfyUI is a small ComfyUI: it validates each workflow POSTed to
// /prompt as ComfyUI does (known nodes, required inputs, links to outputs
// of the right type, values in their combos), runs it on a goroutine,
// telling the prompt's websocket client what ComfyUI would (execution
// start, the nodes, sampling progress, a JPEG preview frame, executed, the
// end), records a history entry and serves the saved image on /view.
type fakeComfyUI struct {
	t   *testing.T
	srv *httptest.Server

	mu          sync.Mutex
	ckpts       []string
	loras       []string                 // LoraLoader's lora_name choices
	comboFormat bool                     // list combos in the newer ["COMBO", {"options": [...]}] form
	missing     string                   // a node class the fake does not have
	down        bool                     // /system_stats answers 503
	downChecked chan struct{}            // receives when /system_stats answered 503
	noWebsocket bool                     // /ws is a 404
	failNode    string                   // the class whose execution fails with an execution_error
	hold        chan struct{}            // when set, a prompt waits for it (or an interrupt) after it starts
	busy        bool                     // prompts wait in the queue behind another one and never start
	started     chan string              // receives each prompt's id when it starts
	queued      chan string              // receives each prompt's id when it is queued
	prompts     []fakeComfyPrompt        // every accepted prompt
	refused     int                      // prompts refused at validation
	sockets     map[string]*fakeComfyWS  // by client id
	history     map[string]any           // prompt id -> entry
	uploads     map[string][]byte        // "subfolder/name" -> bytes
	uploadForm  map[string]string        // the last upload's fields
	interrupts  []map[string]any         // bodies of POST /interrupt
	queueOps    []map[string]any         // bodies of POST /queue
	historyOps  []map[string]any         // bodies of POST /history
	running     string                   // the prompt running now
	pending     []string                 // prompts waiting
	interrupted map[string]chan struct{} // closed on an interrupt of that prompt
	closed      chan struct{}
	wg          sync.WaitGroup
}

// fakeComfyWS is one client's websocket.
type fakeComfyWS struct {
	mu   sync.Mutex
	conn *websocket.Conn
}

func (s *fakeComfyWS) send(typ int, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_ = s.conn.WriteMessage(typ, data)
}

func newFakeComfyUI(t *testing.T) *fakeComfyUI {
	f := &fakeComfyUI{t: t, ckpts: []string{"albedobaseXL_v21.safetensors", `SDXL\sd_xl_base_1.0.safetensors`},
		loras:   []string{"add_detail.safetensors", `styles\pixel-art-xl.safetensors`},
		sockets: map[string]*fakeComfyWS{}, history: map[string]any{}, uploads: map[string][]byte{},
		interrupted: map[string]chan struct{}{}, closed: make(chan struct{}), started: make(chan string, 16), queued: make(chan string, 16), downChecked: make(chan struct{}, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /system_stats", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		down := f.down
		f.mu.Unlock()
		if down {
			select {
			case f.downChecked <- struct{}{}:
			default:
			}
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		writeJSON(w, map[string]any{"system": map[string]any{"os": "posix", "comfyui_version": "fake"},
			"devices": []any{map[string]any{"name": "cuda:0 fake", "type": "cuda", "vram_total": 1 << 34}}})
	})
	mux.HandleFunc("GET /object_info/{class}", f.objectInfo)
	mux.HandleFunc("POST /prompt", f.prompt)
	mux.HandleFunc("GET /history/{id}", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		out := map[string]any{}
		if e, ok := f.history[r.PathValue("id")]; ok {
			out[r.PathValue("id")] = e
		}
		writeJSON(w, out)
	})
	mux.HandleFunc("GET /view", f.view)
	mux.HandleFunc("POST /upload/image", f.upload)
	mux.HandleFunc("POST /interrupt", func(w http.ResponseWriter, r *http.Request) {
		body := decodeBody(t, r)
		f.mu.Lock()
		f.interrupts = append(f.interrupts, body)
		id, _ := body["prompt_id"].(string)
		if id == "" {
			id = f.running // an old ComfyUI interrupts whatever runs
		}
		if ch, ok := f.interrupted[id]; ok && id == f.running {
			close(ch)
			delete(f.interrupted, id)
		}
		f.mu.Unlock()
	})
	mux.HandleFunc("GET /queue", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		running, pending := []any{}, []any{}
		if f.running != "" {
			running = append(running, []any{0, f.running, map[string]any{}, map[string]any{}, []string{"9"}})
		}
		for i, id := range f.pending {
			pending = append(pending, []any{i + 1, id, map[string]any{}, map[string]any{}, []string{"9"}})
		}
		writeJSON(w, map[string]any{"queue_running": running, "queue_pending": pending})
	})
	mux.HandleFunc("POST /queue", func(w http.ResponseWriter, r *http.Request) {
		body := decodeBody(t, r)
		f.mu.Lock()
		f.queueOps = append(f.queueOps, body)
		if del, ok := body["delete"].([]any); ok {
			for _, d := range del {
				f.pending = slices.DeleteFunc(f.pending, func(id string) bool { return id == d })
			}
		}
		f.mu.Unlock()
	})
	mux.HandleFunc("POST /history", func(w http.ResponseWriter, r *http.Request) {
		body := decodeBody(t, r)
		f.mu.Lock()
		f.historyOps = append(f.historyOps, body)
		f.mu.Unlock()
	})
	mux.HandleFunc("GET /ws", f.websocket)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		close(f.closed)
		f.srv.CloseClientConnections()
		f.srv.Close()
		f.wg.Wait()
	})
	return f
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func decodeBody(t *testing.T, r *http.Request) map[string]any {
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		t.Errorf("%s %s: body: %v", r.Method, r.URL.Path, err)
	}
	return body
}

// combos returns a node's combo choices.
func (f *fakeComfyUI) combos(class, input string) []string {
	switch class + "." + input {
	case "CheckpointLoaderSimple.ckpt_name":
		return f.ckpts
	case "LoadImage.image":
		return slices.Sorted(maps.Keys(f.uploads))
	case "KSampler.sampler_name":
		return fakeComfySamplers
	case "KSampler.scheduler":
		return fakeComfySchedulers
	case "LoraLoader.lora_name":
		return f.loras
	case "LatentUpscale.upscale_method":
		return []string{"nearest-exact", "bilinear", "area", "bicubic", "bislerp"}
	case "LatentUpscale.crop":
		return []string{"disabled", "center"}
	}
	return nil
}

func (f *fakeComfyUI) objectInfo(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	class := r.PathValue("class")
	n, ok := fakeComfyNodes[class]
	if !ok || class == f.missing {
		writeJSON(w, map[string]any{})
		return
	}
	required := map[string]any{}
	for in, typ := range n.inputs {
		switch {
		case typ == "COMBO" && f.comboFormat:
			required[in] = []any{"COMBO", map[string]any{"options": f.combos(class, in)}}
		case typ == "COMBO":
			required[in] = []any{f.combos(class, in), map[string]any{"tooltip": "choose"}}
		default:
			required[in] = []any{typ, map[string]any{}}
		}
	}
	optional := map[string]any{}
	for in, typ := range n.optional {
		optional[in] = []any{typ, map[string]any{}}
	}
	outputs := n.outputs
	if outputs == nil {
		outputs = []string{}
	}
	writeJSON(w, map[string]any{class: map[string]any{"input": map[string]any{"required": required, "optional": optional}, "output": outputs,
		"output_node": n.output, "name": class, "category": "fake"}})
}

// validate checks a workflow as ComfyUI's validate_prompt does and returns
// its node_errors.
func (f *fakeComfyUI) validate(graph map[string]any) map[string]any {
	nodeErrors := map[string]any{}
	fail := func(id, class, msg, details string) {
		e, _ := nodeErrors[id].(map[string]any)
		if e == nil {
			e = map[string]any{"errors": []any{}, "dependent_outputs": []string{"9"}, "class_type": class}
			nodeErrors[id] = e
		}
		e["errors"] = append(e["errors"].([]any), map[string]any{"type": "value_not_valid", "message": msg, "details": details, "extra_info": map[string]any{}})
	}
	outputs := 0
	for id, raw := range graph {
		node, _ := raw.(map[string]any)
		class, _ := node["class_type"].(string)
		def, ok := fakeComfyNodes[class]
		if !ok || class == f.missing {
			fail(id, class, "Node does not exist", class)
			continue
		}
		if def.output {
			outputs++
		}
		inputs, _ := node["inputs"].(map[string]any)
		for in, typ := range def.optional {
			if v, ok := inputs[in]; ok {
				f.validateLink(graph, id, class, in, typ, v, fail)
			}
		}
		for in, typ := range def.inputs {
			v, ok := inputs[in]
			if !ok {
				fail(id, class, "Required input is missing", in)
				continue
			}
			if _, ok := v.([]any); ok {
				f.validateLink(graph, id, class, in, typ, v, fail)
				continue
			}
			switch typ {
			case "INT":
				if n, ok := v.(float64); !ok || n != float64(int64(n)) {
					fail(id, class, "Failed to convert an input value to a INT value", fmt.Sprintf("%s, %v", in, v))
				}
			case "FLOAT":
				if _, ok := v.(float64); !ok {
					fail(id, class, "Failed to convert an input value to a FLOAT value", fmt.Sprintf("%s, %v", in, v))
				}
			case "STRING":
				if _, ok := v.(string); !ok {
					fail(id, class, "Failed to convert an input value to a STRING value", fmt.Sprintf("%s, %v", in, v))
				}
			case "BOOLEAN":
				if _, ok := v.(bool); !ok {
					fail(id, class, "Failed to convert an input value to a BOOLEAN value", fmt.Sprintf("%s, %v", in, v))
				}
			case "COMBO":
				if s, _ := v.(string); !slices.Contains(f.combos(class, in), s) {
					fail(id, class, "Value not in list", fmt.Sprintf("%s: '%v' not in %v", in, v, f.combos(class, in)))
				}
			default:
				fail(id, class, "Bad linked input, must be a length-2 list of [node_id, slot_index]", in)
			}
		}
	}
	if outputs == 0 {
		nodeErrors["_"] = map[string]any{"errors": []any{map[string]any{"message": "Prompt has no outputs"}}, "class_type": ""}
	}
	return nodeErrors
}

// validateLink checks a linked input: a link to an output of its type.
func (f *fakeComfyUI) validateLink(graph map[string]any, id, class, in, typ string, v any, fail func(id, class, msg, details string)) {
	link, ok := v.([]any)
	if !ok || len(link) != 2 {
		fail(id, class, "Bad linked input, must be a length-2 list of [node_id, slot_index]", in)
		return
	}
	src, _ := link[0].(string)
	idx, _ := link[1].(float64)
	srcNode, _ := graph[src].(map[string]any)
	srcClass, _ := srcNode["class_type"].(string)
	srcDef, ok := fakeComfyNodes[srcClass]
	if !ok || int(idx) >= len(srcDef.outputs) || srcDef.outputs[int(idx)] != typ {
		fail(id, class, "Return type mismatch between linked nodes", fmt.Sprintf("%s, %v != %s", in, link, typ))
	}
}

func (f *fakeComfyUI) prompt(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Prompt   map[string]any `json:"prompt"`
		ClientID string         `json:"client_id"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("POST /prompt: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if errs := f.validate(body.Prompt); len(errs) > 0 {
		f.refused++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"type": "prompt_outputs_failed_validation",
			"message": "Prompt outputs failed validation", "details": "", "extra_info": map[string]any{}}, "node_errors": errs})
		return
	}
	p := fakeComfyPrompt{id: fmt.Sprintf("prompt-%d", len(f.prompts)+1), clientID: body.ClientID, graph: body.Prompt}
	f.prompts = append(f.prompts, p)
	f.pending = append(f.pending, p.id)
	f.interrupted[p.id] = make(chan struct{})
	writeJSON(w, map[string]any{"prompt_id": p.id, "number": len(f.prompts), "node_errors": map[string]any{}})
	select {
	case f.queued <- p.id:
	default:
	}
	if !f.busy {
		f.wg.Add(1)
		go f.run(p)
	}
}

// node returns the first node of a class in a graph, and its id.
func node(graph map[string]any, class string) (string, map[string]any) {
	for _, id := range slices.Sorted(maps.Keys(graph)) {
		n := graph[id].(map[string]any)
		if n["class_type"] == class {
			return id, n["inputs"].(map[string]any)
		}
	}
	return "", nil
}

// run executes a prompt as ComfyUI would tell its client.
func (f *fakeComfyUI) run(p fakeComfyPrompt) {
	defer f.wg.Done()
	f.mu.Lock()
	ws := f.sockets[p.clientID]
	f.pending = slices.DeleteFunc(f.pending, func(id string) bool { return id == p.id })
	f.running = p.id
	hold, interrupted, failNode := f.hold, f.interrupted[p.id], f.failNode
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.running = ""
		f.mu.Unlock()
	}()
	msg := func(typ string, data map[string]any) {
		if ws == nil {
			return
		}
		data["prompt_id"] = p.id
		b, _ := json.Marshal(map[string]any{"type": typ, "data": data})
		ws.send(websocket.TextMessage, b)
	}
	msg("execution_start", map[string]any{"timestamp": 1})
	msg("execution_cached", map[string]any{"nodes": []string{}})
	select {
	case f.started <- p.id:
	default:
	}
	if hold != nil {
		select {
		case <-hold:
		case <-interrupted:
			ksID, _ := node(p.graph, "KSampler")
			msg("execution_interrupted", map[string]any{"node_id": ksID, "node_type": "KSampler", "executed": []string{}})
			return
		case <-f.closed:
			return
		}
	}
	var saved []any
	var failure []any
	saveID := ""
	for _, id := range comfyOrder(p.graph) {
		n := p.graph[id].(map[string]any)
		class := n["class_type"].(string)
		msg("executing", map[string]any{"node": id, "display_node": id})
		if class == failNode {
			data := map[string]any{"node_id": id, "node_type": class, "executed": []string{"4"},
				"exception_message": "CUDA out of memory. Tried to allocate 2.00 GiB\n", "exception_type": "torch.OutOfMemoryError",
				"traceback": []string{"..."}, "current_inputs": map[string]any{}, "current_outputs": map[string]any{}}
			msg("execution_error", data)
			data["prompt_id"] = p.id
			failure = []any{"execution_error", data}
			break
		}
		if class == "KSampler" {
			steps := int(n["inputs"].(map[string]any)["steps"].(float64))
			for s := 1; s <= steps; s++ {
				msg("progress", map[string]any{"value": s, "max": steps, "node": id})
				if s == steps/2 && ws != nil {
					ws.send(websocket.BinaryMessage, fakePreviewFrame(f.t))
				}
			}
		}
		if class == "SaveImage" && saveID == "" {
			in := n["inputs"].(map[string]any)
			prefix := in["filename_prefix"].(string)
			dir, base, _ := strings.Cut(prefix, "/")
			f.mu.Lock()
			_, _, batch := f.imageOf(p.graph, in["images"])
			f.mu.Unlock()
			for i := range batch {
				saved = append(saved, map[string]any{"filename": fmt.Sprintf("%s_%05d_.png", base, i+1), "subfolder": dir, "type": "output"})
			}
			saveID = id
			msg("executed", map[string]any{"node": id, "display_node": id, "output": map[string]any{"images": saved}})
		}
	}
	entry := map[string]any{"prompt": []any{1, p.id, p.graph, map[string]any{"client_id": p.clientID}, []string{saveID}},
		"outputs": map[string]any{}, "meta": map[string]any{}}
	if failure != nil {
		entry["status"] = map[string]any{"status_str": "error", "completed": false, "messages": []any{[]any{"execution_start", map[string]any{"prompt_id": p.id}}, failure}}
	} else {
		entry["status"] = map[string]any{"status_str": "success", "completed": true, "messages": []any{}}
		entry["outputs"] = map[string]any{saveID: map[string]any{"images": saved}, "0": map[string]any{}}
	}
	f.mu.Lock()
	f.history[p.id] = entry
	f.mu.Unlock()
	if failure == nil {
		msg("executing", map[string]any{"node": nil})
		msg("execution_success", map[string]any{"timestamp": 2})
	}
}

// fakePreviewFrame is a binary preview frame: event 1, format 1 (JPEG), a 16x16 JPEG.
func fakePreviewFrame(t *testing.T) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range img.Pix {
		img.Pix[i] = 0x80
	}
	var buf bytes.Buffer
	buf.Write(binary.BigEndian.AppendUint32(nil, 1))
	buf.Write(binary.BigEndian.AppendUint32(nil, 1))
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Error(err)
	}
	return buf.Bytes()
}

// view serves a saved image: a PNG of the pixels the prompt that saved it
// made (pixelsOf), image i of its batch as name_0000i_.png.
func (f *fakeComfyUI) view(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, p := range f.prompts {
		_, save := node(p.graph, "SaveImage")
		if save == nil || q.Get("type") != "output" {
			continue
		}
		name := strings.TrimSuffix(q.Get("filename"), "_.png")
		cut := strings.LastIndex(name, "_")
		if cut < 0 {
			continue
		}
		i, err := strconv.Atoi(name[cut+1:])
		if err != nil || save["filename_prefix"] != q.Get("subfolder")+"/"+name[:cut] {
			continue
		}
		imgs := f.pixelsOf(p.graph, save["images"])
		if i < 1 || i > len(imgs) {
			break
		}
		w.Header().Set("Content-Type", "image/png")
		_ = png.Encode(w, imgs[i-1])
		return
	}
	http.NotFound(w, r)
}

// imageOf works out, as ComfyUI's nodes would, the size and batch of the
// IMAGE or LATENT a link carries: EmptyLatentImage makes its size and
// batch_size, LoadImage the upload's size (one image), VAEEncode and
// VAEEncodeForInpaint keep their pixels' size, RepeatLatentBatch
// multiplies the batch by amount, LatentUpscale resizes, KSampler and
// VAEDecode keep what they take. f.mu is held.
func (f *fakeComfyUI) imageOf(graph map[string]any, v any) (w, h, batch int) {
	link, ok := asComfyLink(v)
	n, _ := graph[link.node].(map[string]any)
	if !ok || n == nil {
		f.t.Errorf("fake comfyui: %v is not a link to a node", v)
		return 0, 0, 0
	}
	in := n["inputs"].(map[string]any)
	num := func(k string) int { x, _ := in[k].(float64); return int(x) }
	switch class := n["class_type"].(string); class {
	case "EmptyLatentImage":
		return num("width"), num("height"), num("batch_size")
	case "LoadImage":
		src, err := png.DecodeConfig(bytes.NewReader(f.uploads[in["image"].(string)]))
		if err != nil {
			f.t.Errorf("fake comfyui: LoadImage's %v is not an uploaded PNG: %v", in["image"], err)
		}
		return src.Width, src.Height, 1
	case "VAEEncode", "VAEEncodeForInpaint":
		return f.imageOf(graph, in["pixels"])
	case "RepeatLatentBatch":
		w, h, b := f.imageOf(graph, in["samples"])
		return w, h, b * num("amount")
	case "LatentUpscale":
		_, _, b := f.imageOf(graph, in["samples"])
		return num("width"), num("height"), b
	case "KSampler":
		return f.imageOf(graph, in["latent_image"])
	case "VAEDecode":
		return f.imageOf(graph, in["samples"])
	case "ImageCompositeMasked":
		return f.imageOf(graph, in["destination"])
	default:
		f.t.Errorf("fake comfyui: no image comes out of %s", class)
		return 0, 0, 0
	}
}

// pixelsOf makes, as ComfyUI's nodes would, the images an IMAGE link
// carries: LoadImage the upload's colours (RGB, its alpha dropped),
// VAEDecode images of imageOf's size and batch all fakeComfyDecoded, and
// ImageCompositeMasked its destination with source laid over it at (x, y)
// in proportion to the mask (1 takes source, 0 keeps destination; none is
// all 1), source repeated to destination's batch. f.mu is held.
func (f *fakeComfyUI) pixelsOf(graph map[string]any, v any) []*image.NRGBA {
	class, in := linkedNode(graph, v)
	switch class {
	case "LoadImage":
		img := f.loadUpload(in["image"])
		out := image.NewNRGBA(img.Bounds())
		copy(out.Pix, img.Pix)
		for i := 3; i < len(out.Pix); i += 4 {
			out.Pix[i] = 255
		}
		return []*image.NRGBA{out}
	case "VAEDecode":
		w, h, batch := f.imageOf(graph, v)
		out := make([]*image.NRGBA, batch)
		for i := range out {
			out[i] = image.NewNRGBA(image.Rect(0, 0, w, h))
			for p := 0; p < len(out[i].Pix); p += 4 {
				c := fakeComfyDecoded
				out[i].Pix[p], out[i].Pix[p+1], out[i].Pix[p+2], out[i].Pix[p+3] = c.R, c.G, c.B, c.A
			}
		}
		return out
	case "ImageCompositeMasked":
		dst, src := f.pixelsOf(graph, in["destination"]), f.pixelsOf(graph, in["source"])
		var mask func(x, y int) float64
		if m, ok := in["mask"]; ok {
			mask = f.maskOf(graph, m, src[0].Bounds())
		} else {
			mask = func(int, int) float64 { return 1 }
		}
		x0, _ := in["x"].(float64)
		y0, _ := in["y"].(float64)
		out := make([]*image.NRGBA, len(dst))
		for i, d := range dst {
			o := image.NewNRGBA(d.Bounds())
			copy(o.Pix, d.Pix)
			s := src[i%len(src)]
			sb := s.Bounds()
			for y := range sb.Dy() {
				for x := range sb.Dx() {
					dx, dy := x+int(x0), y+int(y0)
					if !(image.Point{dx, dy}.In(o.Bounds())) {
						continue
					}
					m := mask(x, y)
					sp, op := s.PixOffset(x, y), o.PixOffset(dx, dy)
					for c := range 3 {
						o.Pix[op+c] = uint8(math.Round(m*float64(s.Pix[sp+c]) + (1-m)*float64(o.Pix[op+c])))
					}
				}
			}
			out[i] = o
		}
		return out
	default:
		f.t.Errorf("fake comfyui: no pixels come out of %s", class)
		return nil
	}
}

// linkedNode is the class and inputs of the node a link of a validated
// graph takes output from.
func linkedNode(graph map[string]any, v any) (string, map[string]any) {
	link, _ := asComfyLink(v)
	n := graph[link.node].(map[string]any)
	return n["class_type"].(string), n["inputs"].(map[string]any)
}

// maskOf returns the MASK a link carries, sampled at size (ComfyUI
// interpolates a mask to the image it is used with; the fake takes the
// nearest pixel): LoadImage's is 1 - alpha (1 where transparent), InvertMask's
// 1 - its mask. f.mu is held.
func (f *fakeComfyUI) maskOf(graph map[string]any, v any, size image.Rectangle) func(x, y int) float64 {
	class, in := linkedNode(graph, v)
	switch class {
	case "LoadImage":
		img := f.loadUpload(in["image"])
		b := img.Bounds()
		return func(x, y int) float64 {
			mx, my := x*b.Dx()/size.Dx(), y*b.Dy()/size.Dy()
			return 1 - float64(img.Pix[img.PixOffset(mx, my)+3])/255
		}
	case "InvertMask":
		m := f.maskOf(graph, in["mask"], size)
		return func(x, y int) float64 { return 1 - m(x, y) }
	default:
		f.t.Errorf("fake comfyui: no mask comes out of %s", class)
		return func(int, int) float64 { return 0 }
	}
}

// loadUpload decodes an uploaded image as LoadImage reads it, colours not
// premultiplied. f.mu is held.
func (f *fakeComfyUI) loadUpload(name any) *image.NRGBA {
	img, err := png.Decode(bytes.NewReader(f.uploads[fmt.Sprint(name)]))
	if err != nil {
		f.t.Errorf("fake comfyui: LoadImage's %v is not an uploaded PNG: %v", name, err)
		return image.NewNRGBA(image.Rect(0, 0, 1, 1))
	}
	if n, ok := img.(*image.NRGBA); ok {
		return n
	}
	b := img.Bounds()
	out := image.NewNRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := range b.Dy() {
		for x := range b.Dx() {
			out.SetNRGBA(x, y, color.NRGBAModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA))
		}
	}
	return out
}

// comfyOrder is the order ComfyUI would execute graph's nodes in: each
// after the nodes it takes links from, ties by id.
func comfyOrder(graph map[string]any) []string {
	var order []string
	done := map[string]bool{}
	var visit func(id string)
	visit = func(id string) {
		if done[id] {
			return
		}
		done[id] = true
		n, ok := graph[id].(map[string]any)
		if !ok {
			return
		}
		in, _ := n["inputs"].(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(in)) {
			if l, ok := asComfyLink(in[k]); ok {
				visit(l.node)
			}
		}
		order = append(order, id)
	}
	for _, id := range slices.Sorted(maps.Keys(graph)) {
		visit(id)
	}
	return order
}

func (f *fakeComfyUI) upload(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		f.t.Errorf("upload: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	file, hdr, err := r.FormFile("image")
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	data, _ := io.ReadAll(file)
	f.mu.Lock()
	defer f.mu.Unlock()
	sub := r.FormValue("subfolder")
	f.uploads[strings.TrimPrefix(sub+"/"+hdr.Filename, "/")] = data
	f.uploadForm = map[string]string{"type": r.FormValue("type"), "subfolder": sub, "overwrite": r.FormValue("overwrite"), "filename": hdr.Filename}
	writeJSON(w, map[string]any{"name": hdr.Filename, "subfolder": sub, "type": r.FormValue("type")})
}

func (f *fakeComfyUI) websocket(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	no := f.noWebsocket
	f.mu.Unlock()
	if no {
		http.NotFound(w, r)
		return
	}
	up := websocket.Upgrader{}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		f.t.Errorf("websocket: %v", err)
		return
	}
	sid := r.URL.Query().Get("clientId")
	s := &fakeComfyWS{conn: conn}
	f.mu.Lock()
	f.sockets[sid] = s
	f.mu.Unlock()
	b, _ := json.Marshal(map[string]any{"type": "status", "data": map[string]any{"status": map[string]any{"exec_info": map[string]any{"queue_remaining": 0}}, "sid": sid}})
	s.send(websocket.TextMessage, b)
	for {
		if _, _, err := conn.ReadMessage(); err != nil {
			break
		}
	}
	f.mu.Lock()
	delete(f.sockets, sid)
	f.mu.Unlock()
}

// snapshot returns the prompts so far.
func (f *fakeComfyUI) snapshotPrompts() []fakeComfyPrompt {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.prompts)
}

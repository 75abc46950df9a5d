package worker

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hordebot/hordebot/horde/aihorde"
)

const testAPIKey = "test-worker-key"

// fakeJob is a job the fake horde hands out.
type fakeJob struct {
	id     string
	prompt string
	seed   int64
	width  int
	height int
	model  string
	maxLen int
	// source is the img2img source: base64, or a path on the fake that
	// serves sourceBytes; processing its source_processing (default
	// img2img); extras a remix's extra_source_images, as the AI Horde
	// sends them.
	source     string
	processing string
	extras     []map[string]any
}

// sourceBytes is what the fake serves at /files/{name}: an 8x8 PNG of
// one colour.
var sourceBytes = solidPNG(8, 8, color.NRGBA{R: 200, G: 30, B: 30, A: 255})

// solidPNG is a w x h PNG of one colour.
func solidPNG(w, h int, c color.NRGBA) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// submitRecord is one submit the fake horde received.
type submitRecord struct {
	ID          string                `json:"id"`
	Generation  string                `json:"generation"`
	State       string                `json:"state"`
	Seed        *int64                `json:"seed"`
	GenMetadata []aihorde.GenMetadata `json:"gen_metadata"`
}

// fakeHorde is a small AI Horde v2 server: it hands out queued jobs on pop,
// accepts r2 uploads and records submits. It checks the headers of every
// request it serves.
type fakeHorde struct {
	t   testing.TB
	srv *httptest.Server

	mu             sync.Mutex
	kind           aihorde.Kind
	queue          []fakeJob
	useR2          bool
	textBatch      bool // a text pop hands out up to its amount of queued jobs as ids, payload n 1 (the AI Horde's)
	popFailures    int  // answer 503 to this many pops first
	submitFailures int  // answer 503 to this many submits first
	unauthorized   bool
	pops           int
	popBodies      []map[string]any
	submits        map[string][]submitRecord // accepted and duplicate submits, by job id
	submitCalls    int
	uploads        map[string][]byte
	uploadHeaders  map[string]http.Header
	wantSubmits    int
	allSubmitted   chan struct{}
	// Live previews: with previews on, PUT /generate/preview/{id} is
	// taken and recorded; off, it is a 404 as on a horde without them.
	previews       bool
	previewPuts    int
	previewed      map[string][][]byte
	previewHeaders map[string]http.Header
	firstPreview   chan struct{} // closed when the first preview is taken
}

// newFakeHorde starts a fake horde of a kind with jobs queued.
func newFakeHorde(t testing.TB, kind aihorde.Kind, jobs ...fakeJob) *fakeHorde {
	t.Helper()
	f := &fakeHorde{
		t:              t,
		kind:           kind,
		queue:          jobs,
		submits:        map[string][]submitRecord{},
		uploads:        map[string][]byte{},
		uploadHeaders:  map[string]http.Header{},
		wantSubmits:    len(jobs),
		allSubmitted:   make(chan struct{}),
		previewed:      map[string][][]byte{},
		previewHeaders: map[string]http.Header{},
		firstPreview:   make(chan struct{}),
	}
	if len(jobs) == 0 {
		close(f.allSubmitted)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/generate/pop", f.pop(aihorde.KindImage))
	mux.HandleFunc("POST /api/v2/generate/text/pop", f.pop(aihorde.KindText))
	mux.HandleFunc("POST /api/v2/generate/submit", f.submit)
	mux.HandleFunc("POST /api/v2/generate/text/submit", f.submit)
	mux.HandleFunc("PUT /api/v2/r2/{file}", f.upload)
	mux.HandleFunc("PUT /api/v2/generate/preview/{id}", f.preview)
	mux.HandleFunc("GET /files/{name}", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(sourceBytes) })
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeHorde) fail(w http.ResponseWriter, status int, rc, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Retry-After", "0")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"message": msg, "rc": rc})
}

// checkHeaders answers false (after writing an error) when a request lacks
// the worker's key or agent.
func (f *fakeHorde) checkHeaders(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.Header.Get("Client-Agent"), "hordeworker:"+Version+":") {
		f.t.Errorf("%s %s: Client-Agent %q", r.Method, r.URL.Path, r.Header.Get("Client-Agent"))
	}
	if f.unauthorized || r.Header.Get("apikey") != testAPIKey {
		f.fail(w, http.StatusUnauthorized, "InvalidAPIKey", "bad key")
		return false
	}
	return true
}

func (f *fakeHorde) pop(kind aihorde.Kind) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.checkHeaders(w, r) {
			return
		}
		if kind != f.kind {
			f.t.Errorf("popped %s from a %s horde", kind, f.kind)
		}
		var body map[string]any
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			f.t.Errorf("pop body: %v", err)
		}
		f.popBodies = append(f.popBodies, body)
		f.pops++
		if f.popFailures > 0 {
			f.popFailures--
			f.fail(w, http.StatusServiceUnavailable, "Overloaded", "try again")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if len(f.queue) == 0 {
			_ = json.NewEncoder(w).Encode(map[string]any{
				"id": nil, "ids": []string{}, "payload": map[string]any{},
				"skipped": map[string]int{"models": 0}, "softprompt": nil,
			})
			return
		}
		j := f.queue[0]
		f.queue = f.queue[1:]
		ids := []string{j.id}
		if amount, _ := body["amount"].(float64); kind == aihorde.KindText && f.textBatch {
			for len(f.queue) > 0 && len(ids) < int(amount) {
				ids = append(ids, f.queue[0].id)
				f.queue = f.queue[1:]
			}
		}
		resp := map[string]any{"id": j.id, "ids": ids, "model": j.model, "skipped": map[string]int{}, "ttl": 60}
		if kind == aihorde.KindText {
			resp["payload"] = map[string]any{"prompt": j.prompt, "max_length": j.maxLen, "max_context_length": 1024, "n": 1}
			resp["softprompt"] = ""
		} else {
			resp["payload"] = map[string]any{"prompt": j.prompt, "width": j.width, "height": j.height,
				"steps": 20, "seed": j.seed, "sampler_name": "k_euler_a", "cfg_scale": 7.5, "n_iter": 1}
			processing := j.processing
			if processing == "" {
				processing = "img2img"
			}
			if strings.HasPrefix(j.source, "/") {
				resp["source_image"] = f.srv.URL + j.source
				resp["source_processing"] = processing
			} else if j.source != "" {
				resp["source_image"] = j.source
				resp["source_processing"] = processing
			}
			var extras []map[string]any
			for _, x := range j.extras {
				x := maps.Clone(x)
				if img, _ := x["image"].(string); strings.HasPrefix(img, "/") {
					x["image"] = f.srv.URL + img
				}
				extras = append(extras, x)
			}
			if len(extras) > 0 {
				resp["extra_source_images"] = extras
			}
			if f.useR2 {
				u := f.srv.URL + "/api/v2/r2/" + j.id + ".webp"
				resp["r2_upload"] = u
				resp["r2_uploads"] = []string{u}
			}
		}
		_ = json.NewEncoder(w).Encode(resp)
	}
}

func (f *fakeHorde) submit(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.checkHeaders(w, r) {
		return
	}
	f.submitCalls++
	if f.submitFailures > 0 {
		f.submitFailures--
		f.fail(w, http.StatusServiceUnavailable, "Overloaded", "try again")
		return
	}
	var s submitRecord
	if err := json.NewDecoder(r.Body).Decode(&s); err != nil {
		f.t.Errorf("submit body: %v", err)
		f.fail(w, http.StatusBadRequest, "ValidationError", err.Error())
		return
	}
	prev := len(f.submits[s.ID])
	f.submits[s.ID] = append(f.submits[s.ID], s)
	if prev > 0 {
		f.fail(w, http.StatusBadRequest, "DuplicateGen", "already submitted")
		return
	}
	if s.State == aihorde.StateFaulted {
		_ = json.NewEncoder(w).Encode(map[string]float64{"reward": 0})
	} else {
		_ = json.NewEncoder(w).Encode(map[string]float64{"reward": 10})
	}
	if f.distinctSubmitsLocked() == f.wantSubmits {
		close(f.allSubmitted)
	}
}

func (f *fakeHorde) distinctSubmitsLocked() int { return len(f.submits) }

func (f *fakeHorde) upload(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("upload body: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id := strings.TrimSuffix(r.PathValue("file"), ".webp")
	f.uploads[id] = data
	f.uploadHeaders[id] = r.Header.Clone()
	w.WriteHeader(http.StatusOK)
}

// preview takes a live preview (hordebot's extension) when previews are
// on, and answers as a horde without the route (a plain 404) otherwise.
func (f *fakeHorde) preview(w http.ResponseWriter, r *http.Request) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		f.t.Errorf("preview body: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.previewPuts++
	if !f.previews {
		http.NotFound(w, r)
		return
	}
	if !f.checkHeaders(w, r) {
		return
	}
	id := r.PathValue("id")
	if len(f.previewed) == 0 {
		close(f.firstPreview)
	}
	f.previewed[id] = append(f.previewed[id], data)
	f.previewHeaders[id] = r.Header.Clone()
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"message":"OK"}`))
}

// previewSnapshot returns how many preview PUTs came and copies of the
// previews taken, by job id.
func (f *fakeHorde) previewSnapshot() (puts int, previewed map[string][][]byte, headers map[string]http.Header) {
	f.mu.Lock()
	defer f.mu.Unlock()
	previewed = make(map[string][][]byte, len(f.previewed))
	for k, v := range f.previewed {
		previewed[k] = append([][]byte(nil), v...)
	}
	headers = make(map[string]http.Header, len(f.previewHeaders))
	for k, v := range f.previewHeaders {
		headers[k] = v.Clone()
	}
	return f.previewPuts, previewed, headers
}

// snapshot returns copies of what the fake recorded.
func (f *fakeHorde) snapshot() (pops int, submits map[string][]submitRecord, uploads map[string][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	submits = make(map[string][]submitRecord, len(f.submits))
	for k, v := range f.submits {
		submits[k] = append([]submitRecord(nil), v...)
	}
	uploads = make(map[string][]byte, len(f.uploads))
	for k, v := range f.uploads {
		uploads[k] = v
	}
	return f.pops, submits, uploads
}

// imageJobs returns n image jobs.
func imageJobs(n int) []fakeJob {
	jobs := make([]fakeJob, n)
	for i := range jobs {
		jobs[i] = fakeJob{id: fmt.Sprintf("job-%02d", i), prompt: fmt.Sprintf("test prompt %d ### blurry", i),
			seed: int64(1000 + i), width: 64, height: 64, model: ProceduralModel}
	}
	return jobs
}

// textJobs returns n text jobs.
func textJobs(n, maxLen int) []fakeJob {
	jobs := make([]fakeJob, n)
	for i := range jobs {
		jobs[i] = fakeJob{id: fmt.Sprintf("text-%02d", i), prompt: fmt.Sprintf("Once upon a time %d", i),
			model: "test/model", maxLen: maxLen}
	}
	return jobs
}

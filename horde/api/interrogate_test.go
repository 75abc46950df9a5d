package api_test

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/store/storetest"
)

// pngOf is a w x h PNG.
func pngOf(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y += 7 {
		for x := 0; x < w; x += 5 {
			img.Set(x, y, color.RGBA{R: uint8(x), G: uint8(y), B: 80, A: 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatalf("encode png: %v", err)
	}
	return buf.Bytes()
}

// alchemyRequest is a horde_sdk AlchemyAsyncRequest body.
func alchemyRequest(source string, forms ...string) map[string]any {
	fs := []map[string]any{}
	for _, f := range forms {
		fs = append(fs, map[string]any{"name": f})
	}
	return map[string]any{"forms": fs, "source_image": source, "slow_workers": true, "extra_slow_workers": false}
}

// alchemistPop is a horde_sdk AlchemyPopRequest body.
func alchemistPop(name string, amount int, forms ...string) map[string]any {
	return map[string]any{
		"name": name, "priority_usernames": []string{}, "forms": forms, "amount": amount, "threads": 1,
		"max_tiles": 16, "bridge_agent": "AI Horde Worker reGen:9.0.0:https://github.com/Haidra-Org/horde-worker-reGen",
	}
}

func (e *env) get(t testing.TB, url string) []byte {
	t.Helper()
	res, err := e.srv.Client().Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(res.Body); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	return buf.Bytes()
}

// TestInterrogateRoundTrip: a request, an alchemist's pop, its r2 PUT and
// submits, and the status a client reads, field for field.
func TestInterrogateRoundTrip(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, reqKey := e.user("requester")
	_, workerKey := e.user("alchemist-owner")
	src := pngOf(t, 512, 512)

	res := e.do("POST", "/api/v2/interrogate/async", reqKey,
		alchemyRequest(base64.StdEncoding.EncodeToString(src), "caption", "RealESRGAN_x2plus", "caption"))
	wantStatus(t, res, http.StatusAccepted)
	async := res.object(t)
	id, _ := async["id"].(string)
	if id == "" || async["kudos"].(float64) != 3+5 {
		t.Fatalf("async = %v; want an id and kudos 8 (caption 1+2, one tile of upscale 3+2; the repeated caption once)", async)
	}

	res = e.do("GET", "/api/v2/interrogate/status/"+id, "", nil)
	wantStatus(t, res, http.StatusOK)
	if got := string(res.body); !strings.Contains(got, `"state":"waiting"`) || strings.Contains(got, `"result"`) {
		t.Errorf("status before any pop = %s", got)
	}

	res = e.do("POST", "/api/v2/interrogate/pop", workerKey, alchemistPop("alch", 2, "caption", "RealESRGAN_x2plus", "4xNomos8kSC"))
	wantStatus(t, res, http.StatusOK)
	var sp struct {
		Forms []struct {
			ID          string `json:"id"`
			Form        string `json:"form"`
			SourceImage string `json:"source_image"`
			R2Upload    string `json:"r2_upload"`
		} `json:"forms"`
	}
	res.json(t, &sp)
	if len(sp.Forms) != 2 || sp.Forms[0].Form != "caption" || sp.Forms[1].Form != "RealESRGAN_x2plus" {
		t.Fatalf("pop = %s; want caption then the upscale", res.body)
	}
	caption, upscale := sp.Forms[0], sp.Forms[1]
	if caption.R2Upload != "" || !strings.HasPrefix(upscale.R2Upload, e.srv.URL+"/api/v2/r2/alchemy/") {
		t.Errorf("r2_upload of caption %q, of upscale %q; want none, then this server's", caption.R2Upload, upscale.R2Upload)
	}
	if got := e.get(t, caption.SourceImage); !bytes.Equal(got, src) {
		t.Errorf("source_image %s serves %d bytes, not the source", caption.SourceImage, len(got))
	}

	res = e.do("POST", "/api/v2/interrogate/pop", workerKey, alchemistPop("alch", 2, "caption"))
	wantStatus(t, res, http.StatusOK)
	if got := string(res.body); !strings.Contains(got, `"forms":[]`) || !strings.Contains(got, `"skipped":{}`) {
		t.Errorf("empty pop = %s; want forms [] and skipped {}", got)
	}

	res = e.do("POST", "/api/v2/interrogate/submit", workerKey, map[string]any{
		"id": caption.ID, "result": map[string]any{"caption": "a colourful test card"}, "state": "ok"})
	wantStatus(t, res, http.StatusOK)
	if got := res.object(t)["reward"]; got != 1.0 {
		t.Errorf("caption reward = %v, want 1", got)
	}

	res = e.do("POST", "/api/v2/interrogate/submit", workerKey, map[string]any{
		"id": upscale.ID, "result": map[string]any{"RealESRGAN_x2plus": "R2"}, "state": "ok"})
	wantError(t, res, http.StatusBadRequest, "r2_upload")

	up := pngOf(t, 1024, 1024)
	res = e.do("PUT", upscale.R2Upload, "", up)
	wantStatus(t, res, http.StatusOK)
	res = e.do("PUT", strings.Replace(upscale.R2Upload, upscale.ID, caption.ID, 1), "", up)
	wantError(t, res, http.StatusBadRequest, "")

	res = e.do("POST", "/api/v2/interrogate/submit", workerKey, map[string]any{
		"id": upscale.ID, "result": map[string]any{"RealESRGAN_x2plus": "R2"}, "state": "ok"})
	wantStatus(t, res, http.StatusOK)
	if got := res.object(t)["reward"]; got != 3.0 {
		t.Errorf("upscale reward = %v, want 3", got)
	}
	res = e.do("POST", "/api/v2/interrogate/submit", workerKey, map[string]any{
		"id": upscale.ID, "result": map[string]any{"RealESRGAN_x2plus": "R2"}, "state": "ok"})
	if m := wantError(t, res, http.StatusBadRequest, ""); m["rc"] != "DuplicateGen" {
		t.Errorf("second submit rc = %v, want DuplicateGen", m["rc"])
	}

	res = e.do("GET", "/api/v2/interrogate/status/"+id, "", nil)
	wantStatus(t, res, http.StatusOK)
	var st struct {
		State string `json:"state"`
		Forms []struct {
			Form   string         `json:"form"`
			State  string         `json:"state"`
			Result map[string]any `json:"result"`
		} `json:"forms"`
	}
	res.json(t, &st)
	if st.State != "done" || len(st.Forms) != 2 || st.Forms[0].Result["caption"] != "a colourful test card" {
		t.Fatalf("status = %s", res.body)
	}
	link, _ := st.Forms[1].Result["RealESRGAN_x2plus"].(string)
	if got := e.get(t, link); !bytes.Equal(got, up) {
		t.Errorf("the upscale's link %q serves %d bytes, not the upload", link, len(got))
	}

	res = e.do("GET", "/api/v2/workers?type=interrogation", "", nil)
	wantStatus(t, res, http.StatusOK)
	if got := string(res.body); !strings.Contains(got, `"type":"interrogation"`) || !strings.Contains(got, `"forms":["caption"]`) ||
		!strings.Contains(got, "seconds per form") {
		t.Errorf("alchemists = %s", got)
	}
	storetest.SweepEstimates(t, e.h) // queued_forms, on the shared queue
	res = e.do("GET", "/api/v2/status/performance", "", nil)
	if got := res.object(t); got["interrogator_count"] != 1.0 || got["queued_forms"] != 0.0 {
		t.Errorf("performance = %v; want 1 interrogator, no queued form", got)
	}
}

// TestInterrogateErrors: what clients and alchemists are refused with.
func TestInterrogateErrors(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("requester")
	b64 := base64.StdEncoding.EncodeToString(pngOf(t, 64, 64))
	huge := base64.StdEncoding.EncodeToString(pngOf(t, 3100, 3100))
	cases := []struct {
		name         string
		method, path string
		key          string
		body         any
		status       int
		rc           string
	}{
		{"unknown key", "POST", "/api/v2/interrogate/async", "not-a-key", alchemyRequest(b64, "caption"), 401, "InvalidAPIKey"},
		{"no form", "POST", "/api/v2/interrogate/async", key, alchemyRequest(b64), 400, "BadRequest"},
		{"a form this horde does not serve", "POST", "/api/v2/interrogate/async", key, alchemyRequest(b64, "vectorize"), 400, "UnsupportedForm"},
		{"not an image", "POST", "/api/v2/interrogate/async", key, alchemyRequest("bm90IGFuIGltYWdl", "caption"), 400, "ImageValidationFailed"},
		{"more than 3072x3072", "POST", "/api/v2/interrogate/async", key, alchemyRequest(huge, "caption"), 400, "SourceImageResolutionExceeded"},
		{"a URL inside the network", "POST", "/api/v2/interrogate/async", key, alchemyRequest("http://127.0.0.1:1/cat.png", "caption"), 400, "SourceImageUrlInvalid"},
		{"an http webhook", "POST", "/api/v2/interrogate/async", key, func() any {
			b := alchemyRequest(b64, "caption")
			b["webhook"] = "http://example.org/hook"
			return b
		}(), 400, "BadRequest"},
		{"status of an unknown id", "GET", "/api/v2/interrogate/status/00000000-0000-0000-0000-000000000000", "", nil, 404, "RequestNotFound"},
		{"cancel of an unknown id", "DELETE", "/api/v2/interrogate/status/nope", "", nil, 404, "RequestNotFound"},
		{"submit of an unknown form", "POST", "/api/v2/interrogate/submit", key, map[string]any{"id": "nope", "result": map[string]any{"caption": "x"}}, 404, "InvalidJobID"},
		{"anonymous pop", "POST", "/api/v2/interrogate/pop", "0000000000", alchemistPop("anon", 1, "caption"), 403, "AnonForbiddenWorker"},
		{"pop with a bad priority username", "POST", "/api/v2/interrogate/pop", key, func() any {
			p := alchemistPop("alch", 1, "caption")
			p["priority_usernames"] = []string{"db0"}
			return p
		}(), 400, "InvalidPriorityUsername"},
		{"pop with max_tiles past 256", "POST", "/api/v2/interrogate/pop", key, func() any {
			p := alchemistPop("alch", 1, "caption")
			p["max_tiles"] = 300
			return p
		}(), 400, "BadRequest"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do(tc.method, tc.path, tc.key, tc.body)
			if m := wantError(t, res, tc.status, ""); m["rc"] != tc.rc {
				t.Errorf("rc = %v, want %s; body %s", m["rc"], tc.rc, res.body)
			}
		})
	}
}

// TestInterrogateSourceURL: a remote source image is fetched once and
// served to alchemists from this server; a link to this server's own
// results is read from the blob store even when remote URLs are off.
func TestInterrogateSourceURL(t *testing.T) {
	src := pngOf(t, 600, 400)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/cat.png":
			w.Header().Set("Content-Type", "image/png")
			_, _ = w.Write(src)
		case "/big.png":
			_, _ = w.Write(make([]byte, 6<<20))
		default:
			_, _ = w.Write([]byte("<html>not an image</html>"))
		}
	}))
	defer site.Close()
	loopback := func(a netip.Addr) bool { return a.IsLoopback() }

	e := newEnv(t, api.Options{SourceAddrAllowed: loopback})
	_, key := e.user("requester")
	_, workerKey := e.user("owner")
	for _, tc := range []struct {
		name, path string
		status     int
		rc         string
	}{
		{"an image", "/cat.png", 202, ""},
		{"more than 5 MB", "/big.png", 400, "SourceImageSizeExceeded"},
		{"not an image", "/page.html", 400, "SourceImageUrlInvalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := e.do("POST", "/api/v2/interrogate/async", key, alchemyRequest(site.URL+tc.path, "caption"))
			if tc.status == 202 {
				wantStatus(t, res, 202)
				return
			}
			if m := wantError(t, res, tc.status, ""); m["rc"] != tc.rc {
				t.Errorf("rc = %v, want %s", m["rc"], tc.rc)
			}
		})
	}
	res := e.do("POST", "/api/v2/interrogate/pop", workerKey, alchemistPop("alch", 1, "caption"))
	var pop struct {
		Forms []struct {
			SourceImage string `json:"source_image"`
		} `json:"forms"`
	}
	res.json(t, &pop)
	if len(pop.Forms) != 1 || !strings.HasPrefix(pop.Forms[0].SourceImage, e.srv.URL+"/api/v2/results/") {
		t.Fatalf("pop = %s; want the source served by this server", res.body)
	}
	if got := e.get(t, pop.Forms[0].SourceImage); !bytes.Equal(got, src) {
		t.Errorf("the source served is %d bytes, not the site's image", len(got))
	}

	off := newEnv(t, api.Options{SourceURLs: api.SourceURLsOff})
	_, key = off.user("requester")
	res = off.do("POST", "/api/v2/interrogate/async", key, alchemyRequest(site.URL+"/cat.png", "caption"))
	if m := wantError(t, res, http.StatusForbidden, ""); m["rc"] != "SourceImageURLsDisabled" {
		t.Errorf("rc = %v, want SourceImageURLsDisabled", m["rc"])
	}
	b64 := base64.StdEncoding.EncodeToString(src)
	res = off.do("POST", "/api/v2/interrogate/async", key, alchemyRequest(b64, "caption"))
	wantStatus(t, res, http.StatusAccepted)
	_, workerKey = off.user("owner")
	res = off.do("POST", "/api/v2/interrogate/pop", workerKey, alchemistPop("alch", 1, "caption"))
	res.json(t, &pop)
	own := pop.Forms[0].SourceImage
	res = off.do("POST", "/api/v2/interrogate/async", key, alchemyRequest(own, "nsfw"))
	wantStatus(t, res, http.StatusAccepted)
}

// TestInterrogateFaultedAndCancel: AI-Horde-Worker's faulted submit (no
// result, a generation and a seed) puts the form back; DELETE cancels what
// is left and answers the status.
func TestInterrogateFaultedAndCancel(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("requester")
	_, workerKey := e.user("owner")
	res := e.do("POST", "/api/v2/interrogate/async", key,
		alchemyRequest(base64.StdEncoding.EncodeToString(pngOf(t, 64, 64)), "nsfw", "interrogation"))
	wantStatus(t, res, http.StatusAccepted)
	id := res.object(t)["id"].(string)
	res = e.do("POST", "/api/v2/interrogate/pop", workerKey, alchemistPop("alch", 1, "nsfw"))
	var pop struct {
		Forms []struct {
			ID string `json:"id"`
		} `json:"forms"`
	}
	res.json(t, &pop)
	res = e.do("POST", "/api/v2/interrogate/submit", workerKey, map[string]any{
		"id": pop.Forms[0].ID, "state": "faulted", "generation": "faulted", "seed": -1})
	wantStatus(t, res, http.StatusOK)
	if got := res.object(t)["reward"]; got != 0.0 {
		t.Errorf("faulted reward = %v, want 0", got)
	}
	res = e.do("GET", "/api/v2/interrogate/status/"+id, "", nil)
	if got := string(res.body); !strings.Contains(got, `"state":"waiting"`) {
		t.Errorf("status after a fault = %s; want waiting again", got)
	}
	res = e.do("DELETE", "/api/v2/interrogate/status/"+id, "", nil)
	wantStatus(t, res, http.StatusOK)
	if got := string(res.body); got != `{"state":"partial","forms":[{"form":"nsfw","state":"cancelled"},{"form":"interrogation","state":"cancelled"}]}`+"\n" {
		t.Errorf("cancel = %s", got)
	}
}

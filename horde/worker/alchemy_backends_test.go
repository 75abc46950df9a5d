package worker

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// testPNG is a w x h PNG: a red square on a white backdrop.
func testPNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := color.NRGBA{255, 255, 255, 255}
			if x >= w/4 && x < 3*w/4 && y >= h/4 && y < 3*h/4 {
				c = color.NRGBA{220, 20, 20, 255}
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// decodeSize decodes an encoded image and returns it with its size.
func decodeSize(t testing.TB, data []byte) (image.Image, int, int) {
	t.Helper()
	img, _, err := decodeImage(data)
	if err != nil {
		t.Fatalf("result is not an image: %v", err)
	}
	return img, img.Bounds().Dx(), img.Bounds().Dy()
}

// fakeA1111Alchemy speaks the parts of the AUTOMATIC1111 API that alchemy
// uses (/sdapi/v1/interrogate knowing "clip" and "deepdanbooru" only, as
// AUTOMATIC1111 does; /sdapi/v1/extra-single-image, which scales the image
// by upscaling_resize) and rembg's POST /api/remove.
type fakeA1111Alchemy struct {
	srv *httptest.Server

	mu     sync.Mutex
	bodies map[string][]map[string]any // by path
	models []string                    // interrogate models asked, in order
	rembg  []string                    // rembg queries
	know   []string                    // interrogate models it knows
}

func newFakeA1111Alchemy(t *testing.T) *fakeA1111Alchemy {
	f := &fakeA1111Alchemy{bodies: map[string][]map[string]any{}, know: []string{"clip", "deepdanbooru"}}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		if r.URL.Path == "/api/remove" {
			f.rembgRemove(t, w, r)
			return
		}
		var body map[string]any
		if r.Method == http.MethodPost {
			if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
				t.Errorf("%s body: %v", r.URL.Path, err)
			}
		}
		f.bodies[r.URL.Path] = append(f.bodies[r.URL.Path], body)
		switch r.URL.Path {
		case "/sdapi/v1/progress":
			_, _ = w.Write([]byte(`{"progress":0}`))
		case "/sdapi/v1/interrogate":
			model, _ := body["model"].(string)
			f.models = append(f.models, model)
			if !contains(f.know, model) {
				w.WriteHeader(http.StatusNotFound)
				_, _ = w.Write([]byte(`{"detail":"Model not found"}`))
				return
			}
			if _, err := base64.StdEncoding.DecodeString(body["image"].(string)); err != nil {
				t.Errorf("interrogate image is not base64: %v", err)
			}
			caption := "a red square on a white background, a minimalist painting, by Kazimir Malevich, trending on artstation, flat colours"
			if model == "blip" {
				caption = "a red square on a white background"
			}
			_ = json.NewEncoder(w).Encode(map[string]string{"caption": caption})
		case "/sdapi/v1/extra-single-image":
			raw, err := base64.StdEncoding.DecodeString(body["image"].(string))
			if err != nil {
				t.Errorf("extras image is not base64: %v", err)
			}
			img, _, err := image.Decode(bytes.NewReader(raw))
			if err != nil {
				t.Errorf("extras image: %v", err)
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			scale, _ := body["upscaling_resize"].(float64)
			if scale < 1 {
				scale = 1
			}
			out := resample(img, int(scale))
			var buf bytes.Buffer
			_ = png.Encode(&buf, out)
			_ = json.NewEncoder(w).Encode(map[string]string{"html_info": "", "image": base64.StdEncoding.EncodeToString(buf.Bytes())})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// rembgRemove answers rembg's POST /api/remove: a PNG of the upload with
// its border colour transparent.
func (f *fakeA1111Alchemy) rembgRemove(t *testing.T, w http.ResponseWriter, r *http.Request) {
	f.rembg = append(f.rembg, r.URL.RawQuery)
	file, _, err := r.FormFile("file")
	if err != nil {
		t.Errorf("rembg: no multipart file: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	data, _ := io.ReadAll(file)
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		t.Errorf("rembg: upload is not an image: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	_ = png.Encode(w, stripBorderColour(img))
}

func (f *fakeA1111Alchemy) last(path string) map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.bodies[path]
	if len(b) == 0 {
		return nil
	}
	return b[len(b)-1]
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestA1111AlchemyForms(t *testing.T) {
	src := testPNG(t, 64, 48)
	tests := []struct {
		name        string
		form        string
		payload     map[string]string
		know        []string // interrogate models the web UI knows; nil: clip and deepdanbooru
		wantCaption string
		wantModels  []string
		wantW       int
		wantH       int
		check       func(t *testing.T, f *fakeA1111Alchemy, res AlchemyResult)
	}{
		{
			name: "caption falls back to the start of a clip interrogation on a web UI without blip",
			form: aihorde.FormCaption, wantCaption: "a red square on a white background", wantModels: []string{"blip", "clip"},
		},
		{
			name: "caption asks blip on a web UI that knows it", form: aihorde.FormCaption, know: []string{"blip", "clip"},
			wantCaption: "a red square on a white background", wantModels: []string{"blip"},
		},
		{
			name: "interrogation sorts the clip phrases into artists, sites, mediums and flavors",
			form: aihorde.FormInterrogation, wantModels: []string{"clip"},
			check: func(t *testing.T, _ *fakeA1111Alchemy, res AlchemyResult) {
				d, ok := res.Value.(aihorde.InterrogationDetails)
				if !ok {
					t.Fatalf("value is %T, want InterrogationDetails", res.Value)
				}
				want := map[string][]aihorde.InterrogationItem{
					"artists": {{Text: "Kazimir Malevich", Confidence: 1}},
					"sites":   {{Text: "trending on artstation", Confidence: 1}},
					"mediums": {{Text: "a minimalist painting", Confidence: 1}},
					"flavors": {{Text: "flat colours", Confidence: 1}},
				}
				got := map[string][]aihorde.InterrogationItem{"artists": d.Artists, "sites": d.Sites, "mediums": d.Mediums, "flavors": d.Flavors}
				for k, w := range want {
					if len(got[k]) != len(w) || got[k][0] != w[0] {
						t.Errorf("%s = %+v, want %+v", k, got[k], w)
					}
				}
				if d.Tags == nil || d.Movements == nil || d.Techniques == nil {
					t.Errorf("empty categories must be [] for clients, got %+v", d)
				}
			},
		},
		{
			name: "RealESRGAN_x4plus upscales 4x with the web UI's R-ESRGAN 4x+", form: aihorde.FormRealESRGANx4, wantW: 256, wantH: 192,
			check: func(t *testing.T, f *fakeA1111Alchemy, _ AlchemyResult) {
				b := f.last("/sdapi/v1/extra-single-image")
				if b["upscaler_1"] != "R-ESRGAN 4x+" || b["upscaling_resize"] != 4.0 {
					t.Errorf("extras body = %v, want upscaler_1 R-ESRGAN 4x+ and upscaling_resize 4", b)
				}
			},
		},
		{
			name: "RealESRGAN_x2plus upscales 2x", form: aihorde.FormRealESRGANx2, wantW: 128, wantH: 96,
		},
		{
			name: "CodeFormers runs CodeFormer at the payload's strength, same size", form: aihorde.FormCodeFormers,
			payload: map[string]string{"facefixer_strength": "0.8"}, wantW: 64, wantH: 48,
			check: func(t *testing.T, f *fakeA1111Alchemy, _ AlchemyResult) {
				b := f.last("/sdapi/v1/extra-single-image")
				if b["codeformer_visibility"] != 1.0 || b["codeformer_weight"] != 0.8 || b["upscaling_resize"] != 1.0 {
					t.Errorf("extras body = %v, want codeformer visibility 1, weight 0.8, no resize", b)
				}
			},
		},
		{
			name: "GFPGAN runs GFPGAN fully visible", form: aihorde.FormGFPGAN, wantW: 64, wantH: 48,
			check: func(t *testing.T, f *fakeA1111Alchemy, _ AlchemyResult) {
				if b := f.last("/sdapi/v1/extra-single-image"); b["gfpgan_visibility"] != 1.0 {
					t.Errorf("extras body = %v, want gfpgan_visibility 1", b)
				}
			},
		},
		{
			name: "strip_background posts the image to rembg and returns it with the backdrop transparent",
			form: aihorde.FormStripBackground, wantW: 64, wantH: 48,
			check: func(t *testing.T, f *fakeA1111Alchemy, res AlchemyResult) {
				img, _, _ := decodeSize(t, res.Image)
				if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
					t.Errorf("corner alpha = %d, want 0 (the white backdrop removed)", a)
				}
				if _, _, _, a := img.At(32, 24).RGBA(); a == 0 {
					t.Error("the red square was removed too")
				}
				if len(f.rembg) != 1 || f.rembg[0] != "model=u2net" {
					t.Errorf("rembg queries = %q, want model=u2net", f.rembg)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeA1111Alchemy(t)
			if tc.know != nil {
				f.know = tc.know
			}
			b, err := NewA1111Alchemy(A1111AlchemyOptions{URL: f.srv.URL, RembgURL: f.srv.URL, RembgModel: "u2net"})
			if err != nil {
				t.Fatal(err)
			}
			if !contains(b.Forms(), tc.form) {
				t.Fatalf("Forms() = %v lacks %s", b.Forms(), tc.form)
			}
			res, err := b.Alchemize(context.Background(), AlchemyJob{ID: "f1", Form: tc.form, Payload: tc.payload, Source: src})
			if err != nil {
				t.Fatalf("Alchemize: %v", err)
			}
			if tc.wantCaption != "" && res.Value != tc.wantCaption {
				t.Errorf("caption = %v, want %q", res.Value, tc.wantCaption)
			}
			if tc.wantModels != nil && strings.Join(f.models, ",") != strings.Join(tc.wantModels, ",") {
				t.Errorf("interrogate models = %v, want %v", f.models, tc.wantModels)
			}
			if tc.wantW > 0 {
				if len(res.Image) < 12 || string(res.Image[8:12]) != "WEBP" {
					t.Fatalf("result is not WebP")
				}
				_, w, h := decodeSize(t, res.Image)
				if w != tc.wantW || h != tc.wantH {
					t.Errorf("result is %dx%d, want %dx%d", w, h, tc.wantW, tc.wantH)
				}
			}
			if tc.check != nil {
				tc.check(t, f, res)
			}
		})
	}
}

func TestA1111AlchemyWithoutRembgOffersNoStripBackground(t *testing.T) {
	b, err := NewA1111Alchemy(A1111AlchemyOptions{URL: "http://127.0.0.1:7860"})
	if err != nil {
		t.Fatal(err)
	}
	forms := b.Forms()
	if contains(forms, aihorde.FormStripBackground) || contains(forms, aihorde.FormNSFW) {
		t.Errorf("Forms() = %v: strip_background needs rembg, nsfw a classifier", forms)
	}
	if !contains(forms, aihorde.FormCaption) || !contains(forms, aihorde.FormRealESRGANx4) || !contains(forms, aihorde.FormGFPGAN) {
		t.Errorf("Forms() = %v lacks caption, an upscaler or a face fixer", forms)
	}
	if _, err := NewA1111Alchemy(A1111AlchemyOptions{URL: "http://x", Upscalers: map[string]string{"GFPGAN": "x"}}); err == nil {
		t.Error("an upscaler name for a face fixer was accepted")
	}
}

func TestA1111AlchemyBackendErrorIsAnError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"error":"OutOfMemoryError"}`))
	}))
	defer srv.Close()
	b, err := NewA1111Alchemy(A1111AlchemyOptions{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Alchemize(context.Background(), AlchemyJob{ID: "f1", Form: aihorde.FormRealESRGANx4, Source: testPNG(t, 8, 8)})
	if err == nil || !strings.Contains(err.Error(), "OutOfMemoryError") {
		t.Errorf("err = %v, want the web UI's error", err)
	}
}

func TestProceduralAlchemyForms(t *testing.T) {
	src := testPNG(t, 40, 30)
	tests := []struct {
		form         string
		wantW, wantH int
		check        func(t *testing.T, res AlchemyResult)
	}{
		{form: aihorde.FormCaption, check: func(t *testing.T, res AlchemyResult) {
			c, _ := res.Value.(string)
			if !strings.Contains(c, "white") || !strings.Contains(c, "red") || !strings.Contains(c, "40x30") ||
				!strings.Contains(c, "procedural") {
				t.Errorf("caption = %q, want its colours, size and that it is procedural", c)
			}
		}},
		{form: aihorde.FormInterrogation, check: func(t *testing.T, res AlchemyResult) {
			d, _ := res.Value.(aihorde.InterrogationDetails)
			if len(d.Tags) != 2 || d.Tags[0].Text != "white" || d.Tags[1].Text != "red" || d.Tags[0].Confidence < 0.7 {
				t.Errorf("tags = %+v, want white (about 3/4) then red", d.Tags)
			}
		}},
		{form: aihorde.FormNSFW, check: func(t *testing.T, res AlchemyResult) {
			if res.Value != false {
				t.Errorf("nsfw = %v, want false", res.Value)
			}
		}},
		{form: aihorde.FormRealESRGANx4, wantW: 160, wantH: 120},
		{form: aihorde.FormRealESRGANx2, wantW: 80, wantH: 60},
		{form: aihorde.FormRealESRGANx4Anime, wantW: 160, wantH: 120},
		{form: aihorde.FormNMKDSiax, wantW: 160, wantH: 120},
		{form: aihorde.FormAnimeSharp, wantW: 160, wantH: 120},
		{form: aihorde.FormGFPGAN, wantW: 40, wantH: 30},
		{form: aihorde.FormCodeFormers, wantW: 40, wantH: 30},
		{form: aihorde.FormStripBackground, wantW: 40, wantH: 30, check: func(t *testing.T, res AlchemyResult) {
			img, _, _ := decodeSize(t, res.Image)
			if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
				t.Errorf("backdrop alpha = %d, want 0", a)
			}
		}},
	}
	p := ProceduralAlchemy{}
	if len(p.Forms()) != len(tests) {
		t.Errorf("Forms() = %v, want every form tested here", p.Forms())
	}
	for _, tc := range tests {
		t.Run(tc.form, func(t *testing.T) {
			res, err := p.Alchemize(context.Background(), AlchemyJob{ID: "f", Form: tc.form, Source: src})
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantW > 0 {
				_, w, h := decodeSize(t, res.Image)
				if w != tc.wantW || h != tc.wantH {
					t.Errorf("result is %dx%d, want %dx%d", w, h, tc.wantW, tc.wantH)
				}
			}
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
	if _, err := p.Alchemize(context.Background(), AlchemyJob{ID: "f", Form: aihorde.FormCaption, Source: []byte("not an image")}); err == nil {
		t.Error("a source that is no image was captioned")
	}
}

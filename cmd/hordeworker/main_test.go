package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/worker"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseConfig(t *testing.T) {
	withKey := env(map[string]string{envAPIKey: "key", envOpenAIAPIKey: "sk"})
	tests := []struct {
		name    string
		args    []string
		getenv  func(string) string
		wantErr string
		check   func(t *testing.T, c config)
	}{
		{name: "defaults", args: nil, getenv: withKey, check: func(t *testing.T, c config) {
			if c.URL != "http://127.0.0.1:7001" || c.Kind != aihorde.KindImage || c.Backend != "procedural" ||
				c.Threads != 1 || c.APIKey != "key" || len(c.Models) != 0 || !strings.HasPrefix(c.Name, "hordeworker-") {
				t.Errorf("%+v", c)
			}
		}},
		{name: "a1111 with models", args: []string{"--backend", "a1111", "--models", "A, B ,", "--threads", "3", "--nsfw", "--max-pixels", "262144"},
			getenv: withKey, check: func(t *testing.T, c config) {
				if c.BackendURL != "http://127.0.0.1:7860" || len(c.Models) != 2 || c.Models[1] != "B" || c.Threads != 3 || !c.NSFW || c.MaxPixels != 262144 {
					t.Errorf("%+v", c)
				}
			}},
		{name: "reGen-like batching", args: []string{"--max-batch", "4", "--limit-max-steps", "--extra-slow-worker"},
			getenv: withKey, check: func(t *testing.T, c config) {
				if c.MaxBatch != 4 || !c.LimitMaxSteps || !c.ExtraSlowWorker {
					t.Errorf("%+v", c)
				}
			}},
		{name: "previews on by default", args: nil, getenv: withKey, check: func(t *testing.T, c config) {
			if !c.Previews || c.PreviewInterval != worker.DefaultPreviewInterval || c.StepTime != 0 {
				t.Errorf("%+v", c)
			}
		}},
		{name: "previews off, a paced procedural backend", args: []string{"--previews=false", "--procedural-step-time", "50ms"},
			getenv: withKey, check: func(t *testing.T, c config) {
				if c.Previews || c.StepTime != 50*time.Millisecond {
					t.Errorf("%+v", c)
				}
				wc := workerConfig(c, nil, nil)
				if wc.Previews {
					t.Errorf("worker config has previews on: %+v", wc)
				}
			}},
		{name: "preview interval under a second", args: []string{"--preview-interval", "500ms"}, getenv: withKey, wantErr: "--preview-interval"},
		{name: "step time for a real backend", args: []string{"--backend", "a1111", "--models", "m", "--procedural-step-time", "1s"},
			getenv: withKey, wantErr: "--procedural-step-time"},
		{name: "max-batch over the AI Horde's amount", args: []string{"--max-batch", "21"}, getenv: withKey, wantErr: "--max-batch"},
		{name: "openai text with its key", args: []string{"--kind", "text", "--backend", "openai", "--models", "m", "--backend-url", "http://gpu:8000/v1"},
			getenv: withKey, check: func(t *testing.T, c config) {
				if c.OpenAIAPIKey != "sk" || c.BackendURL != "http://gpu:8000/v1" || c.Kind != aihorde.KindText {
					t.Errorf("%+v", c)
				}
			}},
		{name: "an a1111 alchemist with its forms and rembg", args: []string{"--kind", "alchemy", "--backend", "a1111",
			"--forms", "caption, RealESRGAN_x4plus,strip_background", "--max-tiles", "32", "--rembg-url", "http://127.0.0.1:7000"},
			getenv: withKey, check: func(t *testing.T, c config) {
				if c.Kind != kindAlchemy || c.BackendURL != "http://127.0.0.1:7860" || len(c.Forms) != 3 || c.Forms[1] != "RealESRGAN_x4plus" ||
					c.MaxTiles != 32 || c.RembgURL != "http://127.0.0.1:7000" || len(c.Models) != 0 {
					t.Errorf("%+v", c)
				}
			}},
		{name: "a procedural alchemist offers every form by default", args: []string{"--kind", "alchemy"}, getenv: withKey,
			check: func(t *testing.T, c config) {
				if c.Kind != kindAlchemy || len(c.Forms) != 0 || c.MaxTiles != worker.DefaultAlchemyMaxTiles {
					t.Errorf("%+v", c)
				}
			}},
		{name: "an unknown form", args: []string{"--kind", "alchemy", "--forms", "caption,vectorize"}, getenv: withKey, wantErr: "vectorize"},
		{name: "max-tiles over the AI Horde's", args: []string{"--kind", "alchemy", "--max-tiles", "257"}, getenv: withKey, wantErr: "--max-tiles"},
		{name: "kobold as an alchemist", args: []string{"--kind", "alchemy", "--backend", "kobold"}, getenv: withKey, wantErr: "text only"},
		{name: "comfyui with every checkpoint", args: []string{"--backend", "comfyui"}, getenv: withKey, check: func(t *testing.T, c config) {
			if c.BackendURL != "http://127.0.0.1:8188" || len(c.Models) != 0 || c.ComfyWorkflow != "" {
				t.Errorf("%+v", c)
			}
			if wc := workerConfig(c, nil, nil); !wc.AllowImg2Img {
				t.Errorf("a ComfyUI worker takes no img2img: %+v", wc)
			}
		}},
		{name: "comfyui with its URL, workflows and models", args: []string{"--backend", "comfyui", "--comfyui-url", "http://gpu:8188",
			"--comfyui-workflow", "t.json", "--comfyui-img2img-workflow", "i.json", "--models", "AlbedoBase XL=albedobaseXL_v21.safetensors"},
			getenv: withKey, check: func(t *testing.T, c config) {
				if c.BackendURL != "http://gpu:8188" || c.ComfyWorkflow != "t.json" || c.ComfyImg2ImgWorkflow != "i.json" ||
					len(c.Models) != 1 || c.Models[0] != "AlbedoBase XL=albedobaseXL_v21.safetensors" {
					t.Errorf("%+v", c)
				}
			}},
		{name: "painting on by default with the backends that paint, LoRAs with comfyui", args: nil, getenv: withKey, check: func(t *testing.T, c config) {
			for _, b := range []struct {
				args           []string
				painting, lora bool
			}{
				{[]string{"--backend", "procedural"}, true, false},
				{[]string{"--backend", "a1111", "--models", "m"}, true, false},
				{[]string{"--backend", "comfyui"}, true, true},
				{[]string{"--kind", "text", "--backend", "kobold", "--models", "m"}, false, false},
				{[]string{"--kind", "alchemy"}, false, false},
			} {
				c, err := parseConfig(b.args, withKey, io.Discard)
				if err != nil {
					t.Fatalf("%v: %v", b.args, err)
				}
				if wc := workerConfig(c, nil, nil); wc.AllowPainting != b.painting || wc.AllowLora != b.lora {
					t.Errorf("%v: allow_painting %v allow_lora %v, want %v %v", b.args, wc.AllowPainting, wc.AllowLora, b.painting, b.lora)
				}
			}
		}},
		{name: "unsafe IPs taken by default, as reGen does", args: nil, getenv: withKey, check: func(t *testing.T, c config) {
			if wc := workerConfig(c, nil, nil); !c.AllowUnsafeIPAddr || !wc.AllowUnsafeIPAddr {
				t.Errorf("allow_unsafe_ipaddr off by default: %+v", wc)
			}
		}},
		{name: "unsafe IPs turned off", args: []string{"--allow-unsafe-ipaddr=false"}, getenv: withKey, check: func(t *testing.T, c config) {
			if wc := workerConfig(c, nil, nil); wc.AllowUnsafeIPAddr {
				t.Errorf("allow_unsafe_ipaddr on: %+v", wc)
			}
		}},
		{name: "painting and LoRAs turned off", args: []string{"--backend", "comfyui", "--painting=false", "--allow-lora=false"}, getenv: withKey,
			check: func(t *testing.T, c config) {
				if wc := workerConfig(c, nil, nil); wc.AllowPainting || wc.AllowLora || !wc.AllowImg2Img {
					t.Errorf("%+v", wc)
				}
			}},
		{name: "comfyui LoRA files and inpaint workflow", args: []string{"--backend", "comfyui", "--loras", "Detail Tweaker=add_detail.safetensors, 12345 = lcm.safetensors",
			"--comfyui-inpaint-workflow", "p.json"}, getenv: withKey, check: func(t *testing.T, c config) {
			if c.Loras["Detail Tweaker"] != "add_detail.safetensors" || c.Loras["12345"] != "lcm.safetensors" || len(c.Loras) != 2 ||
				c.ComfyInpaintWorkflow != "p.json" || !c.AllowLora {
				t.Errorf("%+v", c)
			}
		}},
		{name: "painting asked of a text backend", args: []string{"--kind", "text", "--backend", "kobold", "--models", "m", "--painting"}, getenv: withKey, wantErr: "--painting"},
		{name: "LoRAs asked of a1111", args: []string{"--backend", "a1111", "--models", "m", "--allow-lora"}, getenv: withKey, wantErr: "--allow-lora"},
		{name: "LoRA files with LoRAs off", args: []string{"--backend", "comfyui", "--loras", "a=b.safetensors", "--allow-lora=false"}, getenv: withKey, wantErr: "--loras"},
		{name: "a LoRA without its file", args: []string{"--backend", "comfyui", "--loras", "Detail Tweaker"}, getenv: withKey, wantErr: "Name=file"},
		{name: "LoRA files for a1111", args: []string{"--backend", "a1111", "--models", "m", "--loras", "a=b"}, getenv: withKey, wantErr: "are for --backend comfyui"},
		{name: "comfyui flags for a1111", args: []string{"--backend", "a1111", "--models", "m", "--comfyui-workflow", "t.json"}, getenv: withKey, wantErr: "are for --backend comfyui"},
		{name: "comfyui with two URLs", args: []string{"--backend", "comfyui", "--comfyui-url", "http://a:8188", "--backend-url", "http://b:8188"}, getenv: withKey, wantErr: "two URLs"},
		{name: "comfyui for text", args: []string{"--backend", "comfyui", "--kind", "text"}, getenv: withKey, wantErr: "image only"},
		{name: "comfyui as an alchemist", args: []string{"--backend", "comfyui", "--kind", "alchemy"}, getenv: withKey, wantErr: "image only"},
		{name: "no API key", args: nil, getenv: env(nil), wantErr: envAPIKey},
		{name: "bad kind", args: []string{"--kind", "video"}, getenv: withKey, wantErr: "--kind"},
		{name: "bad backend", args: []string{"--backend", "comfy"}, getenv: withKey, wantErr: "--backend"},
		{name: "a1111 for text", args: []string{"--kind", "text", "--backend", "a1111", "--models", "m"}, getenv: withKey, wantErr: "image and alchemy only"},
		{name: "kobold for images", args: []string{"--backend", "kobold", "--models", "m"}, getenv: withKey, wantErr: "text only"},
		{name: "real backend without models", args: []string{"--kind", "text", "--backend", "kobold"}, getenv: withKey, wantErr: "--models"},
		{name: "zero threads", args: []string{"--threads", "0"}, getenv: withKey, wantErr: "--threads"},
		{name: "bad url", args: []string{"--url", "127.0.0.1:7001"}, getenv: withKey, wantErr: "--url"},
		{name: "procedural on the public horde", args: []string{"--url", "https://aihorde.net"}, getenv: withKey, wantErr: "public horde"},
		{name: "bad log level", args: []string{"--log-level", "loud"}, getenv: withKey, wantErr: "--log-level"},
		{name: "stray argument", args: []string{"run"}, getenv: withKey, wantErr: "unexpected"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConfig(tt.args, tt.getenv, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
	if _, err := parseConfig([]string{"-h"}, withKey, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

func TestNewBackend(t *testing.T) {
	for _, name := range []string{"procedural", "a1111", "comfyui", "kobold", "openai"} {
		b, err := newBackend(config{Backend: name, BackendURL: "http://127.0.0.1:1"}, nil)
		if err != nil || b == nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := newBackend(config{Backend: "kobold", BackendURL: "not a url"}, nil); err == nil {
		t.Error("kobold with a bad URL: no error")
	}
	dir := t.TempDir()
	good := filepath.Join(dir, "txt2img.json")
	if err := os.WriteFile(good, []byte(`{"1": {"class_type": "EmptyLatentImage", "inputs": {"width": "{{width}}", "height": "{{height}}", "batch_size": 1}},
		"2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "x"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	ui := filepath.Join(dir, "ui.json")
	if err := os.WriteFile(ui, []byte(`{"nodes": [], "links": []}`), 0o600); err != nil {
		t.Fatal(err)
	}
	comfy := config{Backend: "comfyui", BackendURL: "http://127.0.0.1:1"}
	for _, tt := range []struct {
		txt2img, img2img, inpaint, wantErr string
	}{
		{txt2img: good},
		{txt2img: filepath.Join(dir, "missing.json"), wantErr: "--comfyui-workflow"},
		{img2img: ui, wantErr: "API format"},
		{img2img: good, wantErr: "{{image}}"},
		{inpaint: filepath.Join(dir, "missing.json"), wantErr: "--comfyui-inpaint-workflow"},
		{inpaint: good, wantErr: "inpaint: it must load"},
	} {
		c := comfy
		c.ComfyWorkflow, c.ComfyImg2ImgWorkflow, c.ComfyInpaintWorkflow = tt.txt2img, tt.img2img, tt.inpaint
		_, err := newBackend(c, nil)
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("workflows %q %q %q: %v, want %q", tt.txt2img, tt.img2img, tt.inpaint, err, tt.wantErr)
		}
	}
}

// TestRunComfyUIWithoutItsNodes runs the worker against a ComfyUI that
// lacks the workflow's nodes: it exits 1 saying which, without popping.
func TestRunComfyUIWithoutItsNodes(t *testing.T) {
	comfy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/system_stats":
			_, _ = w.Write([]byte(`{"system": {}, "devices": []}`))
		case strings.HasPrefix(r.URL.Path, "/object_info/"):
			_, _ = w.Write([]byte(`{}`))
		default:
			t.Errorf("%s %s", r.Method, r.URL)
			http.NotFound(w, r)
		}
	}))
	defer comfy.Close()
	horde := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the worker called the horde: %s %s", r.Method, r.URL)
	}))
	defer horde.Close()
	var logs bytes.Buffer
	code := run([]string{"--url", horde.URL, "--backend", "comfyui", "--comfyui-url", comfy.URL}, env(map[string]string{envAPIKey: "k"}), io.Discard, &logs)
	if code != 1 || !strings.Contains(logs.String(), "ComfyUI has no node CLIPSetLastLayer, CLIPTextEncode") {
		t.Fatalf("code %d, want 1 and the missing nodes in the logs:\n%s", code, logs.String())
	}
	if code := run([]string{"--backend", "comfyui", "--comfyui-workflow", filepath.Join(t.TempDir(), "none.json")},
		env(map[string]string{envAPIKey: "k"}), io.Discard, &logs); code != 2 {
		t.Errorf("a missing workflow file: code %d, want 2", code)
	}
}

func TestNewAlchemyBackend(t *testing.T) {
	b, err := newAlchemyBackend(config{Backend: "a1111", BackendURL: "http://127.0.0.1:1", RembgURL: "http://127.0.0.1:2"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(b.Forms(), aihorde.FormStripBackground) {
		t.Errorf("a1111 with rembg offers %v, without strip_background", b.Forms())
	}
	if b, err := newAlchemyBackend(config{Backend: "procedural"}, nil); err != nil || len(b.Forms()) != 11 {
		t.Errorf("procedural: %v, %v", b, err)
	}
	if _, err := newAlchemyBackend(config{Backend: "openai", BackendURL: "http://127.0.0.1:1"}, nil); err == nil {
		t.Error("openai as an alchemist: no error")
	}
}

func TestRunVersionAndExitCodes(t *testing.T) {
	var out bytes.Buffer
	if code := run([]string{"version"}, env(nil), &out, io.Discard); code != 0 || out.String() != "hordeworker "+worker.Version+"\n" {
		t.Fatalf("version: code %d output %q", code, out.String())
	}
	if code := run([]string{"--kind", "video"}, env(map[string]string{envAPIKey: "k"}), io.Discard, io.Discard); code != 2 {
		t.Fatalf("bad flag: code %d, want 2", code)
	}
	// A horde that refuses the key: the worker exits 1 instead of popping forever.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("apikey") != "wrong" {
			t.Errorf("apikey %q", r.Header.Get("apikey"))
		}
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"message":"No user matching sent API Key.","rc":"InvalidAPIKey"}`))
	}))
	defer srv.Close()
	var logs bytes.Buffer
	if code := run([]string{"--url", srv.URL}, env(map[string]string{envAPIKey: "wrong"}), io.Discard, &logs); code != 1 {
		t.Fatalf("refused key: code %d, want 1; logs:\n%s", code, logs.String())
	}
	if !strings.Contains(logs.String(), "InvalidAPIKey") {
		t.Errorf("logs do not say why:\n%s", logs.String())
	}
	logs.Reset()
	if code := run([]string{"--url", srv.URL, "--kind", "alchemy"}, env(map[string]string{envAPIKey: "wrong"}), io.Discard, &logs); code != 1 {
		t.Fatalf("refused key, alchemist: code %d, want 1; logs:\n%s", code, logs.String())
	}
	if !strings.Contains(logs.String(), "InvalidAPIKey") {
		t.Errorf("the alchemist's logs do not say why:\n%s", logs.String())
	}
}

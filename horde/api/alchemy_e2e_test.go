package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"net/http"
	"strings"
	"testing"
	"time"

	_ "golang.org/x/image/webp" // the alchemist's results

	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/worker"
)

// TestReferenceAlchemist: a client asks for every form of one image, the
// reference worker (hordeworker --kind alchemy, procedural backend) pops
// them from this server, PUTs the post-processed images and submits, and
// the status the client reads has every result: the caption and the
// interrogation built from the image's colours, nsfw false, and the images
// at the size each post-processor gives.
func TestReferenceAlchemist(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, reqKey := e.user("requester")
	_, workerKey := e.user("alchemist-owner")
	forms := []string{"caption", "interrogation", "nsfw", "RealESRGAN_x4plus", "RealESRGAN_x2plus",
		"RealESRGAN_x4plus_anime_6B", "NMKD_Siax", "4x_AnimeSharp", "GFPGAN", "CodeFormers", "strip_background"}
	res := e.do("POST", "/api/v2/interrogate/async", reqKey,
		alchemyRequest(base64.StdEncoding.EncodeToString(pngOf(t, 96, 64)), forms...))
	wantStatus(t, res, http.StatusAccepted)
	id := res.object(t)["id"].(string)

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- worker.RunAlchemist(ctx, worker.AlchemistConfig{
			BaseURL: e.srv.URL, APIKey: workerKey, Name: "reference-alchemist", Backend: worker.ProceduralAlchemy{},
			Threads: 2, Amount: 4, PopInterval: 10 * time.Millisecond, Logger: quietLogger(),
		})
	}()
	var st struct {
		State string `json:"state"`
		Forms []struct {
			Form   string         `json:"form"`
			State  string         `json:"state"`
			Result map[string]any `json:"result"`
		} `json:"forms"`
	}
	for st.State != "done" {
		select {
		case err := <-done:
			t.Fatalf("alchemist stopped: %v", err)
		default:
		}
		e.do("GET", "/api/v2/interrogate/status/"+id, "", nil).json(t, &st)
		if st.State == "faulted" || st.State == "partial" {
			t.Fatalf("interrogation %s", st.State)
		}
		time.Sleep(5 * time.Millisecond) // a poll, not a timed assertion
	}
	stop()
	if err := <-done; err != nil {
		t.Fatalf("alchemist: %v", err)
	}

	scale := map[string]int{"RealESRGAN_x4plus": 4, "RealESRGAN_x2plus": 2, "RealESRGAN_x4plus_anime_6B": 4,
		"NMKD_Siax": 4, "4x_AnimeSharp": 4, "GFPGAN": 1, "CodeFormers": 1, "strip_background": 1}
	for i, f := range st.Forms {
		if f.Form != forms[i] || f.State != "done" {
			t.Errorf("form %d = %s %s, want %s done", i, f.Form, f.State, forms[i])
			continue
		}
		switch f.Form {
		case "caption":
			if c, _ := f.Result["caption"].(string); !strings.Contains(c, "colour") {
				t.Errorf("caption = %q; want one built from the colours", c)
			}
		case "nsfw":
			if f.Result["nsfw"] != false {
				t.Errorf("nsfw = %v, want false", f.Result["nsfw"])
			}
		case "interrogation":
			in, _ := f.Result["interrogation"].(map[string]any)
			if tags, _ := in["tags"].([]any); len(tags) == 0 {
				t.Errorf("interrogation = %v; want tags", f.Result)
			}
		default:
			link, _ := f.Result[f.Form].(string)
			cfg, _, err := image.DecodeConfig(bytes.NewReader(e.get(t, link)))
			if err != nil {
				t.Errorf("%s: the result at %q is not an image: %v", f.Form, link, err)
				continue
			}
			if k := scale[f.Form]; cfg.Width != 96*k || cfg.Height != 64*k {
				t.Errorf("%s: result %dx%d, want %dx%d", f.Form, cfg.Width, cfg.Height, 96*k, 64*k)
			}
		}
	}
}

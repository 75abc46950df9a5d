package api_test

import (
	"bytes"
	"encoding/base64"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/store/storetest"
)

// png512 is a 512x512 PNG, the size the test requests ask for.
func png512(t testing.TB) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 512, 512))
	for x := 0; x < 512; x++ {
		img.Set(x, x, color.RGBA{R: uint8(x), G: 80, B: 160, A: 255})
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestUnwritableBlobFolderAnswers503: when the result folder cannot be
// written (its permissions changed under the running server), a worker
// storing a result, by r2 upload or inline, gets 503 JSON with
// Retry-After, as on a full disk, not a 500; the job stays processing, so
// the same result goes through once the folder is fixed.
func TestUnwritableBlobFolderAnswers503(t *testing.T) {
	storetest.SkipOnPostgres(t, "the blob folder")
	if storetest.Unprivileged(t) {
		return
	}
	for _, viaR2 := range []bool{true, false} {
		name := map[bool]string{true: "r2 upload", false: "inline submit"}[viaR2]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, api.Options{})
			_, key := e.user("owner")
			e.asyncImage(key, nil)
			m := e.popImage(key, "gpu-1")
			id, _ := m["id"].(string)
			if id == "" {
				t.Fatalf("pop found no job: %v", m)
			}
			blobs := filepath.Join(e.st.Dir(), "blobs")
			if err := os.Chmod(blobs, 0o500); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = os.Chmod(blobs, 0o700) })
			img := png512(t)
			store := func() response {
				if viaR2 {
					return e.do("PUT", m["r2_upload"].(string), "", img)
				}
				return e.do("POST", "/api/v2/generate/submit", key,
					map[string]any{"id": id, "generation": base64.StdEncoding.EncodeToString(img), "state": "ok", "seed": 1})
			}

			r := store()
			body := wantError(t, r, http.StatusServiceUnavailable, "")
			if body["rc"] != "StoreUnavailable" {
				t.Errorf("rc = %v, want StoreUnavailable", body["rc"])
			}
			if msg, _ := body["message"].(string); strings.Contains(msg, blobs) || strings.Contains(msg, "permission") {
				t.Errorf("the message leaks the cause: %q", msg)
			}
			if secs, err := strconv.Atoi(r.header.Get("Retry-After")); err != nil || secs < 1 {
				t.Errorf("Retry-After = %q, want a number of seconds", r.header.Get("Retry-After"))
			}

			if err := os.Chmod(blobs, 0o700); err != nil {
				t.Fatal(err)
			}
			wantStatus(t, store(), http.StatusOK)
			if viaR2 {
				wantStatus(t, e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": id, "generation": "R2", "state": "ok", "seed": 1}), http.StatusOK)
			}
		})
	}
}

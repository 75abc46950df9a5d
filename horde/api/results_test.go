package api_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"testing"

	"github.com/hordebot/hordebot/horde/api"
)

// TestResultIsRealBeforeItIsPaid is issue 9.5: a submit whose result is not
// real is a 400 that stores nothing and moves no kudos, and the job stays
// the worker's to submit properly.
func TestResultIsRealBeforeItIsPaid(t *testing.T) {
	e := newEnv(t, api.Options{})
	owner, key := e.user("gpu-owner")
	requester, reqKey := e.user("requester")
	ctx := context.Background()
	balances := func() (int64, int64) {
		a, _ := e.st.Balance(ctx, owner.ID)
		b, _ := e.st.Balance(ctx, requester.ID)
		return a, b
	}

	e.asyncImage(reqKey, nil) // 512x512
	pop := e.popImage(key, "gpu-1")
	jobID := pop["id"].(string)
	html := []byte("<html><body><script>alert(1)</script></body></html>")
	png := pngImage(t, 3)
	b64 := func(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
	tests := []struct {
		name string
		gen  string
	}{
		{"a PNG header followed by HTML", b64(append(append([]byte{}, png[:33]...), html...))},
		{"a RIFF WebP header followed by HTML", b64(append(append([]byte{}, resultWebP[:30]...), html...))},
		{"a valid PNG with HTML appended", b64(append(append([]byte{}, png...), html...))},
		{"an image of another size", b64(mustBase64("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA=="))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": jobID, "generation": tt.gen, "state": "ok", "seed": 1})
			wantError(t, r, http.StatusBadRequest, "")
			if a, b := balances(); a != 0 || b != 0 {
				t.Fatalf("a refused result moved kudos: owner %d requester %d", a, b)
			}
		})
	}
	t.Run("an R2 upload that is not the job's image", func(t *testing.T) {
		up := pop["r2_upload"].(string)
		r := e.do("PUT", up, "", append(append([]byte{}, png[:33]...), html...))
		if r.status == http.StatusOK { // accepted by the upload: the submit must refuse it
			wantError(t, e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": jobID, "generation": "R2", "state": "ok", "seed": 1}), http.StatusBadRequest, "")
		}
		if a, b := balances(); a != 0 || b != 0 {
			t.Fatalf("a refused upload moved kudos: owner %d requester %d", a, b)
		}
	})
	// The worker may still submit the real image.
	r := e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": jobID, "generation": b64(png), "state": "ok", "seed": 1})
	wantStatus(t, r, http.StatusOK)
	if a, b := balances(); a <= 0 || b >= 0 {
		t.Fatalf("the real result did not pay: owner %d requester %d", a, b)
	}
}

// TestTextResultMustBeRealAndOfItsKind: a text submit with no generation is
// a 400, and a text job submitted through the image route is a 400; neither
// pays.
func TestTextResultMustBeRealAndOfItsKind(t *testing.T) {
	e := newEnv(t, api.Options{})
	owner, key := e.user("kobold-owner")
	wantStatus(t, e.do("POST", "/api/v2/generate/text/async", "", textRequest(nil)), http.StatusAccepted)
	r := e.do("POST", "/api/v2/generate/text/pop", key, textPop("kobold-1"))
	wantStatus(t, r, http.StatusOK)
	jobID, _ := r.object(t)["id"].(string)
	if jobID == "" {
		t.Fatalf("no text job: %s", r.body)
	}
	wantError(t, e.do("POST", "/api/v2/generate/text/submit", key, map[string]any{"id": jobID, "state": "ok"}), http.StatusBadRequest, "generation")
	wantError(t, e.do("POST", "/api/v2/generate/text/submit", key, map[string]any{"id": jobID, "generation": "   ", "state": "ok"}), http.StatusBadRequest, "generation")
	wantError(t, e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": jobID, "generation": base64.StdEncoding.EncodeToString(resultWebP), "state": "ok", "seed": 1}), http.StatusBadRequest, "")
	if b, _ := e.st.Balance(context.Background(), owner.ID); b != 0 {
		t.Fatalf("refused text results paid %d", b)
	}
	wantStatus(t, e.do("POST", "/api/v2/generate/text/submit", key, map[string]any{"id": jobID, "generation": "Once upon a time", "state": "ok"}), http.StatusOK)
	if b, _ := e.st.Balance(context.Background(), owner.ID); b <= 0 {
		t.Fatalf("the real text result paid %d", b)
	}
}

// TestR2SubmitBeforeUpload is the AI Horde's answer to generation "R2" with
// nothing uploaded yet (its own CI worker does this): 200 with the reward to
// come; the kudos move when the bytes are PUT and are a real image of the
// job's size; a second submit meanwhile is a 400.
func TestR2SubmitBeforeUpload(t *testing.T) {
	e := newEnv(t, api.Options{})
	owner, key := e.user("gpu-owner")
	_, reqKey := e.user("requester")
	id := e.asyncImage(reqKey, nil)
	pop := e.popImage(key, "gpu-1")
	jobID, up := pop["id"].(string), pop["r2_upload"].(string)
	body := map[string]any{"id": jobID, "generation": "R2", "state": "ok", "seed": 5}

	r := e.do("POST", "/api/v2/generate/submit", key, body)
	wantStatus(t, r, http.StatusOK)
	if reward, _ := r.object(t)["reward"].(float64); reward <= 0 {
		t.Fatalf("submit answered %s, want the reward to come", r.body)
	}
	ctx := context.Background()
	if b, _ := e.st.Balance(ctx, owner.ID); b != 0 {
		t.Fatalf("paid %d before the bytes were in", b)
	}
	wantError(t, e.do("POST", "/api/v2/generate/submit", key, body), http.StatusBadRequest, "")
	if st := e.do("GET", "/api/v2/generate/check/"+id, "", nil).object(t); st["done"] != false {
		t.Fatalf("done before the bytes were in: %v", st)
	}

	wantError(t, e.do("PUT", up, "", mustBase64("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")), http.StatusBadRequest, "")
	if b, _ := e.st.Balance(ctx, owner.ID); b != 0 {
		t.Fatalf("a 1x1 upload for a 512x512 job paid %d", b)
	}
	wantStatus(t, e.do("PUT", up, "", resultWebP), http.StatusOK)
	if b, _ := e.st.Balance(ctx, owner.ID); b <= 0 {
		t.Fatal("the real upload did not pay")
	}
	st := e.do("GET", "/api/v2/generate/status/"+id, "", nil).object(t)
	gens, _ := st["generations"].([]any)
	if st["done"] != true || len(gens) != 1 {
		t.Fatalf("status after the upload: %v", st)
	}
}

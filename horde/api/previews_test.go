package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/imagecheck"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// previewEnv is a server that takes live previews, as cmd/hordebot wires it.
func previewEnv(t *testing.T) *env {
	return newEnvWith(t, nil, func(st *store.Store, h *horde.Horde, clk *storetest.Clock) api.Options {
		return api.Options{Previews: horde.NewPreviews(h, st, horde.PreviewConfig{Check: imagecheck.Preview})}
	})
}

// previewImage is a w x h image in format ("png" or "jpeg") whose pixels
// depend on shade, so that two previews differ.
func previewImage(t testing.TB, format string, w, h int, shade uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{R: shade, G: uint8(x), B: uint8(y), A: 255})
		}
	}
	var buf bytes.Buffer
	var err error
	if format == "jpeg" {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 70})
	} else {
		err = png.Encode(&buf, img)
	}
	if err != nil {
		t.Fatalf("encode %s: %v", format, err)
	}
	return buf.Bytes()
}

// putPreview sends a preview of a job with key.
func (e *env) putPreview(key, jobID string, img []byte) response {
	e.t.Helper()
	return e.do("PUT", "/api/v2/generate/preview/"+jobID, key, img, "Content-Type", http.DetectContentType(img))
}

// getPreview fetches a request's preview, with headers (If-None-Match...).
func (e *env) getPreview(reqID string, headers ...string) response {
	e.t.Helper()
	return e.do("GET", "/api/v2/generate/status/"+reqID+"/preview", "", nil, headers...)
}

// TestPreviewLifecycle follows one job: its worker's previews replace one
// another, the requester sees the latest (and 304 while it is the same),
// and once the job is submitted the preview is gone and takes no more.
func TestPreviewLifecycle(t *testing.T) {
	e := previewEnv(t)
	_, workerKey := e.user("owner")
	reqID := e.asyncImage("", nil)

	wantRC(t, e.getPreview(reqID), http.StatusNotFound, "PreviewNotFound")

	pop := e.popImage(workerKey, "gpu-1")
	jobID := pop["id"].(string)
	first := previewImage(t, "png", 64, 64, 10)
	r := e.putPreview(workerKey, jobID, first)
	wantStatus(t, r, http.StatusOK)
	if m := r.object(t); m["message"] != "OK" {
		t.Errorf("PUT answered %s", r.body)
	}

	got := e.getPreview(reqID)
	wantStatus(t, got, http.StatusOK)
	if !bytes.Equal(got.body, first) {
		t.Fatalf("GET preview = %d bytes, want the %d bytes sent", len(got.body), len(first))
	}
	if ct := got.header.Get("Content-Type"); ct != "image/png" {
		t.Errorf("Content-Type = %q, want image/png", ct)
	}
	etag := got.header.Get("ETag")
	if etag == "" || got.header.Get("Last-Modified") == "" {
		t.Fatalf("GET preview headers lack ETag or Last-Modified: %v", got.header)
	}
	same := e.getPreview(reqID, "If-None-Match", etag)
	wantStatus(t, same, http.StatusNotModified)
	if len(same.body) != 0 {
		t.Errorf("304 carries %d bytes", len(same.body))
	}

	// A second preview within the second is refused, and says when to retry.
	second := previewImage(t, "jpeg", 96, 64, 200)
	r = e.putPreview(workerKey, jobID, second)
	wantRC(t, r, http.StatusTooManyRequests, "TooManyPreviews")
	if r.header.Get("Retry-After") != "1" {
		t.Errorf("Retry-After = %q, want 1", r.header.Get("Retry-After"))
	}

	e.clock.Advance(time.Second)
	wantStatus(t, e.putPreview(workerKey, jobID, second), http.StatusOK)
	got = e.getPreview(reqID, "If-None-Match", etag)
	wantStatus(t, got, http.StatusOK)
	if !bytes.Equal(got.body, second) || got.header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("the latest preview is not the one sent last: %d bytes, %s", len(got.body), got.header.Get("Content-Type"))
	}
	if got.header.Get("ETag") == etag {
		t.Errorf("another image kept the ETag %s", etag)
	}

	sub := e.do("POST", "/api/v2/generate/submit", workerKey, map[string]any{
		"id": jobID, "generation": base64.StdEncoding.EncodeToString(resultWebP), "state": "ok", "seed": 1})
	wantStatus(t, sub, http.StatusOK)
	wantRC(t, e.getPreview(reqID), http.StatusNotFound, "PreviewNotFound")
	e.clock.Advance(time.Second)
	wantRC(t, e.putPreview(workerKey, jobID, first), http.StatusConflict, "JobFinished")
}

// TestPreviewRefusals: what a PUT that is not a processing job's own
// small image gets, each refused before anything is stored.
func TestPreviewRefusals(t *testing.T) {
	e := previewEnv(t)
	_, ownerKey := e.user("owner")
	_, otherKey := e.user("other")
	reqID := e.asyncImage("", nil)
	jobID := e.popImage(ownerKey, "gpu-1")["id"].(string)
	textReq := e.do("POST", "/api/v2/generate/text/async", "", map[string]any{"prompt": "once upon a time", "params": map[string]any{"max_length": 40}})
	wantStatus(t, textReq, http.StatusAccepted)
	tp := e.do("POST", "/api/v2/generate/text/pop", ownerKey, textPop("writer-1"))
	wantStatus(t, tp, http.StatusOK)
	textJob, _ := tp.object(t)["id"].(string)
	if textJob == "" {
		t.Fatalf("text pop found no job: %s", tp.body)
	}

	small := previewImage(t, "png", 32, 32, 1)
	huge := make([]byte, horde.DefaultPreviewMaxBytes+1)
	copy(huge, small)
	for _, tc := range []struct {
		name   string
		key    string
		job    string
		body   []byte
		status int
		rc     string
	}{
		{"an unknown job", ownerKey, "00000000-0000-0000-0000-000000000000", small, http.StatusNotFound, "InvalidJobID"},
		{"a bad key", "not-a-key", jobID, small, http.StatusUnauthorized, "InvalidAPIKey"},
		{"another user's job", otherKey, jobID, small, http.StatusForbidden, "WrongCredentials"},
		{"the anonymous key", "", jobID, small, http.StatusForbidden, "WrongCredentials"},
		{"a text job", ownerKey, textJob, small, http.StatusBadRequest, "BadRequest"},
		{"over the size limit", ownerKey, jobID, huge, http.StatusBadRequest, "ImageValidationFailed"},
		{"not an image", ownerKey, jobID, []byte("<html><script>alert(1)</script></html>"), http.StatusBadRequest, "ImageValidationFailed"},
		{"larger than 1024 a side", ownerKey, jobID, previewImage(t, "jpeg", 1025, 8, 1), http.StatusBadRequest, "ImageValidationFailed"},
		{"an empty body", ownerKey, jobID, nil, http.StatusBadRequest, "ImageValidationFailed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantRC(t, e.putPreview(tc.key, tc.job, tc.body), tc.status, tc.rc)
			wantRC(t, e.getPreview(reqID), http.StatusNotFound, "PreviewNotFound")
		})
	}
	wantRC(t, e.getPreview("00000000-0000-0000-0000-000000000000"), http.StatusNotFound, "RequestNotFound")
}

// TestPreviewGoesWithItsJob: a cancelled request, a job aborted past its
// TTL and a faulted job leave no preview behind.
func TestPreviewGoesWithItsJob(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(e *env, key, reqID, jobID string)
	}{
		{"cancelled", func(e *env, _, reqID, _ string) {
			wantStatus(e.t, e.do("DELETE", "/api/v2/generate/status/"+reqID, "", nil), http.StatusOK)
		}},
		{"faulted", func(e *env, key, _, jobID string) {
			wantStatus(e.t, e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": jobID, "generation": "faulted", "state": "faulted"}), http.StatusOK)
		}},
		{"aborted past its TTL", func(e *env, _, _, _ string) {
			e.clock.Advance(time.Hour)
			if err := e.h.Sweep(context.Background()); err != nil {
				e.t.Fatalf("sweep: %v", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := previewEnv(t)
			_, key := e.user("owner")
			reqID := e.asyncImage("", nil)
			jobID := e.popImage(key, "gpu-1")["id"].(string)
			wantStatus(t, e.putPreview(key, jobID, previewImage(t, "png", 16, 16, 3)), http.StatusOK)
			wantStatus(t, e.getPreview(reqID), http.StatusOK)
			tc.end(e, key, reqID, jobID)
			r := e.getPreview(reqID)
			wantStatus(t, r, http.StatusNotFound)
			if _, err := e.st.Preview(context.Background(), reqID); !horde.IsKind(err, horde.KindNotFound) {
				t.Errorf("store still holds a preview: %v", err)
			}
			e.clock.Advance(time.Second)
			wantRC(t, e.putPreview(key, jobID, previewImage(t, "png", 16, 16, 4)), http.StatusConflict, "JobFinished")
		})
	}
}

// TestPreviewRoutesOff: a horde without previews answers both routes 404,
// as a horde that never heard of them does.
func TestPreviewRoutesOff(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	reqID := e.asyncImage("", nil)
	jobID := e.popImage(key, "gpu-1")["id"].(string)
	wantRC(t, e.putPreview(key, jobID, previewImage(t, "png", 16, 16, 3)), http.StatusNotFound, "NotFound")
	wantRC(t, e.getPreview(reqID), http.StatusNotFound, "NotFound")
}

// TestPreviewsChangeNothingElse runs one AI Horde lifecycle (request,
// check, pop, r2 upload, submit, status, user) against a horde without
// previews and one with them: every answer is the same, byte for byte once
// the random ids are named alike.
func TestPreviewsChangeNothingElse(t *testing.T) {
	run := func(e *env) []string {
		_, key := e.user("owner")
		var out []string
		var ids []string
		record := func(what string, r response) {
			body := string(r.body)
			for i, id := range ids {
				body = strings.ReplaceAll(body, id, "<id"+string(rune('0'+i))+">")
			}
			body = strings.ReplaceAll(body, e.srv.URL, "<url>")
			out = append(out, what+" "+http.StatusText(r.status)+" "+r.header.Get("Content-Type")+" "+body)
		}
		body := imageRequest(nil)
		body["params"].(map[string]any)["seed"] = "1234"
		r := e.do("POST", "/api/v2/generate/async", "", body)
		var async struct{ ID string }
		r.json(e.t, &async)
		ids = append(ids, async.ID)
		record("async", r)
		record("check", e.do("GET", "/api/v2/generate/check/"+async.ID, "", nil))
		r = e.do("POST", "/api/v2/generate/pop", key, imagePop("gpu-1", nil))
		jobID, _ := r.object(e.t)["id"].(string)
		ids = append(ids, jobID)
		wk, err := e.h.WorkerByName(context.Background(), "gpu-1")
		if err != nil {
			e.t.Fatal(err)
		}
		ids = append(ids, wk.ID)
		record("pop", r)
		record("check processing", e.do("GET", "/api/v2/generate/check/"+async.ID, "", nil))
		record("upload", e.do("PUT", "/api/v2/r2/"+jobID+".webp", "", resultWebP))
		record("submit", e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": jobID, "generation": "R2", "state": "ok", "seed": 7}))
		record("status", e.do("GET", "/api/v2/generate/status/"+async.ID, "", nil))
		record("find_user", e.do("GET", "/api/v2/find_user", key, nil))
		record("worker", e.do("GET", "/api/v2/workers/"+wk.ID, "", nil))
		return out
	}
	without := run(newEnv(t, api.Options{}))
	with := run(previewEnv(t))
	if len(without) != len(with) {
		t.Fatalf("%d answers without previews, %d with", len(without), len(with))
	}
	for i := range without {
		if without[i] != with[i] {
			t.Errorf("answer %d differs:\nwithout previews: %s\nwith previews:    %s", i, without[i], with[i])
		}
	}
}

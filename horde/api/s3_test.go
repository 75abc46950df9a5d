package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/horde/imagecheck"
	"github.com/hordebot/hordebot/horde/worker"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/s3blobs/s3test"
	"github.com/hordebot/hordebot/store/storetest"
)

// s3Env is an API server whose results live in a bucket of an in-process
// S3 server, with presigned direct uploads (as results.s3.presign).
type s3Env struct {
	*env
	s3 *s3test.Server
}

// s3Options tune newS3Env.
type s3Options struct {
	presignGet bool  // status links are presigned GETs of the bucket
	limit      int64 // the direct upload limit (0: the default)
}

func newS3Env(t *testing.T, o s3Options) *s3Env {
	t.Helper()
	ctx := context.Background()
	clk := newFakeClock()
	srv := s3test.New(t, clk)
	bucket := srv.Open(t, "results")
	st, err := store.Open(ctx, storetest.Database(t, t.TempDir()), store.Options{Clock: clk, Logger: slog.New(slog.DiscardHandler), Blobs: bucket, MaxConns: storetest.TestMaxConns})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	cfg := horde.Config{Clock: clk, Logger: quietLogger(), CheckImage: imagecheck.ForHorde, Uploads: st, DirectUploadLimit: o.limit}
	if o.presignGet {
		cfg.ResultLinks = st
	}
	h, err := horde.New(ctx, st, cfg)
	if err != nil {
		t.Fatalf("new horde: %v", err)
	}
	hs := httptest.NewServer(api.New(h, api.Options{Logger: quietLogger(), KeyLimit: unlimited, IPLimit: unlimited, Clock: clk}))
	t.Cleanup(hs.Close)
	return &s3Env{env: &env{t: t, srv: hs, h: h, st: st, clock: clk}, s3: srv}
}

// putPlain PUTs body to url with a plain HTTP client and no headers, as
// horde-worker-reGen PUTs to an r2_upload, and returns the status.
func putPlain(t *testing.T, url string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", url, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

// getPlain GETs url with a plain client and returns the status and body.
func getPlain(t *testing.T, url string) (int, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// balance is a user's kudos.
func (e *s3Env) balance(id int64) int64 {
	e.t.Helper()
	b, err := e.st.Balance(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

// TestPresignedUploadEndToEnd: the pop's r2_upload is a presigned PUT of the
// bucket (the AI Horde's R2 way); the worker PUTs the image there with a
// plain client and submits "R2"; the worker is paid, the requester's status
// shows the image (linked and inline), the bucket holds it once under its
// content address and the per-job object is gone.
func TestPresignedUploadEndToEnd(t *testing.T) {
	e := newS3Env(t, s3Options{})
	owner, key := e.user("gpu-owner")
	_, reqKey := e.user("requester")
	id := e.asyncImage(reqKey, nil)
	pop := e.popImage(key, "gpu-1")
	jobID, up := pop["id"].(string), pop["r2_upload"].(string)
	if !strings.HasPrefix(up, e.s3.URL+"/results/uploads/"+jobID+".webp?") || !strings.Contains(up, "X-Amz-Signature=") {
		t.Fatalf("r2_upload %s: want a presigned PUT of the bucket's object for job %s", up, jobID)
	}
	if ups, _ := pop["r2_uploads"].([]any); len(ups) != 1 || ups[0] != up {
		t.Fatalf("r2_uploads %v, want [r2_upload]", pop["r2_uploads"])
	}
	if code := putPlain(t, up, resultWebP); code != http.StatusOK {
		t.Fatalf("PUT to the presigned URL: %d", code)
	}
	r := e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": jobID, "generation": "R2", "state": "ok", "seed": 3})
	wantStatus(t, r, http.StatusOK)
	if reward, _ := r.object(t)["reward"].(float64); reward <= 0 || e.balance(owner.ID) != int64(reward) {
		t.Fatalf("submit answered %s; owner has %d", r.body, e.balance(owner.ID))
	}

	st := e.do("GET", "/api/v2/generate/status/"+id, "", nil).object(t)
	gens, _ := st["generations"].([]any)
	if st["done"] != true || len(gens) != 1 {
		t.Fatalf("status: %v", st)
	}
	link, _ := gens[0].(map[string]any)["img"].(string)
	if !strings.HasPrefix(link, e.srv.URL+"/api/v2/results/") {
		t.Fatalf("img %q: want hordebot's own results link", link)
	}
	if code, body := getPlain(t, link); code != http.StatusOK || !bytes.Equal(body, resultWebP) {
		t.Fatalf("GET %s: %d, %d bytes (want the uploaded %d)", link, code, len(body), len(resultWebP))
	}
	ref := link[strings.LastIndex(link, "/")+1:]
	if keys := e.s3.Keys(t, "results", ""); len(keys) != 1 || keys[0] != ref {
		t.Fatalf("bucket holds %v, want only the image %s", keys, ref)
	}

	// r2:false asks for the image inline: it is read from the bucket.
	id2 := e.asyncImage(reqKey, map[string]any{"r2": false})
	pop = e.popImage(key, "gpu-1")
	if code := putPlain(t, pop["r2_upload"].(string), resultWebP); code != http.StatusOK {
		t.Fatalf("second PUT: %d", code)
	}
	wantStatus(t, e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": pop["id"], "generation": "R2", "state": "ok", "seed": 4}), http.StatusOK)
	st = e.do("GET", "/api/v2/generate/status/"+id2, "", nil).object(t)
	gens, _ = st["generations"].([]any)
	if len(gens) != 1 || gens[0].(map[string]any)["img"] != base64.StdEncoding.EncodeToString(resultWebP) {
		t.Fatalf("inline status: %v", st)
	}
	if keys := e.s3.Keys(t, "results", ""); len(keys) != 1 {
		t.Fatalf("the same image twice: bucket holds %v, want one object", keys)
	}
}

// TestPresignedSubmitBeforeUpload: "R2" submitted before the PUT is the AI
// Horde's answer (the reward to come) and pays nothing yet; the sweep finds
// the object once it is in and settles the job.
func TestPresignedSubmitBeforeUpload(t *testing.T) {
	e := newS3Env(t, s3Options{})
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
	if e.balance(owner.ID) != 0 {
		t.Fatal("paid before the bytes were in")
	}
	e.clock.Advance(3 * time.Second)
	if err := e.h.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.balance(owner.ID) != 0 {
		t.Fatal("paid with nothing in the bucket")
	}
	if code := putPlain(t, up, resultWebP); code != http.StatusOK {
		t.Fatalf("PUT: %d", code)
	}
	e.clock.Advance(3 * time.Second)
	if err := e.h.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.balance(owner.ID) <= 0 {
		t.Fatal("the upload did not settle the deferred submit")
	}
	st := e.do("GET", "/api/v2/generate/status/"+id, "", nil).object(t)
	if gens, _ := st["generations"].([]any); st["done"] != true || len(gens) != 1 {
		t.Fatalf("status after the upload: %v", st)
	}
	if keys := e.s3.Keys(t, "results", "uploads/"); len(keys) != 0 {
		t.Fatalf("the per-job object is left: %v", keys)
	}
}

// TestPresignedBogusUploadsPayNothing: what a worker PUT to the bucket that
// is larger than the limit, or is not the job's image, is refused at the
// submit and pays nothing; the worker may still PUT the real image.
func TestPresignedBogusUploadsPayNothing(t *testing.T) {
	const limit = 1 << 20
	e := newS3Env(t, s3Options{limit: limit})
	owner, key := e.user("gpu-owner")
	requester, reqKey := e.user("requester")
	e.asyncImage(reqKey, nil)
	pop := e.popImage(key, "gpu-1")
	jobID, up := pop["id"].(string), pop["r2_upload"].(string)
	html := []byte("<html><body><script>alert(1)</script></body></html>")
	tests := []struct {
		name string
		body []byte
	}{
		{"larger than the limit", append(append([]byte{}, resultWebP...), make([]byte, limit)...)},
		{"HTML", html},
		{"a WebP header followed by HTML", append(append([]byte{}, resultWebP[:30]...), html...)},
		{"an image of another size", mustBase64("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if code := putPlain(t, up, tt.body); code != http.StatusOK {
				t.Fatalf("PUT: %d (the bucket takes anything)", code)
			}
			wantError(t, e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": jobID, "generation": "R2", "state": "ok", "seed": 1}), http.StatusBadRequest, "")
			if a, b := e.balance(owner.ID), e.balance(requester.ID); a != 0 || b != 0 {
				t.Fatalf("a refused upload moved kudos: owner %d requester %d", a, b)
			}
		})
	}
	if keys := e.s3.Keys(t, "results", "uploads/"); len(keys) != 0 {
		t.Fatalf("refused uploads are left in the bucket: %v", keys)
	}
	if code := putPlain(t, up, resultWebP); code != http.StatusOK {
		t.Fatalf("PUT of the real image: %d", code)
	}
	wantStatus(t, e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": jobID, "generation": "R2", "state": "ok", "seed": 1}), http.StatusOK)
	if e.balance(owner.ID) <= 0 {
		t.Fatal("the real image did not pay")
	}
}

// TestPresignedResultLinks: with presigned GETs, a status's img is a link
// into the bucket that serves the image.
func TestPresignedResultLinks(t *testing.T) {
	e := newS3Env(t, s3Options{presignGet: true})
	_, key := e.user("gpu-owner")
	_, reqKey := e.user("requester")
	id := e.asyncImage(reqKey, nil)
	pop := e.popImage(key, "gpu-1")
	if code := putPlain(t, pop["r2_upload"].(string), resultWebP); code != http.StatusOK {
		t.Fatalf("PUT: %d", code)
	}
	wantStatus(t, e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": pop["id"], "generation": "R2", "state": "ok", "seed": 1}), http.StatusOK)
	st := e.do("GET", "/api/v2/generate/status/"+id, "", nil).object(t)
	gens, _ := st["generations"].([]any)
	if len(gens) != 1 {
		t.Fatalf("status: %v", st)
	}
	link, _ := gens[0].(map[string]any)["img"].(string)
	if !strings.HasPrefix(link, e.s3.URL+"/results/") || !strings.Contains(link, "X-Amz-Expires=1800") {
		t.Fatalf("img %q: want a presigned GET of the bucket, 1800 s as the AI Horde's", link)
	}
	if code, body := getPlain(t, link); code != http.StatusOK || !bytes.Equal(body, resultWebP) {
		t.Fatalf("GET the presigned link: %d, %d bytes", code, len(body))
	}
}

// TestBucketSweepKeepsResultsAndDropsAbandonedUploads: the sweep keeps the
// image a finished request names, and deletes what a worker PUT for a job
// that was aborted and never submitted.
func TestBucketSweepKeepsResultsAndDropsAbandonedUploads(t *testing.T) {
	e := newS3Env(t, s3Options{})
	_, key := e.user("gpu-owner")
	_, reqKey := e.user("requester")
	e.asyncImage(reqKey, nil)
	pop := e.popImage(key, "gpu-1")
	if code := putPlain(t, pop["r2_upload"].(string), resultWebP); code != http.StatusOK {
		t.Fatalf("PUT: %d", code)
	}
	wantStatus(t, e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": pop["id"], "generation": "R2", "state": "ok", "seed": 1}), http.StatusOK)

	e.asyncImage(reqKey, nil)
	pop = e.popImage(key, "gpu-1")
	abandoned := pop["id"].(string)
	if code := putPlain(t, pop["r2_upload"].(string), pngImage(t, 9)); code != http.StatusOK {
		t.Fatalf("PUT: %d", code)
	}
	ttl, _ := pop["ttl"].(float64)
	e.clock.Advance(time.Duration(ttl+1) * time.Second)
	ctx := context.Background()
	if err := e.h.Sweep(ctx); err != nil { // aborts the job past its deadline
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour)
	sw, err := e.st.SweepBlobs(ctx, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if sw.Temps != 1 || sw.Kept != 1 || sw.Deleted != 0 {
		t.Fatalf("sweep %+v, want the abandoned upload of %s deleted and the result kept", sw, abandoned)
	}
	if keys := e.s3.Keys(t, "results", ""); len(keys) != 1 || strings.HasPrefix(keys[0], "uploads/") {
		t.Fatalf("bucket holds %v, want only the result", keys)
	}
}

// smallWebP is a 64x64 WebP image.
func smallWebP(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = uint8(i / 5)
	}
	data, err := worker.EncodeWebP(img)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestDeferredUploadsArePolledAtABoundedRate: with 40 jobs submitted "R2"
// before their PUTs, one sweep asks the bucket for at most 32 of them, and
// a job asked less than 2 s ago is not asked again.
func TestDeferredUploadsArePolledAtABoundedRate(t *testing.T) {
	e := newS3Env(t, s3Options{})
	owner, key := e.user("gpu-owner")
	_, reqKey := e.user("requester")
	_, reqKey2 := e.user("requester-2") // a member may have 30 items queued
	small := map[string]any{"params": map[string]any{"steps": 10, "width": 64, "height": 64, "n": 20}}
	ids := []string{e.asyncImage(reqKey, small), e.asyncImage(reqKey2, small)}
	var jobs, uploads []string
	for range ids {
		r := e.do("POST", "/api/v2/generate/pop", key, imagePop("gpu-1", map[string]any{"amount": 20}))
		wantStatus(t, r, http.StatusOK)
		pop := r.object(t)
		for i, id := range pop["ids"].([]any) {
			jobs = append(jobs, id.(string))
			uploads = append(uploads, pop["r2_uploads"].([]any)[i].(string))
		}
	}
	if len(jobs) != 40 {
		t.Fatalf("popped %d jobs, want 40", len(jobs))
	}
	for _, id := range jobs {
		wantStatus(t, e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": id, "generation": "R2", "state": "ok", "seed": 1}), http.StatusOK)
	}
	ctx := context.Background()
	settled := func() int {
		n := 0
		for _, id := range ids {
			f, _ := e.do("GET", "/api/v2/generate/check/"+id, "", nil).object(t)["finished"].(float64)
			n += int(f)
		}
		return n
	}
	sweep := func(advance time.Duration) {
		e.clock.Advance(advance)
		if err := e.h.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
	}
	sweep(3 * time.Second) // asks for 32 of the 40: nothing is there yet
	img := smallWebP(t)
	for _, u := range uploads {
		if code := putPlain(t, u, img); code != http.StatusOK {
			t.Fatalf("PUT: %d", code)
		}
	}
	sweep(time.Second) // only the 8 not asked yet are due
	if got := settled(); got != 8 {
		t.Fatalf("a second later: %d jobs settled, want the 8 not asked before", got)
	}
	sweep(2 * time.Second) // the 32 asked 3 s ago are due again
	if got := settled(); got != 40 {
		t.Fatalf("after the next sweep: %d jobs settled, want 40", got)
	}
	if e.balance(owner.ID) <= 0 {
		t.Fatal("the settled jobs did not pay")
	}
}

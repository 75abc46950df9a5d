package api_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"
)

// TestDeferredUploadOutlivesItsServer: on PostgreSQL, a worker's "R2"
// submit to A before its PUT is recorded in the database; A is killed
// while it waits; once the bytes are in the bucket, the shared sweep of
// another server settles the job, pays once, and B's status shows it done.
func TestDeferredUploadOutlivesItsServer(t *testing.T) {
	db := newSharedDB(t).withBucket()
	a, b := db.server(), db.server()
	owner, key := a.user("gpu-owner")
	_, reqKey := a.user("requester")
	id := a.asyncImage(reqKey, nil)
	pop := a.popImage(key, "gpu-1")
	jobID, up := pop["id"].(string), pop["r2_upload"].(string)
	r := a.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": jobID, "generation": "R2", "state": "ok", "seed": 5})
	wantStatus(t, r, http.StatusOK)
	reward, _ := r.object(t)["reward"].(float64)
	if reward <= 0 {
		t.Fatalf("submit on A answered %s, want the reward to come", r.body)
	}
	a.kill()

	ctx := context.Background()
	sweep := func() {
		t.Helper()
		db.clock.Advance(3 * time.Second)
		if err := b.h.SweepShared(ctx); err != nil {
			t.Fatalf("shared sweep on B: %v", err)
		}
	}
	sweep()
	if b.balance(owner.ID) != 0 {
		t.Fatal("paid with nothing in the bucket")
	}
	if code := putPlain(t, up, resultWebP); code != http.StatusOK {
		t.Fatalf("PUT to the presigned URL: %d", code)
	}
	sweep()
	if got := b.balance(owner.ID); got != int64(reward) {
		t.Fatalf("owner has %d after B's sweep, want the %v kudos A promised", got, reward)
	}
	st := b.do("GET", "/api/v2/generate/status/"+id, "", nil).object(t)
	if gens, _ := st["generations"].([]any); st["done"] != true || len(gens) != 1 {
		t.Fatalf("status on B: %v, want done with the upload", st)
	}
	sweep()
	if got := b.balance(owner.ID); got != int64(reward) {
		t.Errorf("owner has %d after another sweep, want %v: paid once", got, reward)
	}
	r = b.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": jobID, "generation": "R2", "state": "ok", "seed": 5})
	wantError(t, r, http.StatusBadRequest, "")
	if keys := db.s3.Keys(t, "results", "uploads/"); len(keys) != 0 {
		t.Errorf("the per-job object is left: %v", keys)
	}
	if bad, err := b.st.Verify(ctx); err != nil || len(bad) != 0 {
		t.Errorf("kudos verify: %v %v", bad, err)
	}
}

// TestDeferredUploadsSplitBetweenSweepers: two servers sweeping at once
// take different deferred submits (each asks the bucket for at most 32 a
// round), so that together they settle all 40 in one round, each once.
func TestDeferredUploadsSplitBetweenSweepers(t *testing.T) {
	db := newSharedDB(t).withBucket()
	a, b := db.server(), db.server()
	owner, key := a.user("gpu-owner")
	_, reqKey := a.user("requester")
	_, reqKey2 := a.user("requester-2") // a member may have 30 items queued
	small := map[string]any{"params": map[string]any{"steps": 10, "width": 64, "height": 64, "n": 20}}
	ids := []string{a.asyncImage(reqKey, small), b.asyncImage(reqKey2, small)}
	var jobs, uploads []string
	var promised float64
	for _, e := range []*env{a, b} {
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
	for i, id := range jobs {
		e := []*env{a, b}[i%2]
		r := e.do("POST", "/api/v2/generate/submit", key, map[string]any{"id": id, "generation": "R2", "state": "ok", "seed": 1})
		wantStatus(t, r, http.StatusOK)
		reward, _ := r.object(t)["reward"].(float64)
		promised += reward
	}
	img := smallWebP(t)
	for _, u := range uploads {
		if code := putPlain(t, u, img); code != http.StatusOK {
			t.Fatalf("PUT: %d", code)
		}
	}
	db.clock.Advance(3 * time.Second)
	var wg sync.WaitGroup
	errc := make(chan error, 2)
	for _, e := range []*env{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errc <- e.h.SweepShared(context.Background())
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatalf("shared sweep: %v", err)
		}
	}
	finished := 0
	for _, id := range ids {
		f, _ := a.do("GET", "/api/v2/generate/check/"+id, "", nil).object(t)["finished"].(float64)
		finished += int(f)
	}
	if finished != 40 {
		t.Errorf("%d of 40 deferred submits settled by two sweeps at once, want all (32 and 8)", finished)
	}
	if got := a.balance(owner.ID); got != int64(promised) {
		t.Errorf("owner has %d, want the %v kudos promised: each job paid once", got, promised)
	}
}

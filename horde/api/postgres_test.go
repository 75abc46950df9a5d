package api_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/store"
	"github.com/hordebot/hordebot/store/storetest"
)

// TestAPIOnPostgres: the whole life of image requests through the real HTTP
// API on PostgreSQL, whatever engine the other tests run on: async, pop,
// the worker's PUT to r2_upload, submit, check and status, the image served
// from the database's blobs table, and the kudos booked.
func TestAPIOnPostgres(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	clk := newFakeClock()
	st, err := store.Open(ctx, storetest.PostgresDatabase(t, dir), store.Options{Clock: clk, Logger: quietLogger(), MaxConns: storetest.TestMaxConns})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if st.Engine() != store.EnginePostgres {
		t.Fatalf("engine %s, want postgres", st.Engine())
	}
	e := newEnvOn(t, st, clk, api.Options{})
	_, alice := e.user("alice")
	_, owner := e.user("owner")
	for i := range 3 {
		t.Run(fmt.Sprintf("request %d", i), func(t *testing.T) {
			id := e.asyncImage(alice, nil)
			m := e.popImage(owner, "gpu-1")
			job, _ := m["id"].(string)
			if job == "" {
				t.Fatalf("pop found no job: %v", m)
			}
			img := pngImage(t, uint8(10+i))
			wantStatus(t, e.do("PUT", m["r2_upload"].(string), "", img), http.StatusOK)
			r := e.do("POST", "/api/v2/generate/submit", owner, map[string]any{"id": job, "generation": "R2", "state": "ok", "seed": 1})
			wantStatus(t, r, http.StatusOK)
			if reward, _ := r.object(t)["reward"].(float64); reward <= 0 {
				t.Errorf("reward = %v, want > 0", reward)
			}
			check := e.do("GET", "/api/v2/generate/check/"+id, "", nil).object(t)
			if check["done"] != true || check["finished"] != float64(1) {
				t.Errorf("check = %v, want done with 1 finished", check)
			}
			status := e.do("GET", "/api/v2/generate/status/"+id, "", nil).object(t)
			gens, _ := status["generations"].([]any)
			if len(gens) != 1 {
				t.Fatalf("status generations = %v, want 1", status["generations"])
			}
			url, _ := gens[0].(map[string]any)["img"].(string)
			res := e.do("GET", url, "", nil)
			wantStatus(t, res, http.StatusOK)
			if !bytes.Equal(res.body, img) {
				t.Errorf("the served image differs from the upload (%d bytes, want %d)", len(res.body), len(img))
			}
		})
	}
	if bad, err := st.Verify(ctx); err != nil || len(bad) != 0 {
		t.Errorf("kudos verify: %v %v", bad, err)
	}
}

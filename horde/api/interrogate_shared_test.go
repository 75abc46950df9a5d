package api_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/hordebot/hordebot/store/storetest"
)

// alchemyPopAnswer is what a test reads of an /interrogate/pop answer.
type alchemyPopAnswer struct {
	Forms []struct {
		ID          string `json:"id"`
		Form        string `json:"form"`
		SourceImage string `json:"source_image"`
		R2Upload    string `json:"r2_upload"`
	} `json:"forms"`
}

// alchemyStatus is what a test reads of an /interrogate/status answer.
type alchemyStatus struct {
	State string `json:"state"`
	Forms []struct {
		Form   string         `json:"form"`
		State  string         `json:"state"`
		Result map[string]any `json:"result"`
	} `json:"forms"`
}

func (e *env) interrogationStatus(id string) alchemyStatus {
	e.t.Helper()
	res := e.do("GET", "/api/v2/interrogate/status/"+id, "", nil)
	wantStatus(e.t, res, http.StatusOK)
	var st alchemyStatus
	res.json(e.t, &st)
	return st
}

// TestInterrogateAcrossServers: on PostgreSQL, three API servers over one
// schema are one horde for alchemy. An interrogation asked on A outlives
// A's restart, is popped on B, its r2 upload PUT to B, B is killed, both
// forms are submitted on C, and A's status shows it done with the upload;
// the kudos move once.
func TestInterrogateAcrossServers(t *testing.T) {
	db := newSharedDB(t)
	a, b, c := db.server(), db.server(), db.server()
	requester, reqKey := a.user("requester")
	owner, workerKey := a.user("alchemist-owner")
	src := pngOf(t, 512, 512)

	res := a.do("POST", "/api/v2/interrogate/async", reqKey,
		alchemyRequest(base64.StdEncoding.EncodeToString(src), "caption", "RealESRGAN_x2plus"))
	wantStatus(t, res, http.StatusAccepted)
	id, _ := res.object(t)["id"].(string)
	if st := c.interrogationStatus(id); st.State != "waiting" || len(st.Forms) != 2 {
		t.Fatalf("status on C of the interrogation asked on A: %+v, want 2 forms waiting", st)
	}
	storetest.SweepEstimates(t, a.h, c.h) // queued_forms is stored with the estimates
	if got := c.do("GET", "/api/v2/status/performance", "", nil).object(t)["queued_forms"]; got != 2.0 {
		t.Errorf("queued_forms on C = %v, want the 2 asked on A", got)
	}
	a.kill()
	a = db.server() // A restarted: nothing was only in its memory

	res = b.do("POST", "/api/v2/interrogate/pop", workerKey, alchemistPop("alch", 2, "caption", "RealESRGAN_x2plus"))
	wantStatus(t, res, http.StatusOK)
	var pop alchemyPopAnswer
	res.json(t, &pop)
	if len(pop.Forms) != 2 || pop.Forms[0].Form != "caption" || pop.Forms[1].Form != "RealESRGAN_x2plus" {
		t.Fatalf("pop on B = %s; want the caption then the upscale asked on A", res.body)
	}
	caption, upscale := pop.Forms[0], pop.Forms[1]
	if got := b.get(t, caption.SourceImage); !bytes.Equal(got, src) {
		t.Errorf("B's source_image serves %d bytes, not the source given to A", len(got))
	}
	res = a.do("POST", "/api/v2/interrogate/pop", workerKey, alchemistPop("alch", 2, "caption", "RealESRGAN_x2plus"))
	wantStatus(t, res, http.StatusOK)
	if got := string(res.body); !strings.Contains(got, `"forms":[]`) {
		t.Fatalf("pop on A after B's = %s; want no form handed out twice", got)
	}
	if st := a.interrogationStatus(id); st.State != "processing" {
		t.Errorf("status on A after the pop on B: %+v, want processing", st)
	}
	up := pngOf(t, 1024, 1024)
	wantStatus(t, b.do("PUT", upscale.R2Upload, "", up), http.StatusOK)
	b.kill()

	res = c.do("POST", "/api/v2/interrogate/submit", workerKey, map[string]any{
		"id": caption.ID, "result": map[string]any{"caption": "a colourful test card"}, "state": "ok"})
	wantStatus(t, res, http.StatusOK)
	if got := res.object(t)["reward"]; got != 1.0 {
		t.Errorf("caption reward on C = %v, want 1", got)
	}
	res = c.do("POST", "/api/v2/interrogate/submit", workerKey, map[string]any{
		"id": upscale.ID, "result": map[string]any{"RealESRGAN_x2plus": "R2"}, "state": "ok"})
	wantStatus(t, res, http.StatusOK)
	if got := res.object(t)["reward"]; got != 3.0 {
		t.Errorf("upscale reward on C of the upload PUT to B = %v, want 3", got)
	}
	res = a.do("POST", "/api/v2/interrogate/submit", workerKey, map[string]any{
		"id": caption.ID, "result": map[string]any{"caption": "again"}, "state": "ok"})
	if m := wantError(t, res, http.StatusBadRequest, ""); m["rc"] != "DuplicateGen" {
		t.Errorf("second submit on A rc = %v, want DuplicateGen", m["rc"])
	}

	st := a.interrogationStatus(id)
	if st.State != "done" || len(st.Forms) != 2 || st.Forms[0].Result["caption"] != "a colourful test card" {
		t.Fatalf("status on A after the submits on C: %+v", st)
	}
	link, _ := st.Forms[1].Result["RealESRGAN_x2plus"].(string)
	if got := a.get(t, link); !bytes.Equal(got, up) {
		t.Errorf("A's link %q to the upscale serves %d bytes, not what was PUT to B", link, len(got))
	}
	if r, o := a.balance(requester.ID), a.balance(owner.ID); r != -8 || o != 4 {
		t.Errorf("balances: requester %d, owner %d; want -8 and 4 (paid once)", r, o)
	}
	if bad, err := a.st.Verify(context.Background()); err != nil || len(bad) != 0 {
		t.Errorf("kudos verify: %v %v", bad, err)
	}
}

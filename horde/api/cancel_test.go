package api_test

import (
	"net/http"
	"testing"

	"github.com/hordebot/hordebot/horde/aihorde"
	"github.com/hordebot/hordebot/horde/api"
)

// TestCancelAnswersTheStateBeforeIt checks that DELETE .../status/{id}
// answers, as the AI Horde does, the state the request had before the
// cancel (what was finished so far, with its generations, and what was
// still waiting), and that the request is cancelled afterwards. It used to
// answer the state after the cancel (done, nothing waiting).
func TestCancelAnswersTheStateBeforeIt(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	id := e.asyncImage("", map[string]any{"params": map[string]any{"n": 2, "steps": 10, "width": 512, "height": 512}})
	jobID := e.finishImage(key, "gpu-1", false, resultWebP)

	r := e.do("DELETE", "/api/v2/generate/status/"+id, "", nil)
	wantStatus(t, r, http.StatusOK)
	var before aihorde.ImageStatus
	r.json(t, &before)
	if before.Done || before.Finished != 1 || before.Waiting != 1 {
		t.Errorf("DELETE answered done=%v finished=%d waiting=%d, want the state before the cancel (false, 1, 1): %s",
			before.Done, before.Finished, before.Waiting, r.body)
	}
	if len(before.Generations) != 1 || before.Generations[0].ID != jobID || before.Generations[0].Img == "" {
		t.Errorf("DELETE answered generations %+v, want the one finished image %s", before.Generations, jobID)
	}

	var after aihorde.RequestStatusCheck
	e.do("GET", "/api/v2/generate/check/"+id, "", nil).json(t, &after)
	if !after.Done || after.Waiting != 0 || after.Finished != 1 {
		t.Errorf("after the cancel check = %+v, want done with nothing waiting and the one finished image kept", after)
	}
}

// TestTextCancelAnswersTheStateBeforeIt is the text route's case.
func TestTextCancelAnswersTheStateBeforeIt(t *testing.T) {
	e := newEnv(t, api.Options{})
	r := e.do("POST", "/api/v2/generate/text/async", "", textRequest(nil))
	wantStatus(t, r, http.StatusAccepted)
	id := r.object(t)["id"].(string)
	r = e.do("DELETE", "/api/v2/generate/text/status/"+id, "", nil)
	wantStatus(t, r, http.StatusOK)
	var before aihorde.TextStatus
	r.json(t, &before)
	if before.Done || before.Waiting != 1 || before.Generations == nil {
		t.Errorf("DELETE answered %s, want the waiting state before the cancel", r.body)
	}
	var after aihorde.RequestStatusCheck
	e.do("GET", "/api/v2/generate/text/status/"+id, "", nil).json(t, &after)
	if !after.Done || after.Waiting != 0 {
		t.Errorf("after the cancel status = %+v, want done with nothing waiting", after)
	}
}

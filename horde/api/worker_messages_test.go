package api_test

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hordebot/hordebot/horde/api"
)

// ownerWithWorker creates a user whose pop registered an image worker, and
// returns the key and the worker's id.
func (e *env) ownerWithWorker(name, worker string) (int64, string, string) {
	e.t.Helper()
	u, key := e.user(name)
	wantStatus(e.t, e.do("POST", "/api/v2/generate/pop", key, imagePop(worker, nil)), http.StatusOK)
	wk, err := e.h.WorkerByName(context.Background(), worker)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID, key, wk.ID
}

func TestPostWorkerMessage(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, modKey := e.moderator("mod")
	ownerID, ownerKey, workerID := e.ownerWithWorker("owner", "owner-gpu")
	_, otherKey, _ := e.ownerWithWorker("other", "other-gpu")

	tests := []struct {
		name   string
		key    string
		body   map[string]any
		status int
		rc     string
		field  string
		origin string
	}{
		{"a moderator writes to a worker", modKey, map[string]any{"worker_id": workerID, "message": "please update your worker", "origin": "The mods"}, http.StatusOK, "", "", "The mods"},
		{"a moderator's default origin", modKey, map[string]any{"worker_id": workerID, "message": "hello"}, http.StatusOK, "", "", "Horde Moderators"},
		{"a moderator writes to every worker", modKey, map[string]any{"message": "maintenance tonight"}, http.StatusOK, "", "", "Horde Moderators"},
		{"an owner writes to their own worker, as themself", ownerKey, map[string]any{"worker_id": workerID, "message": "note to self", "origin": "forged"}, http.StatusOK, "", "", fmt.Sprint(ownerID)},
		{"another user may not write to it", otherKey, map[string]any{"worker_id": workerID, "message": "hi"}, http.StatusForbidden, "MessagesOnlyOwnWorkers", "", ""},
		{"a user may not write to every worker", otherKey, map[string]any{"message": "hi all"}, http.StatusForbidden, "MessagesOnlyOwnWorkers", "", ""},
		{"the anonymous user", "0000000000", map[string]any{"worker_id": workerID, "message": "hi"}, http.StatusForbidden, "AnonForbidden", "", ""},
		{"an unknown key", "not-a-key", map[string]any{"worker_id": workerID, "message": "hi"}, http.StatusUnauthorized, "InvalidAPIKey", "", ""},
		{"an unknown worker", modKey, map[string]any{"worker_id": "00000000-0000-0000-0000-000000000000", "message": "hi"}, http.StatusNotFound, "WorkerNotFound", "", ""},
		{"no message", modKey, map[string]any{"worker_id": workerID}, http.StatusBadRequest, "", "message", ""},
		{"an empty message", modKey, map[string]any{"worker_id": workerID, "message": " "}, http.StatusBadRequest, "", "message", ""},
		{"a message over 10240 characters", modKey, map[string]any{"worker_id": workerID, "message": strings.Repeat("a", 10241)}, http.StatusBadRequest, "", "message", ""},
		{"an expiry of 0 hours", modKey, map[string]any{"worker_id": workerID, "message": "hi", "expiry": 0}, http.StatusBadRequest, "", "expiry", ""},
		{"an expiry over 30 days", modKey, map[string]any{"worker_id": workerID, "message": "hi", "expiry": 721}, http.StatusBadRequest, "", "expiry", ""},
		{"an expiry that is not a number", modKey, map[string]any{"worker_id": workerID, "message": "hi", "expiry": "soon"}, http.StatusBadRequest, "", "expiry", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("POST", "/api/v2/workers/messages", tt.key, tt.body)
			if tt.status != http.StatusOK {
				m := wantError(t, r, tt.status, tt.field)
				if tt.rc != "" && m["rc"] != tt.rc {
					t.Errorf("rc = %v, want %s", m["rc"], tt.rc)
				}
				return
			}
			wantStatus(t, r, http.StatusOK)
			m := r.object(t)
			if m["origin"] != tt.origin || m["message"] != tt.body["message"] {
				t.Errorf("message = %s, want origin %q and the text sent", r.body, tt.origin)
			}
			for _, f := range []string{"id", "expiry", "created", "user_id"} {
				if s, _ := m[f].(string); s == "" {
					t.Errorf("message lacks %s: %s", f, r.body)
				}
			}
			if _, ok := tt.body["worker_id"]; ok && m["worker_id"] != workerID {
				t.Errorf("worker_id = %v, want %s", m["worker_id"], workerID)
			}
		})
	}
}

func TestReadAndDeleteWorkerMessages(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, modKey := e.moderator("mod")
	ownerID, ownerKey, workerID := e.ownerWithWorker("owner", "owner-gpu")
	otherID, otherKey, otherWorker := e.ownerWithWorker("other", "other-gpu")

	post := func(key string, body map[string]any) string {
		t.Helper()
		r := e.do("POST", "/api/v2/workers/messages", key, body)
		wantStatus(t, r, http.StatusOK)
		id, _ := r.object(t)["id"].(string)
		e.clock.Advance(time.Second) // messages list oldest first
		return id
	}
	toOwner := post(modKey, map[string]any{"worker_id": workerID, "message": "to owner", "expiry": 1})
	toOther := post(modKey, map[string]any{"worker_id": otherWorker, "message": "to other", "expiry": 48})
	toAll := post(modKey, map[string]any{"message": "to all", "expiry": 48})

	list := func(key, query string) []string {
		t.Helper()
		r := e.do("GET", "/api/v2/workers/messages"+query, key, nil)
		wantStatus(t, r, http.StatusOK)
		var ms []struct {
			ID      string `json:"id"`
			Message string `json:"message"`
			UserID  string `json:"user_id"`
			Expiry  string `json:"expiry"`
		}
		r.json(t, &ms)
		var texts []string
		for _, m := range ms {
			if _, err := time.Parse("Mon, 02 Jan 2006 15:04:05 -0700", m.Expiry); err != nil {
				t.Errorf("expiry %q is not RFC 822: %v", m.Expiry, err)
			}
			texts = append(texts, m.Message)
		}
		return texts
	}
	same := func(got []string, want ...string) bool { return strings.Join(got, "|") == strings.Join(want, "|") }

	if got := list(ownerKey, ""); !same(got, "to owner", "to all") {
		t.Errorf("owner reads %v, want their worker's message and the one to all", got)
	}
	if got := list(otherKey, "?worker_id="+otherWorker); !same(got, "to other") {
		t.Errorf("other, filtered by worker, reads %v", got)
	}
	if got := list(modKey, ""); !same(got, "to owner", "to other", "to all") {
		t.Errorf("a moderator reads %v, want every message", got)
	}
	if got := list(modKey, fmt.Sprintf("?user_id=%d", otherID)); !same(got, "to other", "to all") {
		t.Errorf("a moderator filtering by user reads %v", got)
	}
	wantError(t, e.do("GET", fmt.Sprintf("/api/v2/workers/messages?user_id=%d", otherID), ownerKey, nil), http.StatusForbidden, "own messages")
	wantError(t, e.do("GET", "/api/v2/workers/messages?user_id=me", ownerKey, nil), http.StatusBadRequest, "user_id")
	wantError(t, e.do("GET", "/api/v2/workers/messages?validity=old", ownerKey, nil), http.StatusBadRequest, "validity")
	wantError(t, e.do("GET", "/api/v2/workers/messages", "not-a-key", nil), http.StatusUnauthorized, "")

	// An hour later the 1-hour message has expired.
	e.clock.Advance(time.Hour - time.Second)
	if got := list(ownerKey, ""); !same(got, "to all") {
		t.Errorf("active after an hour: %v", got)
	}
	if got := list(ownerKey, "?validity=expired"); !same(got, "to owner") {
		t.Errorf("expired after an hour: %v", got)
	}
	if got := list(ownerKey, "?validity=all"); !same(got, "to owner", "to all") {
		t.Errorf("all after an hour: %v", got)
	}

	// One message by id, with no key; then deletion by its reader only.
	r := e.do("GET", "/api/v2/workers/messages/"+toOther, "", nil)
	wantStatus(t, r, http.StatusOK)
	if m := r.object(t); m["message"] != "to other" || m["user_id"] != fmt.Sprint(otherID) {
		t.Errorf("message by id = %s", r.body)
	}
	m := wantError(t, e.do("GET", "/api/v2/workers/messages/nope", "", nil), http.StatusNotFound, "")
	if m["rc"] != "WorkermessageNotFound" {
		t.Errorf("rc = %v, want the AI Horde's WorkermessageNotFound", m["rc"])
	}
	wantError(t, e.do("DELETE", "/api/v2/workers/messages/"+toOther, ownerKey, nil), http.StatusForbidden, "own messages")
	r = e.do("DELETE", "/api/v2/workers/messages/"+toOther, otherKey, nil)
	wantStatus(t, r, http.StatusOK)
	if r.object(t)["message"] != "OK" {
		t.Errorf("delete answered %s", r.body)
	}
	wantError(t, e.do("GET", "/api/v2/workers/messages/"+toOther, "", nil), http.StatusNotFound, "")
	wantError(t, e.do("DELETE", "/api/v2/workers/messages/"+toOther, otherKey, nil), http.StatusNotFound, "")
	wantStatus(t, e.do("DELETE", "/api/v2/workers/messages/"+toAll, modKey, nil), http.StatusOK)

	// Deleting the worker deletes its messages.
	wantStatus(t, e.do("DELETE", "/api/v2/workers/"+workerID, ownerKey, nil), http.StatusOK)
	wantError(t, e.do("GET", "/api/v2/workers/messages/"+toOwner, "", nil), http.StatusNotFound, "")
	_ = ownerID
}

// TestUpdateWorkerFields: PUT /workers/{id} takes the AI Horde's fields:
// a moderator's maintenance_msg reaches the owner as a worker message,
// team "" is no team, another team is 404 (this horde has none), and an
// empty body is NoWorkerModSelected.
func TestUpdateWorkerFields(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, modKey := e.moderator("mod")
	_, ownerKey, workerID := e.ownerWithWorker("owner", "owner-gpu")
	_, otherKey, _ := e.ownerWithWorker("other", "other-gpu")
	path := "/api/v2/workers/" + workerID

	tests := []struct {
		name   string
		key    string
		body   map[string]any
		status int
		rc     string
		want   map[string]any
	}{
		{"a moderator's maintenance with a message", modKey, map[string]any{"maintenance": true, "maintenance_msg": "your worker sends black images"}, http.StatusOK, "", map[string]any{"maintenance": true}},
		{"the owner leaves maintenance", ownerKey, map[string]any{"maintenance": false}, http.StatusOK, "", map[string]any{"maintenance": false}},
		{"team none", ownerKey, map[string]any{"team": ""}, http.StatusOK, "", map[string]any{"team": "None"}},
		{"an unknown team", ownerKey, map[string]any{"team": "0bed257b-e57c-4327-ac64-40cdfb1ac5e6"}, http.StatusNotFound, "TeamNotFound", nil},
		{"another user's team change", otherKey, map[string]any{"team": ""}, http.StatusForbidden, "", nil},
		{"the owner may not pause", ownerKey, map[string]any{"paused": true}, http.StatusForbidden, "NotModerator", nil},
		{"a moderator pauses", modKey, map[string]any{"paused": true}, http.StatusOK, "", map[string]any{"paused": true}},
		{"nothing to change", ownerKey, map[string]any{}, http.StatusBadRequest, "NoWorkerModSelected", nil},
		{"maintenance_msg alone changes nothing", ownerKey, map[string]any{"maintenance_msg": "x"}, http.StatusBadRequest, "NoWorkerModSelected", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("PUT", path, tt.key, tt.body)
			if tt.status != http.StatusOK {
				m := wantError(t, r, tt.status, "")
				if tt.rc != "" && m["rc"] != tt.rc {
					t.Errorf("rc = %v, want %s", m["rc"], tt.rc)
				}
				return
			}
			wantStatus(t, r, http.StatusOK)
			got := r.object(t)
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("%s = %v, want %v (answer %s)", k, got[k], v, r.body)
				}
			}
		})
	}
	r := e.do("GET", "/api/v2/workers/messages", ownerKey, nil)
	wantStatus(t, r, http.StatusOK)
	var ms []struct {
		Message  string `json:"message"`
		Origin   string `json:"origin"`
		WorkerID string `json:"worker_id"`
	}
	r.json(t, &ms)
	if len(ms) != 1 || ms[0].Message != "your worker sends black images" || ms[0].Origin != "mod" || ms[0].WorkerID != workerID {
		t.Errorf("the owner's messages = %+v, want the moderator's maintenance message", ms)
	}
}

// TestWorkerMessagesReachTheWorker checks where a worker reads its
// messages, as on the AI Horde: every pop answer (with or without a job,
// image and text) carries "messages", the active ones to this worker and to
// every worker, with id, message, origin and expiry; GET /workers/{id} and
// /workers/name/{name} show them to the owner and moderators only.
func TestWorkerMessagesReachTheWorker(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, modKey := e.moderator("mod")
	_, ownerKey, workerID := e.ownerWithWorker("owner", "owner-gpu")
	_, otherKey, otherWorker := e.ownerWithWorker("other", "other-gpu")
	post := func(body map[string]any) string {
		r := e.do("POST", "/api/v2/workers/messages", modKey, body)
		wantStatus(t, r, http.StatusOK)
		return r.object(t)["id"].(string)
	}
	toWorker := post(map[string]any{"worker_id": workerID, "message": "please update", "origin": "The mods", "expiry": 1})
	e.clock.Advance(time.Second) // messages come oldest first; at one instant their order is the ids'
	toAll := post(map[string]any{"message": "maintenance tonight", "expiry": 48})
	post(map[string]any{"worker_id": otherWorker, "message": "not for owner-gpu"})

	type popMessage struct {
		ID      string `json:"id"`
		Message string `json:"message"`
		Origin  string `json:"origin"`
		Expiry  string `json:"expiry"`
	}
	popMessages := func(t *testing.T, path, key string, body map[string]any) []popMessage {
		t.Helper()
		r := e.do("POST", path, key, body)
		wantStatus(t, r, http.StatusOK)
		raw, ok := r.object(t)["messages"]
		if !ok || raw == nil {
			t.Fatalf("pop answer has no messages list: %s", r.body)
		}
		var out struct{ Messages []popMessage }
		r.json(t, &out)
		return out.Messages
	}
	ids := func(ms []popMessage) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.ID)
		}
		return out
	}

	t.Run("an idle pop carries the worker's and everyone's messages", func(t *testing.T) {
		ms := popMessages(t, "/api/v2/generate/pop", ownerKey, imagePop("owner-gpu", nil))
		if got := ids(ms); !slices.Equal(got, []string{toWorker, toAll}) {
			t.Fatalf("messages %v, want [%s %s]", got, toWorker, toAll)
		}
		m := ms[0]
		if m.Message != "please update" || m.Origin != "The mods" {
			t.Errorf("message = %+v", m)
		}
		if _, err := time.Parse(time.RFC1123Z, m.Expiry); err != nil {
			t.Errorf("expiry %q is not RFC 822: %v", m.Expiry, err)
		}
	})
	t.Run("a pop with a job carries them too", func(t *testing.T) {
		e.asyncImage("", nil)
		r := e.do("POST", "/api/v2/generate/pop", ownerKey, imagePop("owner-gpu", nil))
		var out struct {
			IDs      []string
			Messages []popMessage
		}
		r.json(t, &out)
		if len(out.IDs) != 1 || len(out.Messages) != 2 {
			t.Fatalf("ids %v messages %v, want a job and 2 messages", out.IDs, out.Messages)
		}
	})
	t.Run("a text pop carries the messages to every worker", func(t *testing.T) {
		ms := popMessages(t, "/api/v2/generate/text/pop", otherKey, textPop("owner-scribe"))
		if got := ids(ms); !slices.Equal(got, []string{toAll}) {
			t.Fatalf("messages %v, want only the message to every worker %s", got, toAll)
		}
	})
	t.Run("an expired message is gone", func(t *testing.T) {
		e.clock.Advance(2 * time.Hour)
		ms := popMessages(t, "/api/v2/generate/pop", ownerKey, imagePop("owner-gpu", nil))
		if got := ids(ms); !slices.Equal(got, []string{toAll}) {
			t.Fatalf("messages %v after 2 hours, want only %s", got, toAll)
		}
	})

	for _, tt := range []struct {
		name string
		path string
		key  string
		want int // messages shown; -1: no messages field
	}{
		{"the owner sees them", "/api/v2/workers/" + workerID, ownerKey, 1},
		{"the owner sees them by name", "/api/v2/workers/name/owner-gpu", ownerKey, 1},
		{"a moderator sees them", "/api/v2/workers/" + workerID, modKey, 1},
		{"another user does not", "/api/v2/workers/" + workerID, otherKey, -1},
		{"no key does not", "/api/v2/workers/" + workerID, "", -1},
		{"a wrong key does not", "/api/v2/workers/" + workerID, "not-a-key", -1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", tt.path, tt.key, nil)
			wantStatus(t, r, http.StatusOK)
			raw, ok := r.object(t)["messages"]
			if tt.want < 0 {
				if ok {
					t.Fatalf("messages shown: %v", raw)
				}
				return
			}
			var out struct {
				Messages []struct {
					ID       string `json:"id"`
					WorkerID string `json:"worker_id"`
				}
			}
			r.json(t, &out)
			if len(out.Messages) != tt.want || out.Messages[0].ID != toAll {
				t.Fatalf("messages %+v, want [%s]", out.Messages, toAll)
			}
		})
	}
}

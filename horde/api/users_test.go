package api_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/hordebot/hordebot/horde/api"
)

func TestFindUser(t *testing.T) {
	e := newEnv(t, api.Options{})
	u, key := e.user("alice")

	tests := []struct {
		name   string
		key    string
		status int
		want   string
	}{
		{"own key", key, http.StatusOK, fmt.Sprintf("alice#%d", u.ID)},
		{"unknown key is 404", "no-such-key", http.StatusNotFound, ""},
		{"anonymous key", "0000000000", http.StatusOK, "#0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", "/api/v2/find_user", tt.key, nil)
			if tt.status != http.StatusOK {
				wantError(t, r, tt.status, "")
				return
			}
			wantStatus(t, r, http.StatusOK)
			m := r.object(t)
			name, _ := m["username"].(string)
			if len(name) < len(tt.want) || name[len(name)-len(tt.want):] != tt.want {
				t.Errorf("username = %q, want suffix %q", name, tt.want)
			}
			for _, f := range []string{"id", "kudos", "worker_ids", "worker_count", "concurrency", "trusted", "flagged", "moderator", "records", "usage"} {
				if _, ok := m[f]; !ok {
					t.Errorf("find_user lacks %q: %s", f, r.body)
				}
			}
		})
	}
}

func TestUserByID(t *testing.T) {
	e := newEnv(t, api.Options{})
	u, key := e.user("bob")
	e.do("POST", "/api/v2/generate/pop", key, imagePop("bob-gpu", nil))

	r := e.do("GET", fmt.Sprintf("/api/v2/users/%d", u.ID), "", nil)
	wantStatus(t, r, http.StatusOK)
	var out struct {
		Username    string
		ID          int64
		WorkerIDs   []string `json:"worker_ids"`
		WorkerCount int      `json:"worker_count"`
	}
	r.json(t, &out)
	if out.ID != u.ID || out.Username != fmt.Sprintf("bob#%d", u.ID) {
		t.Errorf("user = %+v", out)
	}
	if out.WorkerCount != 1 || len(out.WorkerIDs) != 1 {
		t.Errorf("worker_ids = %v, want the worker created by the pop", out.WorkerIDs)
	}
	wantError(t, e.do("GET", "/api/v2/users/999999", "", nil), http.StatusNotFound, "")
	wantError(t, e.do("GET", "/api/v2/users/bob", "", nil), http.StatusNotFound, "")
}

// TestFindUserCountsRequests: usage.requests and records.request count the
// items a user asked for (issue 14.9: they were always 0).
func TestFindUserCountsRequests(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("asker")
	e.asyncImage(key, map[string]any{"params": map[string]any{"steps": 20, "width": 512, "height": 512, "n": 2}})
	e.asyncImage(key, nil)
	r := e.do("GET", "/api/v2/find_user", key, nil)
	wantStatus(t, r, http.StatusOK)
	var u struct {
		Usage   struct{ Requests int64 }
		Records struct {
			Request struct{ Image int64 }
		}
	}
	r.json(t, &u)
	if u.Usage.Requests != 3 || u.Records.Request.Image != 3 {
		t.Fatalf("usage.requests %d, records.request.image %d; want 3 and 3: %s", u.Usage.Requests, u.Records.Request.Image, r.body)
	}
}

package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/hordebot/hordebot/horde/api"
)

func BenchmarkDecodeImageAsync(b *testing.B) {
	body, err := json.Marshal(imageRequest(map[string]any{"models": []string{"Deliberate"}, "unknown": 1}))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := api.DecodeImageAsync(body); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCheck measures a client's poll of /generate/check over real HTTP,
// the endpoint every waiting client hits most.
func BenchmarkCheck(b *testing.B) {
	e := newEnv(b, api.Options{})
	id := e.asyncImage("", nil)
	url := e.srv.URL + "/api/v2/generate/check/" + id
	client := e.srv.Client()
	b.ReportAllocs()
	for b.Loop() {
		res, err := client.Get(url)
		if err != nil {
			b.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}

// BenchmarkIdlePop measures an image worker's pop when nothing matches, the
// request every idle worker repeats about once a second.
func BenchmarkIdlePop(b *testing.B) {
	e := newEnv(b, api.Options{})
	_, key := e.user("owner")
	body, err := json.Marshal(imagePop("idle-gpu", nil))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		r := e.do("POST", "/api/v2/generate/pop", key, body)
		if r.status != http.StatusOK {
			b.Fatalf("status %d: %s", r.status, r.body)
		}
	}
}

package bot_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/hordebot/hordebot/bot"
)

func TestParseRESTURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		raw     string
		ok      bool
		inClear bool
	}{
		{"http://127.0.0.1:8080", true, false},
		{"http://localhost:8080/", true, false},
		{"https://discord-proxy.internal", true, false},
		{"http://discord-proxy.internal:8080", true, true},
		{"http://10.0.0.5:8080", true, true},
		{"discord-proxy:8080", false, false},
		{"ftp://proxy", false, false},
		{"http://", false, false},
		{"https://proxy.example/api/v9", false, false},
		{"https://user:secret@proxy.example", false, false},
		{"https://proxy.example?x=1", false, false},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			t.Parallel()
			u, err := bot.ParseRESTURL(tc.raw)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseRESTURL(%q) = %v, want ok %v", tc.raw, err, tc.ok)
			}
			if err == nil && bot.RESTURLInClear(u) != tc.inClear {
				t.Fatalf("RESTURLInClear(%q) = %v, want %v", tc.raw, !tc.inClear, tc.inClear)
			}
		})
	}
}

// TestRESTClientSendsDiscordToTheProxy: Discord's REST hosts go to the
// proxy, path and query kept; any other host (the CDN) is fetched as it is.
func TestRESTClientSendsDiscordToTheProxy(t *testing.T) {
	t.Parallel()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "proxy "+r.URL.RequestURI())
	}))
	defer proxy.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "other "+r.URL.RequestURI())
	}))
	defer other.Close()
	u, err := url.Parse(proxy.URL)
	if err != nil {
		t.Fatal(err)
	}
	hc := bot.RESTClient(u)
	for target, want := range map[string]string{
		"https://discord.com/api/v9/gateway/bot?x=1": "proxy /api/v9/gateway/bot?x=1",
		"https://discordapp.com/api/v9/users/@me":    "proxy /api/v9/users/@me",
		other.URL + "/attachments/1/2/a.png":         "other /attachments/1/2/a.png",
	} {
		resp, err := hc.Get(target)
		if err != nil {
			t.Fatalf("GET %s: %v", target, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want {
			t.Errorf("GET %s answered %q, want %q", target, body, want)
		}
	}
}

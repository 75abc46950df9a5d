package api_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/api"
	"github.com/hordebot/hordebot/store/storetest"
)

// guard is how long a raw-connection test waits for the server before it
// declares the server stuck. It is a hang detector, not a measurement: a
// correct server answers in microseconds.
const guard = 10 * time.Second

// rawRequest writes head (a request line and headers, without the blank
// line) and an optional partial body on a new connection to addr, then
// reads what the server answers until it closes or guard passes. It returns
// the parsed response (nil if none came) and whether the server closed the
// connection.
func rawRequest(t *testing.T, addr, head string, body []byte) (*http.Response, []byte, bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, head+"\r\n\r\n"); err != nil {
		t.Fatalf("write head: %v", err)
	}
	if len(body) > 0 {
		if _, err := c.Write(body); err != nil {
			t.Fatalf("write body: %v", err)
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(guard))
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		var ne net.Error
		if errorsAs(err, &ne) && ne.Timeout() {
			t.Fatalf("the server neither answered nor closed the connection within %v", guard)
		}
		return nil, nil, true // closed without an answer
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, data, true
}

func errorsAs(err error, target *net.Error) bool {
	ne, ok := err.(net.Error)
	if ok {
		*target = ne
	}
	return ok
}

// TestUploadToUnknownJobIsAnsweredBeforeTheBody: a PUT that declares a
// 19 MB body for a job that does not exist is answered 404 JSON at once,
// without the server waiting for (or reading) a byte of the body. The old
// server read the whole body first, so this client, which never sends it,
// waited forever.
func TestUploadToUnknownJobIsAnsweredBeforeTheBody(t *testing.T) {
	e := newEnv(t, api.Options{MaxUploadBytes: 20 << 20})
	addr := strings.TrimPrefix(e.srv.URL, "http://")
	for _, expect := range []string{"", "\r\nExpect: 100-continue"} {
		t.Run("expect="+strings.TrimSpace(strings.TrimPrefix(expect, "\r\nExpect:")), func(t *testing.T) {
			res, body, _ := rawRequest(t, addr, "PUT /api/v2/r2/00000000-0000-0000-0000-000000000000.webp HTTP/1.1\r\n"+
				"Host: x\r\nContent-Type: image/webp\r\nContent-Length: 19000000"+expect, nil)
			if res == nil {
				t.Fatal("the server closed the connection without answering")
			}
			if res.StatusCode != http.StatusNotFound {
				t.Fatalf("status = %d, want 404; body %s", res.StatusCode, body)
			}
			if !bytes.Contains(body, []byte(`"rc":"InvalidJobID"`)) {
				t.Errorf("body = %s, want rc InvalidJobID", body)
			}
		})
	}
	t.Run("a declared size over the limit is refused before the body", func(t *testing.T) {
		_, key := e.user("owner")
		e.asyncImage("", nil)
		up := e.popImage(key, "gpu-1")["r2_upload"].(string)
		path := strings.TrimPrefix(up, e.srv.URL)
		res, body, _ := rawRequest(t, addr, "PUT "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 30000000", nil)
		if res == nil || res.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte("BodyTooLarge")) {
			t.Fatalf("answer = %v %s, want 400 BodyTooLarge", res, body)
		}
	})
}

// TestUploadIsStreamedToItsBlob: an upload lands as one content-addressed
// blob, no temporary file is left, and a second upload to the same job (a
// retried PUT) replaces the first.
func TestUploadIsStreamedToItsBlob(t *testing.T) {
	storetest.SkipOnPostgres(t, "the blob folder's files")
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	e.asyncImage("", nil)
	up := e.popImage(key, "gpu-1")["r2_upload"].(string)
	img := pngImage(t, 7)
	wantStatus(t, e.do("PUT", up, "", img), http.StatusOK)

	blobs := filepath.Join(e.st.Dir(), "blobs")
	var files []string
	_ = filepath.Walk(blobs, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 1 {
		t.Fatalf("blob files = %v, want exactly one (no temporary file left)", files)
	}
	got, err := os.ReadFile(files[0])
	if err != nil || !bytes.Equal(got, img) {
		t.Fatalf("stored blob differs from the upload (err %v)", err)
	}
	second := pngImage(t, 8)
	wantStatus(t, e.do("PUT", up, "", second), http.StatusOK)
	jobID := strings.TrimSuffix(path.Base(up), ".webp")
	ref, err := e.st.Upload(context.Background(), jobID)
	if err != nil {
		t.Fatal(err)
	}
	if data, err := e.st.Blob(context.Background(), ref); err != nil || !bytes.Equal(data, second) {
		t.Fatalf("the job's upload is not the second image (err %v)", err)
	}
	files = files[:0]
	_ = filepath.Walk(blobs, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	if len(files) != 1 {
		t.Fatalf("blob files after a re-upload = %v, want only the second image", files)
	}
}

// TestBodyLimitsPerRoute: each route's body is capped at what a valid
// body can be, not at the image request's 10 MiB, and a body declared too
// large is refused without the server reading it.
func TestBodyLimitsPerRoute(t *testing.T) {
	e := newEnv(t, api.Options{Transfers: refusingTransfers{}})
	_, key := e.user("owner")
	big := func(n int) string { return `{"name":"` + strings.Repeat("a", n) + `"}` }
	tests := []struct {
		name, method, path string
		size               int
	}{
		{"a transfer over 64 KiB", "POST", "/api/v2/kudos/transfer", 100 << 10},
		{"a worker update over 64 KiB", "PUT", "/api/v2/workers/abc", 100 << 10},
		{"an image pop over 2 MiB", "POST", "/api/v2/generate/pop", 3 << 20},
		{"a text pop over 2 MiB", "POST", "/api/v2/generate/text/pop", 3 << 20},
		{"a text request over 2 MiB", "POST", "/api/v2/generate/text/async", 3 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.name+" is 400 BodyTooLarge", func(t *testing.T) {
			m := wantError(t, e.do(tt.method, tt.path, key, big(tt.size)), http.StatusBadRequest, "")
			if m["rc"] != "BodyTooLarge" {
				t.Fatalf("rc = %v, want BodyTooLarge", m["rc"])
			}
			if errs, _ := m["errors"].(map[string]any); errs["body"] == nil {
				t.Errorf("errors = %v, want the field body named", m["errors"])
			}
		})
	}
	t.Run("a declared oversize pop is answered without its body", func(t *testing.T) {
		addr := strings.TrimPrefix(e.srv.URL, "http://")
		res, body, _ := rawRequest(t, addr, "POST /api/v2/generate/pop HTTP/1.1\r\nHost: x\r\napikey: "+key+
			"\r\nContent-Type: application/json\r\nContent-Length: 10000000", []byte(`{"name":`))
		if res == nil || res.StatusCode != http.StatusBadRequest || !bytes.Contains(body, []byte("BodyTooLarge")) {
			t.Fatalf("answer = %v %s, want 400 BodyTooLarge", res, body)
		}
	})
}

// refusingTransfers stands in for the kudos engine where a test never
// reaches a transfer.
type refusingTransfers struct{}

func (refusingTransfers) Transfer(context.Context, horde.User, int64, int64, string) error {
	return horde.Errorf(horde.KindForbidden, "Forbidden", "no transfers in this test")
}

// TestTricklingClientIsCutOff: a client that sends its headers or its
// body a byte at a time does not hold its connection past the timeouts
// (short ones here; the defaults are seconds to minutes).
func TestTricklingClientIsCutOff(t *testing.T) {
	e := newEnv(t, api.Options{Timeouts: api.Timeouts{Read: 300 * time.Millisecond}})
	srv := api.NewHTTPServer(e.srv.Config.Handler, api.ServerOptions{ReadHeaderTimeout: 300 * time.Millisecond,
		Timeouts: api.Timeouts{Read: 300 * time.Millisecond}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	addr := ln.Addr().String()
	_, key := e.user("owner")

	t.Run("headers that never end", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "GET /api/v2/status/heartbeat HTTP/1.1\r\nHost: x\r\n")
		_ = c.SetReadDeadline(time.Now().Add(guard))
		_, err = io.ReadAll(c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("a connection with unfinished headers was held past %v", guard)
		}
	})
	t.Run("a body that never arrives", func(t *testing.T) {
		res, body, closed := rawRequest(t, addr, "POST /api/v2/generate/pop HTTP/1.1\r\nHost: x\r\napikey: "+key+
			"\r\nContent-Type: application/json\r\nContent-Length: 1000", []byte(`{"na`))
		if !closed {
			t.Fatal("connection not closed")
		}
		if res != nil && res.StatusCode != http.StatusBadRequest {
			t.Fatalf("status = %d (%s), want 400 or a closed connection", res.StatusCode, body)
		}
	})
}

// TestConnectionCaps: one address holds at most its cap of connections
// (the next is answered 429 JSON and closed), and the total cap makes a
// further connection wait until one closes.
func TestConnectionCaps(t *testing.T) {
	e := newEnv(t, api.Options{})
	serve := func(t *testing.T, total, perIP int) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := api.NewHTTPServer(e.srv.Config.Handler, api.ServerOptions{})
		go func() { _ = srv.Serve(api.LimitListener(ln, total, perIP)) }()
		t.Cleanup(func() { srv.Close() })
		return ln.Addr().String()
	}
	heartbeat := func(t *testing.T, c net.Conn) (*http.Response, error) {
		t.Helper()
		if _, err := io.WriteString(c, "GET /api/v2/status/heartbeat HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
			return nil, err
		}
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err == nil {
			_, _ = io.ReadAll(io.LimitReader(res.Body, int64(res.ContentLength)))
		}
		return res, err
	}
	dial := func(t *testing.T, addr string) net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(guard))
		t.Cleanup(func() { c.Close() })
		return c
	}

	t.Run("per address", func(t *testing.T) {
		addr := serve(t, 100, 2)
		held := []net.Conn{dial(t, addr), dial(t, addr)}
		for _, c := range held {
			if res, err := heartbeat(t, c); err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("a connection within the cap: %v %v", res, err)
			}
		}
		extra := dial(t, addr)
		res, err := http.ReadResponse(bufio.NewReader(extra), nil)
		if err != nil {
			t.Fatalf("the connection over the cap got no answer: %v", err)
		}
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusTooManyRequests || !bytes.Contains(body, []byte(`"rc":"TooManyRequests"`)) {
			t.Fatalf("over the cap: %d %s, want 429 JSON", res.StatusCode, body)
		}
		held[0].Close()
		// The freed slot is given back: a new connection is served (the
		// release races with this dial, so allow a few tries).
		for try := 0; ; try++ {
			res, err := heartbeat(t, dial(t, addr))
			if err == nil && res.StatusCode == http.StatusOK {
				break
			}
			if try == 50 {
				t.Fatalf("no slot after closing one: %v %v", res, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	t.Run("in all", func(t *testing.T) {
		addr := serve(t, 2, -1)
		a, b := dial(t, addr), dial(t, addr)
		for _, c := range []net.Conn{a, b} {
			if res, err := heartbeat(t, c); err != nil || res.StatusCode != http.StatusOK {
				t.Fatalf("a connection within the cap: %v %v", res, err)
			}
		}
		waiting := dial(t, addr)
		answered := make(chan error, 1)
		go func() {
			res, err := heartbeat(t, waiting)
			if err == nil && res.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", res.StatusCode)
			}
			answered <- err
		}()
		select {
		case err := <-answered:
			t.Fatalf("a third connection was served while two held the cap of 2 (err %v)", err)
		case <-time.After(300 * time.Millisecond):
		}
		a.Close()
		if err := <-answered; err != nil {
			t.Fatalf("the waiting connection, once a slot freed: %v", err)
		}
	})
}

// TestRateLimitKeyIsTheAuthenticatedKey: trailing spaces or a no-break
// space authenticate as the same key, so they share its bucket.
func TestRateLimitKeyIsTheAuthenticatedKey(t *testing.T) {
	e := newEnv(t, api.Options{KeyLimit: api.RateLimit{Rate: rate.Every(time.Hour), Burst: 2}})
	_, key := e.user("alice")
	variants := []string{key, key + "  ", key + "\u00a0"}
	var statuses []int
	for _, k := range variants {
		statuses = append(statuses, e.do("GET", "/api/v2/find_user", k, nil).status)
	}
	if statuses[0] != http.StatusOK || statuses[1] != http.StatusOK {
		t.Fatalf("statuses = %v, want the first two served", statuses)
	}
	if statuses[2] != http.StatusTooManyRequests {
		t.Fatalf("statuses = %v: %q, %q and %q must share one bucket of 2", statuses, "key", "key  ", "key\\u00a0")
	}
}

// TestPopWorkerNameIsValidated: a name a worker pops with follows the rule
// of /worker register: no control, bidi, zero-width or format characters,
// at most 100 characters; the refusal names the field "name".
func TestPopWorkerNameIsValidated(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	for _, tt := range []struct{ name, worker string }{
		{"a control character", "gpu\x07one"},
		{"a newline", "gpu\none"},
		{"a right-to-left override", "gpu\u202eeno"},
		{"a bidi isolate", "gpu\u2066one"},
		{"a zero-width space", "gpu\u200bone"},
		{"a zero-width joiner", "gpu\u200done"},
		{"a byte order mark", "\ufeffgpu"},
		{"a Hangul filler", "\u3164"},
		{"101 characters", strings.Repeat("é", 101)},
		{"blank", "   "},
	} {
		t.Run(tt.name+" is refused", func(t *testing.T) {
			for _, path := range []string{"/api/v2/generate/pop", "/api/v2/generate/text/pop"} {
				m := wantError(t, e.do("POST", path, key, imagePop(tt.worker, nil)), http.StatusBadRequest, "")
				if errs, _ := m["errors"].(map[string]any); errs["name"] == nil {
					t.Errorf("%s: errors = %v, want the field name", path, m["errors"])
				}
			}
		})
	}
	r := e.do("GET", "/api/v2/workers", "", nil)
	if bytes.Contains(r.body, []byte("gpu")) {
		t.Errorf("a refused worker was listed: %s", r.body)
	}
	t.Run("an ordinary name with letters of any script is accepted", func(t *testing.T) {
		wantStatus(t, e.do("POST", "/api/v2/generate/pop", key, imagePop("Grafikkarte Jürgen 東京-1", nil)), http.StatusOK)
	})
}

// TestWrongMethodIs405JSON: every route answers a method it does not
// serve with 405, a JSON body and an Allow header naming what it serves.
func TestWrongMethodIs405JSON(t *testing.T) {
	e := newEnv(t, api.Options{})
	for _, tt := range []struct{ method, path, allow string }{
		{"GET", "/api/v2/generate/async", "POST"},
		{"PUT", "/api/v2/generate/check/x", "GET"},
		{"POST", "/api/v2/generate/status/x", "GET"},
		{"GET", "/api/v2/generate/pop", "POST"},
		{"GET", "/api/v2/generate/submit", "POST"},
		{"PATCH", "/api/v2/generate/text/async", "POST"},
		{"POST", "/api/v2/generate/text/status/x", "DELETE"},
		{"GET", "/api/v2/generate/text/pop", "POST"},
		{"DELETE", "/api/v2/generate/text/submit", "POST"},
		{"GET", "/api/v2/r2/x.webp", "PUT"},
		{"POST", "/api/v2/results/x", "GET"},
		{"POST", "/api/v2/find_user", "GET"},
		{"DELETE", "/api/v2/users/1", "GET"},
		{"POST", "/api/v2/workers", "GET"},
		{"POST", "/api/v2/workers/x", "PUT"},
		{"DELETE", "/api/v2/workers/name/x", "GET"},
		{"GET", "/api/v2/kudos/transfer", "POST"},
		{"POST", "/api/v2/status/heartbeat", "GET"},
		{"DELETE", "/api/v2/status/models", "GET"},
		{"PUT", "/api/v2/status/performance", "GET"},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			m := wantError(t, e.do(tt.method, tt.path, "", nil), http.StatusMethodNotAllowed, "")
			if m["rc"] != "MethodNotAllowed" {
				t.Errorf("rc = %v", m["rc"])
			}
			if allow := e.do(tt.method, tt.path, "", nil).header.Get("Allow"); !strings.Contains(allow, tt.allow) {
				t.Errorf("Allow = %q, want it to name %s", allow, tt.allow)
			}
		})
	}
	t.Run("an unknown path stays 404", func(t *testing.T) {
		wantError(t, e.do("GET", "/api/v2/no/such/thing", "", nil), http.StatusNotFound, "")
	})
}

// TestErrorsQuoteLittleOfTheInput: an error about a long value quotes at
// most about 100 characters of it, wherever the value came from.
func TestErrorsQuoteLittleOfTheInput(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	long := strings.Repeat("x", 20000)
	tests := []struct {
		name, method, path string
		body               any
	}{
		{"a request id", "GET", "/api/v2/generate/check/" + long, nil},
		{"a status id", "GET", "/api/v2/generate/status/" + long, nil},
		{"a cancelled id", "DELETE", "/api/v2/generate/text/status/" + long, nil},
		{"an upload target", "PUT", "/api/v2/r2/" + long + ".webp", resultWebP},
		{"a result ref", "GET", "/api/v2/results/" + long, nil},
		{"a worker id", "GET", "/api/v2/workers/" + long, nil},
		{"a worker name", "GET", "/api/v2/workers/name/" + long, nil},
		{"a user id", "GET", "/api/v2/users/" + long, nil},
		{"a query parameter", "GET", "/api/v2/workers?type=" + long, nil},
		{"a submit state", "POST", "/api/v2/generate/submit", map[string]any{"id": "j", "state": long, "generation": "R2", "seed": 1}},
		{"an unknown method", "X" + strings.Repeat("Y", 5000), "/api/v2/status/heartbeat", nil},
		{"a transfer receiver", "POST", "/api/v2/kudos/transfer", map[string]any{"username": long + "#1", "amount": 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, tt.path, key, tt.body)
			if r.status < 400 {
				t.Fatalf("status = %d, want an error", r.status)
			}
			if bytes.Contains(r.body, []byte(strings.Repeat("x", 101))) || bytes.Contains(r.body, []byte(strings.Repeat("Y", 101))) {
				t.Errorf("the answer quotes more than 100 characters of the input: %.300s...", r.body)
			}
			if len(r.body) > 1000 {
				t.Errorf("answer of %d bytes", len(r.body))
			}
		})
	}
}

// TestDecodeErrorsNameJSONPaths: a type error names the field as the
// client wrote it, never the Go struct that embeds it.
func TestDecodeErrorsNameJSONPaths(t *testing.T) {
	e := newEnv(t, api.Options{})
	_, key := e.user("owner")
	tests := []struct {
		name, path, body, field string
	}{
		{"models of an image request", "/api/v2/generate/async", `{"prompt":"a cat","models":"sd"}`, "models"},
		{"a model of a text request", "/api/v2/generate/text/async", `{"prompt":"a cat","models":[1]}`, "models"},
		{"workers", "/api/v2/generate/async", `{"prompt":"a cat","workers":{"a":1}}`, "workers"},
		{"params.steps", "/api/v2/generate/async", `{"prompt":"a cat","params":{"steps":"many"}}`, "params.steps"},
		{"params.loras.name", "/api/v2/generate/async", `{"prompt":"a cat","params":{"loras":[{"name":3}]}}`, "params.loras.name"},
		{"the name a worker pops with", "/api/v2/generate/pop", `{"name":5}`, "name"},
		{"the models a worker pops with", "/api/v2/generate/text/pop", `{"name":"w","models":"x"}`, "models"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := wantError(t, e.do("POST", tt.path, key, tt.body), http.StatusBadRequest, tt.field)
			errs, _ := m["errors"].(map[string]any)
			if _, ok := errs[tt.field]; !ok || len(errs) != 1 {
				t.Errorf("errors = %v, want exactly the field %q", errs, tt.field)
			}
			if strings.Contains(string(m["message"].(string)), "Common") {
				t.Errorf("message names a Go struct: %v", m["message"])
			}
		})
	}
}

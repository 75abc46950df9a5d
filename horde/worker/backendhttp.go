package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxBackendResponse bounds a backend's answer (base64 PNGs of large images
// are tens of megabytes).
const maxBackendResponse = 2 * maxImageBytes

// defaultBackendHTTPClient is used when a backend's options name none. Jobs
// are bounded by their TTL through the context; the timeout is a backstop.
func defaultBackendHTTPClient() *http.Client { return &http.Client{Timeout: 30 * time.Minute} }

// BackendError is a non-2xx answer from a generation backend.
type BackendError struct {
	Backend    string
	URL        string
	StatusCode int
	Body       string // the start of the answer
}

func (e *BackendError) Error() string {
	return fmt.Sprintf("%s: %s: HTTP %d: %s", e.Backend, e.URL, e.StatusCode, e.Body)
}

// backendURL parses a backend's base URL.
func backendURL(backend, raw string) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, fmt.Errorf("%s: empty backend URL", backend)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: backend URL %q: %w", backend, raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%s: backend URL %q: want http(s)://host[:port]", backend, raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// joinPath returns base with path appended.
func joinPath(base *url.URL, path string) string {
	u := *base
	u.Path += path
	return u.String()
}

// postBackendJSON POSTs in as JSON to target and decodes a 2xx answer into out.
func postBackendJSON(ctx context.Context, hc *http.Client, backend, target string, header http.Header, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("%s: encode request: %w", backend, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: %w", backend, err)
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s: POST %s: %w", backend, target, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBackendResponse+1))
	if err != nil {
		return fmt.Errorf("%s: POST %s: read answer: %w", backend, target, err)
	}
	if len(data) > maxBackendResponse {
		return fmt.Errorf("%s: POST %s: answer over %d bytes", backend, target, maxBackendResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode >= 300 {
		return &BackendError{Backend: backend, URL: target, StatusCode: resp.StatusCode, Body: snippet(data)}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s: POST %s: decode answer: %w", backend, target, err)
	}
	return nil
}

package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hordebot/hordebot/horde/aihorde"
)

// maxResponseBytes bounds what the Client reads from a server: a pop can
// carry an inline base64 source image, nothing legitimate is larger.
const maxResponseBytes = 32 << 20

// ClientConfig configures a Client. BaseURL is the server root
// ("https://aihorde.net" or "http://127.0.0.1:7001"); "/api/v2" is appended
// unless it already ends with it.
type ClientConfig struct {
	BaseURL    string
	APIKey     string
	Contact    string       // the contact part of Client-Agent; DefaultContact when empty
	HTTPClient *http.Client // default: a client with a 2 minute timeout
	Retry      RetryPolicy
	Logger     *slog.Logger
}

// Client is an HTTP client for the worker half of the AI Horde v2 API. It
// sends the apikey and Client-Agent headers, retries network errors, 5xx and
// 429 (honouring Retry-After) and fails at once on other 4xx answers. It is
// safe for concurrent use.
type Client struct {
	api    *url.URL // ends with /api/v2
	apiKey string
	agent  string
	http   *http.Client
	retry  RetryPolicy
	log    *slog.Logger
}

// APIError is a non-2xx answer from the server (or an upload target).
type APIError struct {
	Method     string
	URL        string
	StatusCode int
	Message    string // the AI Horde "message", or the start of the body
	RC         string // the AI Horde "rc" code, when given
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	msg := e.Message
	if e.RC != "" {
		msg = e.RC + ": " + msg
	}
	return fmt.Sprintf("%s %s: HTTP %d: %s", e.Method, e.URL, e.StatusCode, msg)
}

// Retryable reports whether the answer may succeed if sent again: 429 and 5xx.
func (e *APIError) Retryable() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// StatusOf returns the HTTP status of the first *APIError in err's chain, or 0.
func StatusOf(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// NewClient checks cfg and returns a Client.
func NewClient(cfg ClientConfig) (*Client, error) {
	base := strings.TrimSpace(cfg.BaseURL)
	if base == "" {
		return nil, errors.New("worker client: empty base URL")
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("worker client: base URL %q: %w", base, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("worker client: base URL %q: want http(s)://host[:port]", base)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	if !strings.HasSuffix(u.Path, "/api/v2") {
		u.Path += "/api/v2"
	}
	u.RawQuery, u.Fragment = "", ""
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 2 * time.Minute}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	return &Client{
		api:    u,
		apiKey: cfg.APIKey,
		agent:  agentString(cfg.Contact),
		http:   hc,
		retry:  cfg.Retry.withDefaults(),
		log:    log,
	}, nil
}

// Agent returns the Client-Agent the client sends ("hordeworker:version:contact").
func (c *Client) Agent() string { return c.agent }

// PopImage asks for image jobs. No job is not an error: the response has a nil ID.
func (c *Client) PopImage(ctx context.Context, req aihorde.ImagePopRequest) (aihorde.ImagePopResponse, error) {
	var resp aihorde.ImagePopResponse
	if err := c.postJSON(ctx, "/generate/pop", req, &resp); err != nil {
		return aihorde.ImagePopResponse{}, err
	}
	return resp, nil
}

// PopText asks for text jobs. No job is not an error: the response has a nil ID.
func (c *Client) PopText(ctx context.Context, req aihorde.TextPopRequest) (aihorde.TextPopResponse, error) {
	var resp aihorde.TextPopResponse
	if err := c.postJSON(ctx, "/generate/text/pop", req, &resp); err != nil {
		return aihorde.TextPopResponse{}, err
	}
	return resp, nil
}

// SubmitImage submits an image job's result.
func (c *Client) SubmitImage(ctx context.Context, req aihorde.SubmitRequest) (aihorde.SubmitResponse, error) {
	var resp aihorde.SubmitResponse
	if err := c.postJSON(ctx, "/generate/submit", req, &resp); err != nil {
		return aihorde.SubmitResponse{}, err
	}
	return resp, nil
}

// SubmitText submits a text job's result.
func (c *Client) SubmitText(ctx context.Context, req aihorde.SubmitRequest) (aihorde.SubmitResponse, error) {
	var resp aihorde.SubmitResponse
	if err := c.postJSON(ctx, "/generate/text/submit", req, &resp); err != nil {
		return aihorde.SubmitResponse{}, err
	}
	return resp, nil
}

// Upload PUTs an encoded image to a job's r2_upload URL. A relative URL is
// resolved against the server; the apikey header goes only to the server's
// own host (an R2 presigned URL needs no key and must not see one).
func (c *Client) Upload(ctx context.Context, target string, data []byte, contentType string) error {
	ref, err := url.Parse(target)
	if err != nil {
		return fmt.Errorf("upload URL %q: %w", target, err)
	}
	u := c.api.ResolveReference(ref)
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("upload URL %q: not http(s)", target)
	}
	sameHost := strings.EqualFold(u.Host, c.api.Host)
	if _, err := c.do(ctx, http.MethodPut, u.String(), data, contentType, sameHost, nil); err != nil {
		return fmt.Errorf("upload: %w", err)
	}
	return nil
}

// Fetch GETs a URL (a job's source image given as a URL) with the same
// retries, reading at most limit bytes.
func (c *Client) Fetch(ctx context.Context, target string, limit int64) ([]byte, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("fetch %q: %w", target, err)
	}
	u = c.api.ResolveReference(u)
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("fetch %q: not http(s)", target)
	}
	body, err := c.do(ctx, http.MethodGet, u.String(), nil, "", strings.EqualFold(u.Host, c.api.Host), nil)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("fetch %s: %d bytes is over the %d byte limit", u.Redacted(), len(body), limit)
	}
	return body, nil
}

// postJSON POSTs in as JSON to an API path and decodes the answer into out.
func (c *Client) postJSON(ctx context.Context, path string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	u := *c.api
	u.Path += path
	if _, err := c.do(ctx, http.MethodPost, u.String(), body, "application/json", true, out); err != nil {
		return err
	}
	return nil
}

// do sends one request with retries and returns the 2xx body (decoded into
// out when out is not nil).
func (c *Client) do(ctx context.Context, method, target string, body []byte, contentType string, auth bool, out any) ([]byte, error) {
	var lastErr error
	for attempt := 0; ; attempt++ {
		respBody, retryAfter, err := c.once(ctx, method, target, body, contentType, auth)
		if err == nil {
			if out != nil {
				if err := json.Unmarshal(respBody, out); err != nil {
					return nil, fmt.Errorf("%s %s: decode answer: %w", method, redact(target), err)
				}
			}
			return respBody, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", method, redact(target), ctx.Err())
		}
		var apiErr *APIError
		if errors.As(err, &apiErr) && !apiErr.Retryable() {
			return nil, err
		}
		lastErr = err
		if attempt+1 >= c.retry.MaxAttempts {
			return nil, fmt.Errorf("giving up after %d attempts: %w", attempt+1, lastErr)
		}
		wait := c.retry.wait(attempt, retryAfter)
		c.log.LogAttrs(ctx, slog.LevelWarn, "horde request failed; retrying",
			slog.String("method", method), slog.String("url", redact(target)),
			slog.Int("attempt", attempt+1), slog.Duration("wait", wait), slog.Any("err", err))
		if err := sleepCtx(ctx, wait); err != nil {
			return nil, fmt.Errorf("%s %s: %w (last error: %w)", method, redact(target), err, lastErr)
		}
	}
}

// once sends one request. A non-2xx answer is an *APIError; the returned
// duration is the answer's Retry-After.
func (c *Client) once(ctx context.Context, method, target string, body []byte, contentType string, auth bool) ([]byte, time.Duration, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: %w", method, redact(target), err)
	}
	req.Header.Set("Client-Agent", c.agent)
	req.Header.Set("Accept", "application/json")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if auth && c.apiKey != "" {
		req.Header.Set("apikey", c.apiKey)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error repeats the method and the whole URL, query included
		// (a presigned upload URL's credentials): keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, 0, fmt.Errorf("%s %s: %w", method, redact(target), err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("%s %s: read answer: %w", method, redact(target), err)
	}
	if len(data) > maxResponseBytes {
		return nil, 0, &APIError{Method: method, URL: redact(target), StatusCode: resp.StatusCode,
			Message: fmt.Sprintf("answer larger than %d bytes", maxResponseBytes)}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return data, 0, nil
	}
	apiErr := &APIError{
		Method:     method,
		URL:        redact(target),
		StatusCode: resp.StatusCode,
		RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()),
	}
	var eb aihorde.Error
	if json.Unmarshal(data, &eb) == nil && eb.Message != "" {
		apiErr.Message, apiErr.RC = eb.Message, eb.RC
	} else {
		apiErr.Message = snippet(data)
	}
	return nil, apiErr.RetryAfter, apiErr
}

// redact drops the query of a URL for logs: presigned upload URLs carry
// credentials there.
func redact(target string) string {
	if i := strings.IndexByte(target, '?'); i >= 0 {
		return target[:i] + "?…"
	}
	return target
}

// snippet returns the start of a body for an error message.
func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	const n = 200
	if len(s) > n {
		s = s[:n] + "…"
	}
	if s == "" {
		s = "(empty body)"
	}
	return s
}

package discordtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
)

// apiPrefix is where discordgo's EndpointAPI points once rewritten.
const apiPrefix = "/api/v9"

// reqBody is a parsed request body: JSON, or multipart payload_json + files.
type reqBody struct {
	contentType string
	json        json.RawMessage
	files       []File
}

// call carries one API request through the middleware and its handler.
type call struct {
	body    reqBody
	pattern string
	params  map[string]string
}

type callKey struct{}

// apiHandler answers an API call: a nil body means 204 No Content.
type apiHandler func(r *http.Request, in *reqBody) (any, *apiError)

// routes builds the HTTP handler: the REST API, the gateway and attachments.
func (s *Server) routes() http.Handler {
	api := http.NewServeMux()
	h := func(pattern string, fn apiHandler) {
		method, path, _ := strings.Cut(pattern, " ")
		api.Handle(method+" "+apiPrefix+path, s.adapt(fn))
	}
	h("GET /gateway", s.getGateway)
	h("GET /gateway/bot", s.getGatewayBot)
	h("GET /users/{user}", s.getUser)
	h("GET /users/{user}/guilds", s.listMyGuilds)
	h("POST /users/@me/channels", s.createDM)
	h("GET /oauth2/applications/@me", s.getApplication)
	h("GET /applications/@me", s.getApplication)

	h("GET /channels/{channel}", s.getChannel)
	h("GET /channels/{channel}/messages", s.listMessages)
	h("POST /channels/{channel}/messages", s.createChannelMessage)
	h("GET /channels/{channel}/messages/{message}", s.getChannelMessage)
	h("PATCH /channels/{channel}/messages/{message}", s.editChannelMessage)
	h("DELETE /channels/{channel}/messages/{message}", s.deleteChannelMessage)
	h("GET /channels/{channel}/messages/{message}/reactions/{emoji}", s.listReactions)
	h("PUT /channels/{channel}/messages/{message}/reactions/{emoji}/{user}", s.putReaction)
	h("DELETE /channels/{channel}/messages/{message}/reactions/{emoji}/{user}", s.deleteReaction)

	h("GET /guilds/{guild}", s.getGuild)
	h("GET /guilds/{guild}/channels", s.getGuildChannels)
	h("GET /guilds/{guild}/roles", s.getGuildRoles)
	h("GET /guilds/{guild}/members", s.listMembers)
	h("GET /guilds/{guild}/members/{user}", s.getMember)
	h("PUT /guilds/{guild}/members/{user}/roles/{role}", s.putMemberRole)
	h("DELETE /guilds/{guild}/members/{user}/roles/{role}", s.deleteMemberRole)

	h("POST /interactions/{id}/{token}/callback", s.interactionCallback)
	h("POST /webhooks/{app}/{token}", s.executeWebhook)
	h("GET /webhooks/{app}/{token}/messages/{message}", s.getWebhookMessage)
	h("PATCH /webhooks/{app}/{token}/messages/{message}", s.editWebhookMessage)
	h("DELETE /webhooks/{app}/{token}/messages/{message}", s.deleteWebhookMessage)

	h("GET /applications/{app}/commands", s.getCommands)
	h("PUT /applications/{app}/commands", s.putCommands)
	h("GET /applications/{app}/guilds/{guild}/commands", s.getCommands)
	h("PUT /applications/{app}/guilds/{guild}/commands", s.putCommands)

	api.Handle(apiPrefix+"/", s.adapt(func(*http.Request, *reqBody) (any, *apiError) { return nil, errNotFoundRoute }))

	root := http.NewServeMux()
	root.Handle(apiPrefix+"/", s.record(api))
	root.HandleFunc("GET /gateway", s.serveGateway)
	root.HandleFunc("GET /gateway/", s.serveGateway)
	root.HandleFunc("GET /attachments/{channel}/{id}/{name}", s.serveAttachment)
	root.HandleFunc("GET /ephemeral-attachments/{app}/{id}/{name}", s.serveAttachment)
	return root
}

// adapt turns an apiHandler into an http.Handler writing Discord-shaped JSON.
func (s *Server) adapt(fn apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := r.Context().Value(callKey{}).(*call)
		if c == nil {
			c = &call{}
		}
		c.pattern = r.Pattern
		c.params = map[string]string{}
		for _, name := range routeParams {
			if v := r.PathValue(name); v != "" {
				c.params[name] = v
			}
		}
		if needsAuth(r) && !s.authorized(r) {
			writeJSON(w, errUnauthorized.Status, errUnauthorized)
			return
		}
		out, aerr := fn(r, &c.body)
		switch {
		case aerr != nil:
			writeJSON(w, aerr.Status, aerr)
		case out == nil:
			w.WriteHeader(http.StatusNoContent)
		default:
			writeJSON(w, http.StatusOK, out)
		}
	})
}

// needsAuth reports whether a route needs the bot token: interaction and
// webhook routes are authorised by the token in their URL, GET /gateway by nothing.
func needsAuth(r *http.Request) bool {
	p := trimAPI(r.URL.Path)
	return !strings.HasPrefix(p, "/interactions/") && !strings.HasPrefix(p, "/webhooks/") && p != "/gateway"
}

func (s *Server) authorized(r *http.Request) bool {
	return r.Header.Get("Authorization") == "Bot "+s.cfg.token
}

// record parses the body, applies simulated rate limits, serves the call and
// records it with the answer.
func (s *Server) record(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{}
		rec := &responseRecorder{ResponseWriter: w, status: http.StatusOK}
		limit := s.cfg.fileLimit*(maxFiles+1) + 8<<20
		body, err := parseBody(http.MaxBytesReader(w, r.Body, limit), r.Header.Get("Content-Type"))
		c.body = body
		switch {
		case err != nil:
			status := http.StatusBadRequest
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				status = http.StatusRequestEntityTooLarge
			}
			writeJSON(rec, status, &apiError{Code: 50109, Message: "The request body contains invalid JSON.", Status: status})
		case s.takeRateLimit(r.Method, trimAPI(r.URL.Path), rec):
		default:
			s.awaitHTTPAnswer(r.Context(), trimAPI(r.URL.Path))
			next.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), callKey{}, c)))
		}
		route := ""
		if c.pattern != "" && c.pattern != apiPrefix+"/" {
			method, path, _ := strings.Cut(c.pattern, " ")
			route = method + " " + trimAPI(path)
		}
		s.mu.Lock()
		s.recordLocked(Recorded{
			Method:      r.Method,
			Path:        trimAPI(r.URL.Path),
			Query:       r.URL.Query(),
			Route:       route,
			Params:      c.params,
			Header:      r.Header.Clone(),
			ContentType: body.contentType,
			JSON:        body.json,
			Files:       body.files,
			Status:      rec.status,
			Response:    json.RawMessage(rec.buf.Bytes()),
		})
		s.mu.Unlock()
	})
}

// parseBody reads a JSON or multipart/form-data body.
func parseBody(r io.Reader, contentType string) (reqBody, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return reqBody{}, fmt.Errorf("read body: %w", err)
	}
	if len(raw) == 0 {
		return reqBody{}, nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return reqBody{}, fmt.Errorf("content type %q: %w", contentType, err)
	}
	out := reqBody{contentType: mt}
	switch mt {
	case "application/json":
		if !json.Valid(raw) {
			return out, errors.New("body is not valid JSON")
		}
		out.json = raw
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(raw), params["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return out, fmt.Errorf("multipart: %w", err)
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return out, fmt.Errorf("multipart part %q: %w", part.FormName(), err)
			}
			switch name := part.FormName(); {
			case name == "payload_json":
				if !json.Valid(data) {
					return out, errors.New("payload_json is not valid JSON")
				}
				out.json = data
			case strings.HasPrefix(name, "files[") || strings.HasPrefix(name, "file"):
				out.files = append(out.files, File{
					Field:       name,
					Name:        part.FileName(),
					ContentType: part.Header.Get("Content-Type"),
					Data:        data,
				})
			}
		}
	default:
		return out, fmt.Errorf("unsupported content type %q", mt)
	}
	return out, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"message":"500: Internal Server Error","code":0}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// responseRecorder passes a response through and keeps its status and body.
type responseRecorder struct {
	http.ResponseWriter
	status int
	buf    bytes.Buffer
}

func (r *responseRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *responseRecorder) Write(b []byte) (int, error) {
	r.buf.Write(b)
	return r.ResponseWriter.Write(b)
}

// serveAttachment serves the bytes of a stored attachment, as the CDN does:
// with a Content-Length, unless it was uploaded Chunked.
func (s *Server) serveAttachment(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f, ok := s.attachments[r.PathValue("id")]
	chunked := false
	if u := s.uploads[r.PathValue("id")]; u != nil {
		chunked = u.chunked
	}
	s.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	ct := f.ContentType
	if ct == "" {
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	if !chunked {
		w.Header().Set("Content-Length", strconv.Itoa(len(f.Data)))
		_, _ = w.Write(f.Data)
		return
	}
	// Flushing before the body ends makes net/http send it chunked.
	for rest := f.Data; len(rest) > 0; {
		n := min(len(rest), 32<<10)
		_, _ = w.Write(rest[:n])
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		rest = rest[n:]
	}
}

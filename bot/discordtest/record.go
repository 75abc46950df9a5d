package discordtest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// Recorded is one REST call the fake received, recorded after it was answered.
type Recorded struct {
	// Seq numbers calls from 1 in arrival order.
	Seq int
	// Method and Path of the call; Path is relative to /api/v9, e.g.
	// "/channels/123/messages".
	Method string
	Path   string
	Query  url.Values
	// Route is the matched pattern relative to /api/v9, e.g.
	// "POST /channels/{channel}/messages"; empty for unknown routes.
	Route string
	// Params holds the route's path parameters: channel, message, guild, user,
	// app, token, id, emoji.
	Params map[string]string
	Header http.Header
	// ContentType is the request's media type: application/json or multipart/form-data.
	ContentType string
	// JSON is the JSON body, or the payload_json part of a multipart body.
	JSON json.RawMessage
	// Files are the files[n] parts of a multipart body, with their bytes.
	Files []File
	// Status and Response are what the fake answered.
	Status   int
	Response json.RawMessage
}

// Decode unmarshals the call's JSON payload into v.
func (r Recorded) Decode(v any) error {
	if len(r.JSON) == 0 {
		return fmt.Errorf("discordtest: %s %s has no JSON body", r.Method, r.Path)
	}
	if err := json.Unmarshal(r.JSON, v); err != nil {
		return fmt.Errorf("discordtest: decode %s %s: %w", r.Method, r.Path, err)
	}
	return nil
}

// Is reports whether the call matches a method and a route pattern, e.g.
// r.Is("PATCH", "/webhooks/{app}/{token}/messages/{message}").
func (r Recorded) Is(method, route string) bool {
	return r.Route == method+" "+route
}

// Requests returns every REST call recorded so far, in order.
func (s *Server) Requests() []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneRecords(s.records)
}

// WaitFor returns the first recorded call, past or future, for which match
// is true, or the context's error.
func (s *Server) WaitFor(ctx context.Context, match func(Recorded) bool) (Recorded, error) {
	got, err := s.WaitForN(ctx, 1, match)
	if err != nil {
		return Recorded{}, err
	}
	return got[0], nil
}

// WaitForN waits until n recorded calls match and returns the first n.
func (s *Server) WaitForN(ctx context.Context, n int, match func(Recorded) bool) ([]Recorded, error) {
	var found []Recorded
	next := 0
	for {
		s.mu.Lock()
		for ; next < len(s.records) && len(found) < n; next++ {
			if match(s.records[next]) {
				found = append(found, s.records[next])
			}
		}
		changed, closed := s.changed, s.closed
		s.mu.Unlock()
		if len(found) >= n {
			return cloneRecords(found), nil
		}
		if closed {
			return nil, fmt.Errorf("discordtest: wait for %d calls: server closed after %d", n, len(found))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("discordtest: wait for %d calls (got %d): %w", n, len(found), ctx.Err())
		case <-changed:
		}
	}
}

// InteractionResponses returns every call made with an interaction token:
// the callback, edits of @original and follow-ups, in order.
func (s *Server) InteractionResponses(token string) []Recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Recorded
	for _, r := range s.records {
		if r.Params["token"] == token {
			out = append(out, r)
		}
	}
	return cloneRecords(out)
}

// waitState re-evaluates check under the lock each time state changes until
// it reports done, the context ends or the server closes.
func (s *Server) waitState(ctx context.Context, what string, check func() bool) error {
	for {
		s.mu.Lock()
		done := check()
		changed, closed := s.changed, s.closed
		s.mu.Unlock()
		if done {
			return nil
		}
		if closed {
			return fmt.Errorf("discordtest: wait for %s: server closed", what)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("discordtest: wait for %s: %w", what, ctx.Err())
		case <-changed:
		}
	}
}

// WaitForMessage waits until a message in the channel satisfies match and
// returns its snapshot.
func (s *Server) WaitForMessage(ctx context.Context, channelID string, match func(Message) bool) (Message, error) {
	var got Message
	err := s.waitState(ctx, "message in channel "+channelID, func() bool {
		cs, ok := s.channels[channelID]
		if !ok {
			return false
		}
		for _, m := range cs.messages {
			snap, err := s.snapshotLocked(m)
			if err == nil && match(snap) {
				got = snap
				return true
			}
		}
		return false
	})
	return got, err
}

func (s *Server) recordLocked(r Recorded) {
	r.Seq = len(s.records) + 1
	s.records = append(s.records, r)
	s.bumpLocked()
}

func cloneRecords(in []Recorded) []Recorded {
	out := make([]Recorded, len(in))
	for i, r := range in {
		r.JSON = slices.Clone(r.JSON)
		r.Response = slices.Clone(r.Response)
		r.Files = slices.Clone(r.Files)
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// routeParams are the path wildcard names used by the route table.
var routeParams = []string{"channel", "message", "guild", "user", "app", "token", "id", "emoji", "role"}

func trimAPI(p string) string { return strings.TrimPrefix(p, apiPrefix) }

package discordtest

import (
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// rateLimitRule makes the next call matching method and path prefix answer 429.
type rateLimitRule struct {
	method     string
	prefix     string
	retryAfter time.Duration
	global     bool
}

// RateLimitNext makes the next REST call with this method (empty matches any)
// whose path starts with pathPrefix (relative to /api/v9, e.g. "/channels/";
// a leading /api/v9 is accepted) answer 429 Too Many Requests, with a JSON body
// {"message", "retry_after" (seconds), "global": false} and the X-RateLimit-*
// headers of a per-route limit. Rules queue: calling it twice limits two calls.
//
// The X-RateLimit-Global header is left out of a per-route 429, as Discord
// does: discordgo treats any value of it, even "false", as a global limit.
func (s *Server) RateLimitNext(method, pathPrefix string, retryAfter time.Duration) {
	s.addRateLimit(method, pathPrefix, retryAfter, false)
}

// RateLimitGlobalNext is RateLimitNext for the global rate limit: the body says
// "global": true and X-RateLimit-Global is "true".
func (s *Server) RateLimitGlobalNext(method, pathPrefix string, retryAfter time.Duration) {
	s.addRateLimit(method, pathPrefix, retryAfter, true)
}

func (s *Server) addRateLimit(method, pathPrefix string, retryAfter time.Duration, global bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateLimits = append(s.rateLimits, rateLimitRule{
		method:     strings.ToUpper(method),
		prefix:     trimAPI(pathPrefix),
		retryAfter: retryAfter,
		global:     global,
	})
}

// takeRateLimit answers 429 and returns true when a queued rule matches.
func (s *Server) takeRateLimit(method, path string, w http.ResponseWriter) bool {
	s.mu.Lock()
	var rule *rateLimitRule
	for i, r := range s.rateLimits {
		if (r.method == "" || r.method == method) && strings.HasPrefix(path, r.prefix) {
			rule = &r
			s.rateLimits = append(s.rateLimits[:i:i], s.rateLimits[i+1:]...)
			break
		}
	}
	now := s.now()
	s.mu.Unlock()
	if rule == nil {
		return false
	}
	secs := rule.retryAfter.Seconds()
	h := w.Header()
	h.Set("Retry-After", strconv.FormatInt(int64(math.Ceil(secs)), 10))
	h.Set("X-RateLimit-Limit", "5")
	h.Set("X-RateLimit-Remaining", "0")
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(now.Add(rule.retryAfter).UnixMilli())/1000, 'f', 3, 64))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(secs, 'f', 3, 64))
	bucket := fnv.New64a()
	_, _ = bucket.Write([]byte(rule.method + " " + rule.prefix))
	h.Set("X-RateLimit-Bucket", fmt.Sprintf("%016x", bucket.Sum64()))
	if rule.global {
		h.Set("X-RateLimit-Global", "true")
		h.Set("X-RateLimit-Scope", "global")
	} else {
		h.Set("X-RateLimit-Scope", "user")
	}
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"message":     "You are being rate limited.",
		"retry_after": secs,
		"global":      rule.global,
	})
	return true
}

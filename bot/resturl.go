package bot

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// discordRESTHosts are the hosts of Discord's REST API as discordgo's
// endpoints name them.
var discordRESTHosts = map[string]bool{"discord.com": true, "discordapp.com": true}

// ParseRESTURL checks discord.rest_url: an http or https URL with a host
// and no path, query or credentials (the path stays discordgo's /api/v9/...).
func ParseRESTURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("discord.rest_url %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("discord.rest_url %q: want http://host[:port] or https://host[:port]", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil || u.Fragment != "" {
		return nil, fmt.Errorf("discord.rest_url %q: want only a scheme, a host and a port (no path, query or user)", raw)
	}
	return u, nil
}

// RESTURLInClear reports whether u sends the bot's token unencrypted to
// another machine: plain http to a host that is not loopback.
func RESTURLInClear(u *url.URL) bool {
	if u.Scheme != "http" {
		return false
	}
	host := u.Hostname()
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// RESTClient is the HTTP client of sessions whose REST calls go to base
// (discord.rest_url: a REST proxy in front of Discord, such as one sharing
// the rate limits of several processes, or a fake Discord in tests)
// instead of https://discord.com. Only Discord's REST hosts are
// redirected; the gateway is wherever GET /gateway/bot, answered there,
// says, and every other URL (attachments on the CDN) is fetched as it is.
func RESTClient(base *url.URL) *http.Client {
	return &http.Client{Timeout: 20 * time.Second, Transport: &restRedirect{base: base, next: http.DefaultTransport}}
}

// restRedirect sends requests aimed at Discord's REST hosts to base.
type restRedirect struct {
	base *url.URL
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *restRedirect) RoundTrip(req *http.Request) (*http.Response, error) {
	if !discordRESTHosts[strings.ToLower(req.URL.Hostname())] {
		return t.next.RoundTrip(req)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = t.base.Scheme, t.base.Host, t.base.Host
	return t.next.RoundTrip(out)
}

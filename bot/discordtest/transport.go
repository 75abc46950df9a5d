package discordtest

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// discordHosts are the hosts whose requests the transport sends to the fake.
var discordHosts = map[string]bool{
	"discord.com":          true,
	"discordapp.com":       true,
	"cdn.discordapp.com":   true,
	"media.discordapp.net": true,
}

// rewriteTransport sends requests aimed at Discord to the fake server (CDN
// paths such as /attachments/... are served at the fake's root too) and
// refuses everything else, so a test can never reach the internet by mistake.
type rewriteTransport struct {
	target *url.URL
	base   http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := strings.ToLower(req.URL.Hostname())
	if req.URL.Host != t.target.Host && !discordHosts[host] {
		return nil, fmt.Errorf("discordtest: refusing request to non-Discord host %q", req.URL.Host)
	}
	out := req.Clone(req.Context())
	out.URL.Scheme = t.target.Scheme
	out.URL.Host = t.target.Host
	out.Host = t.target.Host
	return t.base.RoundTrip(out)
}

package discordtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// serve starts the fake's HTTP server (REST, CDN and gateway) on a free port
// of 127.0.0.1, so that the fake never listens on other interfaces. It uses
// net/http directly rather than net/http/httptest, so that the demo, which
// runs the fake inside the production binary, links no test code.
//
// Like httptest, it panics when no loopback port can be had: a machine
// without loopback networking cannot run the fake at all.
func (s *Server) serve() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		var err6 error
		if ln, err6 = net.Listen("tcp6", "[::1]:0"); err6 != nil {
			panic(fmt.Sprintf("discordtest: cannot listen on a loopback port: %v; %v", err, err6))
		}
	}
	s.listener = ln
	s.url = "http://" + ln.Addr().String()
	s.base, _ = url.Parse(s.url)
	// No proxy: the fake is on loopback, whatever HTTP_PROXY says.
	s.transport = &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}
	s.http = &http.Server{Handler: s.routes(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.log.Error("discordtest: serve", "err", err)
		}
	}()
}

// stopServing stops accepting connections, lets the requests being served
// finish (as httptest's Close does; a request still running after a few
// seconds is cut) and closes the clients' idle connections. The gateway's
// websockets are hijacked connections, closed by the gateway itself.
func (s *Server) stopServing() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.http.Shutdown(ctx); err != nil {
		_ = s.http.Close()
	}
	s.transport.CloseIdleConnections()
}

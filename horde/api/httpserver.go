package api

import (
	"log"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// ServerOptions configure the http.Server that serves the API (NewHTTPServer)
// and the listener under it (LimitListener). Zero values take the defaults.
type ServerOptions struct {
	// ReadHeaderTimeout bounds the request line and headers (default 10 s):
	// a client trickling its headers is cut off then.
	ReadHeaderTimeout time.Duration
	// Timeouts are the routes' (Options.Timeouts): the server's own read
	// and write timeouts are the ordinary routes' ones, which routes with
	// large bodies or answers extend.
	Timeouts Timeouts
	// IdleTimeout bounds a keep-alive connection between requests (default 2 min).
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the request line and headers (default 64 KiB,
	// far above any valid request's, so that net/http's own text answer 431
	// is for abuse only).
	MaxHeaderBytes int
	// ErrorLog receives net/http's own errors; nil: the standard logger.
	ErrorLog *log.Logger
}

// Defaults of ServerOptions and of the connection caps.
const (
	DefaultReadHeaderTimeout = 10 * time.Second
	DefaultIdleTimeout       = 2 * time.Minute
	DefaultMaxHeaderBytes    = 64 << 10
	// DefaultMaxConns caps the connections open at once; past it new ones
	// wait in the kernel's backlog until one closes.
	DefaultMaxConns = 4096
	// DefaultMaxConnsPerIP caps the connections one client address holds
	// open at once; past it a new one is answered 429 and closed.
	DefaultMaxConnsPerIP = 256
)

// NewHTTPServer is the http.Server for the API handler h, with every
// timeout and size bound set: a slow client holds a connection for a
// bounded time whatever it sends.
func NewHTTPServer(h http.Handler, opt ServerOptions) *http.Server {
	if opt.ReadHeaderTimeout <= 0 {
		opt.ReadHeaderTimeout = DefaultReadHeaderTimeout
	}
	if opt.IdleTimeout <= 0 {
		opt.IdleTimeout = DefaultIdleTimeout
	}
	if opt.MaxHeaderBytes <= 0 {
		opt.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	t := opt.Timeouts.withDefaults()
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: opt.ReadHeaderTimeout,
		ReadTimeout:       t.Read,
		WriteTimeout:      t.Write,
		IdleTimeout:       opt.IdleTimeout,
		MaxHeaderBytes:    opt.MaxHeaderBytes,
		ErrorLog:          opt.ErrorLog,
	}
}

// LimitListener caps the connections accepted from ln: at most maxConns
// open at once (Accept waits for one to close; the excess waits in the
// kernel's backlog, holding no file descriptor of this process), and at
// most perIP from one remote address (the excess is answered 429 JSON and
// closed at once, so that one client cannot take every slot). maxConns <= 0
// takes DefaultMaxConns; perIP 0 takes DefaultMaxConnsPerIP and < 0 turns
// the per-address cap off (behind a reverse proxy every connection comes
// from the proxy's address).
func LimitListener(ln net.Listener, maxConns, perIP int) net.Listener {
	if maxConns <= 0 {
		maxConns = DefaultMaxConns
	}
	if perIP == 0 {
		perIP = DefaultMaxConnsPerIP
	}
	return &limitListener{Listener: ln, slots: make(chan struct{}, maxConns), perIP: perIP, byIP: map[string]int{},
		rates: map[string]*rate.Limiter{}, done: make(chan struct{})}
}

// New connections from one address are paced: at most NewConnsPerIP a
// second (burst NewConnsBurst) are served at once; one beyond that waits,
// in its own goroutine, before its first byte is read (a client that closes
// and reopens connections in a loop, such as an upload flood answered
// before its body, is slowed to that pace instead of taking the CPU from
// everyone else); one that would wait longer than maxConnWait is refused
// (429). Clients that keep their connections alive never notice. Off with
// the per-address cap (behind a reverse proxy).
const (
	NewConnsPerIP = 50
	NewConnsBurst = 100
	maxConnWait   = 5 * time.Second
	maxRateIPs    = 10000 // addresses remembered; past it the table starts over
)

type limitListener struct {
	net.Listener
	slots chan struct{}
	perIP int

	mu        sync.Mutex
	byIP      map[string]int
	rates     map[string]*rate.Limiter // new connections per address
	done      chan struct{}
	closeOnce sync.Once
}

// tooManyConns is the whole answer to a connection over its address's cap.
var tooManyConns = func() []byte {
	body := `{"message":"too many connections from your address; close some and retry","rc":"TooManyRequests"}`
	return []byte("HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nRetry-After: 1\r\n" +
		"Connection: close\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}()

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		select {
		case l.slots <- struct{}{}:
		case <-l.done:
			return nil, net.ErrClosed
		}
		c, err := l.Listener.Accept()
		if err != nil {
			<-l.slots
			return nil, err
		}
		ip := remoteIP(c)
		var wait time.Duration
		if l.perIP > 0 {
			ok, w := l.take(ip)
			if !ok {
				<-l.slots
				go refuse(c)
				continue
			}
			wait = w
		}
		lc := &limitConn{Conn: c, l: l, ip: ip}
		if wait > 0 {
			lc.readyAt = time.Now().Add(wait)
		}
		return lc, nil
	}
}

// take counts one more connection from ip, unless ip is at its cap or its
// pace of new connections would make this one wait past maxConnWait; it
// returns how long the connection waits before it is served.
func (l *limitListener) take(ip string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byIP[ip] >= l.perIP {
		return false, 0
	}
	lim := l.rates[ip]
	if lim == nil {
		if len(l.rates) >= maxRateIPs {
			clear(l.rates)
		}
		lim = rate.NewLimiter(NewConnsPerIP, NewConnsBurst)
		l.rates[ip] = lim
	}
	res := lim.Reserve()
	wait := res.Delay()
	if wait > maxConnWait {
		res.Cancel()
		return false, 0
	}
	l.byIP[ip]++
	return true, wait
}

func (l *limitListener) release(ip string) {
	if l.perIP > 0 {
		l.mu.Lock()
		if l.byIP[ip]--; l.byIP[ip] <= 0 {
			delete(l.byIP, ip)
		}
		l.mu.Unlock()
	}
	<-l.slots
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// refuse answers a connection over its address's cap and closes it.
func refuse(c net.Conn) {
	_ = c.SetWriteDeadline(time.Now().Add(time.Second))
	_, _ = c.Write(tooManyConns)
	_ = c.Close()
}

func remoteIP(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	host, _, err := net.SplitHostPort(c.RemoteAddr().String())
	if err != nil {
		return c.RemoteAddr().String()
	}
	return host
}

// limitConn gives its slot back when closed; a paced one is read only
// from readyAt on.
type limitConn struct {
	net.Conn
	l       *limitListener
	ip      string
	once    sync.Once
	readyAt time.Time // zero: at once; read by the connection's goroutine only
}

// Read waits until the connection's turn (pacing) before its first read.
func (c *limitConn) Read(b []byte) (int, error) {
	if !c.readyAt.IsZero() {
		if d := time.Until(c.readyAt); d > 0 {
			time.Sleep(d)
		}
		c.readyAt = time.Time{}
	}
	return c.Conn.Read(b)
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}

package horde

import (
	"context"
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// IP timeouts: a moderator puts an address or a CIDR block in timeout for a
// number of hours (the AI Horde's POST /operations/ipaddr); until then the
// API refuses it with 403 TimeoutIP. The timeouts are durable and held in
// memory, so that checking an address on every request costs a slice scan
// of the (few) timeouts, and nothing while there are none.

// MaxIPTimeout bounds one timeout (30 days).
const MaxIPTimeout = 30 * 24 * time.Hour

// IPTimeout is an address or CIDR block refused until Until.
type IPTimeout struct {
	Addr      string // canonical: "203.0.113.7" or "203.0.113.0/24"
	Until     time.Time
	CreatedBy int64
	CreatedAt time.Time
}

// IPTimeoutStore keeps IP timeouts.
type IPTimeoutStore interface {
	// SetIPTimeout inserts or replaces the timeout of t.Addr.
	SetIPTimeout(ctx context.Context, t IPTimeout) error
	// DeleteIPTimeout removes the timeout of addr; false if there was none.
	DeleteIPTimeout(ctx context.Context, addr string) (bool, error)
	// IPTimeouts returns every timeout (also those past their time).
	IPTimeouts(ctx context.Context) ([]IPTimeout, error)
}

// IPTimeouts is the set of addresses in timeout. It is safe for concurrent use.
type IPTimeouts struct {
	store IPTimeoutStore
	clock Clock

	mu   sync.Mutex // serialises changes
	list atomic.Pointer[[]ipTimeout]
}

// ipTimeout is one timeout as checked.
type ipTimeout struct {
	prefix netip.Prefix
	t      IPTimeout
}

// NewIPTimeouts loads the timeouts from st.
func NewIPTimeouts(ctx context.Context, st IPTimeoutStore, clock Clock) (*IPTimeouts, error) {
	if clock == nil {
		clock = SystemClock{}
	}
	t := &IPTimeouts{store: st, clock: clock}
	all, err := st.IPTimeouts(ctx)
	if err != nil {
		return nil, fmt.Errorf("load ip timeouts: %w", err)
	}
	list := make([]ipTimeout, 0, len(all))
	for _, it := range all {
		p, err := parseIPOrPrefix(it.Addr)
		if err != nil {
			continue // not written by Add; ignore rather than refuse to start
		}
		list = append(list, ipTimeout{prefix: p, t: it})
	}
	t.list.Store(&list)
	return t, nil
}

// parseIPOrPrefix reads an address ("203.0.113.7", "2001:db8::1") or a CIDR
// block ("203.0.113.0/24") as a prefix; a lone address is a full-length one.
func parseIPOrPrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// canonical is how a prefix is stored and shown: a lone address without its length.
func canonical(p netip.Prefix) string {
	if p.Bits() == p.Addr().BitLen() {
		return p.Addr().String()
	}
	return p.String()
}

// Add puts addr (an address or CIDR block) in timeout for d; moderators only.
// A bad address is KindInvalid on "ipaddr", a duration out of (0,
// MaxIPTimeout] KindInvalid on "hours". Adding an address again replaces its
// timeout.
func (t *IPTimeouts) Add(ctx context.Context, by User, addr string, d time.Duration) (IPTimeout, error) {
	if err := requireModerator(by, "put addresses in timeout"); err != nil {
		return IPTimeout{}, err
	}
	p, err := parseIPOrPrefix(addr)
	if err != nil {
		return IPTimeout{}, Invalidf("ipaddr", "ipaddr must be an IP address or a CIDR block such as 203.0.113.0/24")
	}
	if d <= 0 || d > MaxIPTimeout {
		return IPTimeout{}, Invalidf("hours", "hours must be between 1 and %d", int(MaxIPTimeout/time.Hour))
	}
	now := t.clock.Now()
	it := IPTimeout{Addr: canonical(p), Until: now.Add(d), CreatedBy: by.ID, CreatedAt: now}
	t.mu.Lock()
	defer t.mu.Unlock()
	if err := t.store.SetIPTimeout(ctx, it); err != nil {
		return IPTimeout{}, fmt.Errorf("store ip timeout %s: %w", it.Addr, err)
	}
	old := *t.list.Load()
	list := make([]ipTimeout, 0, len(old)+1)
	for _, o := range old {
		if o.t.Addr != it.Addr && o.t.Until.After(now) {
			list = append(list, o)
		}
	}
	list = append(list, ipTimeout{prefix: p, t: it})
	t.list.Store(&list)
	return it, nil
}

// Remove lifts the timeout of addr; moderators only. Lifting an address in
// no timeout is not an error (as on the AI Horde).
func (t *IPTimeouts) Remove(ctx context.Context, by User, addr string) error {
	if err := requireModerator(by, "lift IP timeouts"); err != nil {
		return err
	}
	p, err := parseIPOrPrefix(addr)
	if err != nil {
		return Invalidf("ipaddr", "ipaddr must be an IP address or a CIDR block such as 203.0.113.0/24")
	}
	key := canonical(p)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, err := t.store.DeleteIPTimeout(ctx, key); err != nil {
		return fmt.Errorf("delete ip timeout %s: %w", key, err)
	}
	old := *t.list.Load()
	list := make([]ipTimeout, 0, len(old))
	for _, o := range old {
		if o.t.Addr != key {
			list = append(list, o)
		}
	}
	t.list.Store(&list)
	return nil
}

// List returns the timeouts still running, soonest to end first; moderators only.
func (t *IPTimeouts) List(_ context.Context, by User) ([]IPTimeout, error) {
	if err := requireModerator(by, "see IP timeouts"); err != nil {
		return nil, err
	}
	now := t.clock.Now()
	var out []IPTimeout
	for _, o := range *t.list.Load() {
		if o.t.Until.After(now) {
			out = append(out, o.t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Until.Before(out[j].Until) })
	return out, nil
}

// Blocked reports whether ip is in a running timeout and how long is left
// (the longest of those that cover it). An unparsable ip is never blocked.
func (t *IPTimeouts) Blocked(ip string) (time.Duration, bool) {
	list := *t.list.Load()
	if len(list) == 0 {
		return 0, false
	}
	a, err := netip.ParseAddr(strings.TrimSpace(ip))
	if err != nil {
		return 0, false
	}
	a = a.Unmap()
	now := t.clock.Now()
	var left time.Duration
	for _, o := range list {
		if o.prefix.Contains(a) {
			left = max(left, o.t.Until.Sub(now))
		}
	}
	return left, left > 0
}

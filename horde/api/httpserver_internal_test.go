package api

import (
	"testing"
	"time"
)

// TestNewConnectionsArePacedPerAddress: past its burst, an address's new
// connections wait their turn, past maxConnWait they are refused, and
// another address is not slowed (issue 9.7: a reconnect loop of uploads
// took the CPU from every other client).
func TestNewConnectionsArePacedPerAddress(t *testing.T) {
	l := LimitListener(nil, 1<<20, 1<<20).(*limitListener)
	for i := range NewConnsBurst {
		if ok, wait := l.take("10.0.0.1"); !ok || wait != 0 {
			t.Fatalf("connection %d of the burst: ok %v wait %v, want at once", i, ok, wait)
		}
	}
	ok, wait := l.take("10.0.0.1")
	if !ok || wait <= 0 {
		t.Fatalf("the first connection past the burst: ok %v wait %v, want a wait", ok, wait)
	}
	refused := false
	for range int(NewConnsPerIP * maxConnWait / time.Second * 2) {
		if ok, _ := l.take("10.0.0.1"); !ok {
			refused = true
			break
		}
	}
	if !refused {
		t.Fatal("a reconnect loop was never refused")
	}
	if ok, wait := l.take("10.0.0.2"); !ok || wait != 0 {
		t.Fatalf("another address: ok %v wait %v, want at once", ok, wait)
	}
}

package horde

import "sync"

// EventKind says what happened to a request.
type EventKind string

const (
	// EventFinished: the request reached its final state (done, faulted or
	// cancelled) and its results can be read.
	EventFinished EventKind = "finished"
	// EventResync: events may have been missed (the connection that hears
	// other processes' events was lost and is back): every subscriber
	// should read again what it waits for. Its RequestID is empty.
	EventResync EventKind = "resync"
)

// Event is a wake-up: something happened to a request. It names the
// request and what happened, nothing more; a subscriber reads the request
// for the rest. Events are hints, not the truth: one may come late, twice,
// or (when a process's connection to the database drops) not at all, which
// EventResync then says. So whoever waits for one keeps a slower poll too.
type Event struct {
	Kind      EventKind
	RequestID string
}

// Events carries events to the subscribers of this process. On one
// process (SQLite) the Horde publishes its own; on a shared queue
// (PostgreSQL) the store announces them in the transaction that makes the
// change (LISTEN/NOTIFY), so that a subscriber hears what every process
// did, and its listener publishes them here. *EventHub implements it.
type Events interface {
	// Publish hands e to the subscribers of its request, to those of every
	// request, and (EventResync) to all of them. It never blocks: a
	// subscriber of one request that has not taken its last event yet gets
	// no second one (it will read the request anyway); one of every request
	// holds up to AllEventsBuffer events not taken, and misses what comes
	// past that.
	Publish(e Event)
	// Subscribe returns a channel that receives the events of request id
	// ("": of every request), and a function that ends the subscription
	// (call it once; the channel is not closed).
	Subscribe(id string) (<-chan Event, func())
}

// AllEventsBuffer is how many events not taken yet a subscriber of every
// request holds.
const AllEventsBuffer = 64

// EventHub is the in-memory Events of one process.
type EventHub struct {
	mu   sync.Mutex
	subs map[string]map[chan Event]struct{} // by request id; "" for every request
}

var _ Events = (*EventHub)(nil)

// NewEventHub returns a hub with no subscribers.
func NewEventHub() *EventHub {
	return &EventHub{subs: map[string]map[chan Event]struct{}{}}
}

// Publish implements Events.
func (h *EventHub) Publish(e Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if e.Kind == EventResync {
		for _, set := range h.subs {
			notifyAll(set, e)
		}
		return
	}
	notifyAll(h.subs[e.RequestID], e)
	if e.RequestID != "" {
		notifyAll(h.subs[""], e)
	}
}

// notifyAll sends e to each channel of set that has room.
func notifyAll(set map[chan Event]struct{}, e Event) {
	for c := range set {
		select {
		case c <- e:
		default: // it has an event to take already
		}
	}
}

// Subscribe implements Events.
func (h *EventHub) Subscribe(id string) (<-chan Event, func()) {
	room := 1
	if id == "" {
		room = AllEventsBuffer
	}
	c := make(chan Event, room)
	h.mu.Lock()
	set := h.subs[id]
	if set == nil {
		set = map[chan Event]struct{}{}
		h.subs[id] = set
	}
	set[c] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return c, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			delete(h.subs[id], c)
			if len(h.subs[id]) == 0 {
				delete(h.subs, id)
			}
		})
	}
}

// Subscribers counts the subscriptions open now (for tests and metrics).
func (h *EventHub) Subscribers() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, set := range h.subs {
		n += len(set)
	}
	return n
}

// publish publishes an event of request id to Config.Events on the
// in-memory queue, after the change is stored. On a shared queue it does
// nothing: the store announces every change in the transaction that makes
// it, to every process, and each process's listener publishes it.
func (h *Horde) publish(kind EventKind, id string) {
	if h.cfg.Events == nil || h.shared() {
		return
	}
	h.cfg.Events.Publish(Event{Kind: kind, RequestID: id})
}

package store

import (
	"strings"
	"testing"

	"github.com/hordebot/hordebot/horde"
)

// TestParseEvent: a notification's payload is read as an event only when
// it is one this version sends; anything else on the channel (a newer
// version's kind, a NOTIFY by hand) is ignored.
func TestParseEvent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload string
		want    horde.Event
		ok      bool
	}{
		{"a request finished", "finished 01a23a80-1d13-7671-8ed7-4f74b50463dc",
			horde.Event{Kind: horde.EventFinished, RequestID: "01a23a80-1d13-7671-8ed7-4f74b50463dc"}, true},
		{"an unknown kind", "exploded 01a23a80", horde.Event{}, false},
		{"a resync is never sent", "resync x", horde.Event{}, false},
		{"no id", "finished ", horde.Event{}, false},
		{"no separator", "finished", horde.Event{}, false},
		{"two ids", "finished a b", horde.Event{}, false},
		{"an id past the bound", "finished " + strings.Repeat("a", maxEventID+1), horde.Event{}, false},
		{"empty", "", horde.Event{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseEvent(tc.payload)
			if ok != tc.ok || got != tc.want {
				t.Fatalf("parseEvent(%q) = %+v, %v; want %+v, %v", tc.payload, got, ok, tc.want, tc.ok)
			}
		})
	}
}

// TestEventsChannel: one channel per database and schema, a valid
// identifier whatever their names.
func TestEventsChannel(t *testing.T) {
	a, b := eventsChannel("hordebot", "public"), eventsChannel("hordebot", "hbt_1_2")
	if a == b || a != eventsChannel("hordebot", "public") {
		t.Fatalf("channels %q and %q: want one per schema, stable", a, b)
	}
	if len(a) > 63 || strings.Trim(a, "abcdefghijklmnopqrstuvwxyz0123456789_") != "" {
		t.Fatalf("channel %q is not a short lower-case identifier", a)
	}
}

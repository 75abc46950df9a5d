package store

import (
	"encoding/binary"
	"errors"
	"reflect"
	"testing"

	"github.com/hordebot/hordebot/horde"
)

// TestEstimatesEncoding: a body of encodeEstimates decodes to what was
// encoded (but At, stored beside it), the waiting alchemy forms included;
// a head with no forms (a body of before they were stored) reads as none,
// and a negative count is refused.
func TestEstimatesEncoding(t *testing.T) {
	full := horde.QueueEstimates{
		Requests:   map[string]horde.QueueEstimate{"r1": {Position: 0, Wait: 12}, "r2": {Position: 3, Wait: -1}},
		Totals:     []horde.QueuedWork{{Kind: horde.KindImage, Items: 4, Work: 10.5}},
		Buckets:    []horde.QueuedWork{{Kind: horde.KindImage, Model: "sd15", Items: 2, Work: 5.25}},
		PastMinute: []horde.QueuedWork{{Kind: horde.KindText, Items: 1, Work: 80}},
		Forms:      7,
	}
	tests := []struct {
		name string
		e    horde.QueueEstimates
	}{
		{"everything", full},
		{"no forms waiting", horde.QueueEstimates{Requests: map[string]horde.QueueEstimate{"r1": {Wait: 1}}}},
		{"empty", horde.QueueEstimates{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := encodeEstimates(tt.e)
			if err != nil {
				t.Fatal(err)
			}
			got, err := decodeEstimates(b)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			want := tt.e
			if want.Requests == nil {
				want.Requests = map[string]horde.QueueEstimate{}
			}
			for _, ws := range []*[]horde.QueuedWork{&want.Totals, &want.Buckets, &want.PastMinute} {
				if *ws == nil {
					*ws = []horde.QueuedWork{}
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("decoded %+v, want %+v", got, want)
			}
		})
	}

	body := func(head string) []byte {
		b := append([]byte{estimatesVersion}, binary.AppendUvarint(nil, uint64(len(head)))...)
		b = append(b, head...)
		return binary.AppendUvarint(b, 0) // no request
	}
	if e, err := decodeEstimates(body(`{"totals":[{"kind":"image","items":2,"work":1}]}`)); err != nil || e.Forms != 0 || len(e.Totals) != 1 {
		t.Errorf("a head without forms: %+v, %v; want the totals and no form", e, err)
	}
	if _, err := decodeEstimates(body(`{"forms":-1}`)); !errors.Is(err, errBadEstimates) {
		t.Errorf("a negative form count: %v, want errBadEstimates", err)
	}
}

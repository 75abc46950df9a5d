package horde

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestNewIDIsATimeOrderedRandomUUID(t *testing.T) {
	const n = 2000
	before := time.Now().UnixMilli()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newID()
	}
	after := time.Now().UnixMilli()

	seen := make(map[string]bool, n)
	// Bits 48-127 other than the version and variant: 74 that must vary.
	var varied [16]byte
	first := uuid.MustParse(ids[0])
	for i, id := range ids {
		u, err := uuid.Parse(id)
		if err != nil {
			t.Fatalf("id %q is not a UUID: %v", id, err)
		}
		if u.Version() != 7 || u.Variant() != uuid.RFC4122 {
			t.Fatalf("id %s: version %d variant %v, want 7 and RFC 4122", id, u.Version(), u.Variant())
		}
		sec, nsec := u.Time().UnixTime()
		if ms := sec*1000 + nsec/1e6; ms < before || ms > after {
			t.Fatalf("id %s: time %d ms outside [%d, %d]", id, ms, before, after)
		}
		if seen[id] {
			t.Fatalf("id %s made twice", id)
		}
		seen[id] = true
		if i > 0 && ids[i][:13] < ids[i-1][:13] {
			t.Fatalf("id %s sorts before the earlier %s", id, ids[i-1])
		}
		for b := 6; b < 16; b++ {
			varied[b] |= u[b] ^ first[b]
		}
	}
	// 0x0f: the version nibble is fixed; 0x3f: so are the variant bits.
	want := [16]byte{6: 0x0f, 7: 0xff, 8: 0x3f, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff}
	if varied != want {
		t.Fatalf("bits that varied across %d ids = %x, want %x (74 random bits)", n, varied, want)
	}
}

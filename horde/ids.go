package horde

import (
	"encoding/binary"
	"time"

	"github.com/google/uuid"
)

// newID returns a fresh id for a request, a job or a worker: a UUID v7, its
// first 48 bits the Unix time in milliseconds and 74 of the other 80 bits
// random. Ids created together sort together, so the store's inserts and
// lookups by id (jobs, items, generations, ledger keys) land on the same few
// index pages instead of one random page each. Request ids are the secret
// that check, status and cancel need: 74 random bits keep them unguessable
// even to someone who knows when a request was made.
func newID() string {
	u := uuid.New() // version 4: 122 random bits
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(time.Now().UnixMilli()))
	copy(u[:6], ms[2:])
	u[6] = u[6]&0x0f | 0x70 // version 7; the variant bits stay as uuid.New set them
	return u.String()
}

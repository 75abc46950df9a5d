package horde

import "github.com/google/uuid"

// newID returns a fresh random id (a UUID v4) for a request, a job or a worker.
// Request ids are the secret that check, status and cancel need, so they
// must be unguessable.
func newID() string { return uuid.NewString() }

package store

import (
	"sync"
	"time"

	"github.com/hordebot/hordebot/horde"
)

// Bounds of the credential cache.
const (
	// credentialTTL bounds how long a cached credential is trusted. Changes
	// made through this Store invalidate the cache at once; the TTL only
	// bounds changes made by another process on the same database file
	// (e.g. the `hordebot user` command while the server runs).
	credentialTTL = 5 * time.Second
	// maxCachedCredentials bounds the cache; when full it starts over.
	maxCachedCredentials = 10_000
)

// credentialCache maps API key hashes to their credential for a few
// seconds, so that a worker's pop and submit, the most frequent requests,
// do not each read SQLite to authenticate. Every Store method that changes
// a key, a user or a worker calls invalidate after its write committed.
// Unknown keys are never cached. The zero value is ready to use.
//
// A lookup that raced with an invalidation must not store what it read
// before the change: lookups note the generation before reading the
// database, and put drops their result if the generation moved since.
type credentialCache struct {
	mu  sync.Mutex
	gen uint64
	m   map[string]cachedCredential
}

type cachedCredential struct {
	c       horde.Credential
	expires time.Time
}

// get returns the cached credential of keyHash, if fresh, and the current
// generation to hand to put after a database read.
func (cc *credentialCache) get(keyHash string, now time.Time) (horde.Credential, uint64, bool) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok := cc.m[keyHash]
	if ok && now.Before(e.expires) {
		return e.c, cc.gen, true
	}
	if ok {
		delete(cc.m, keyHash)
	}
	return horde.Credential{}, cc.gen, false
}

// put caches c for keyHash unless the cache was invalidated since gen.
func (cc *credentialCache) put(keyHash string, c horde.Credential, gen uint64, now time.Time) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if gen != cc.gen {
		return
	}
	if cc.m == nil || len(cc.m) >= maxCachedCredentials {
		cc.m = make(map[string]cachedCredential)
	}
	cc.m[keyHash] = cachedCredential{c: c, expires: now.Add(credentialTTL)}
}

// invalidate forgets every cached credential.
func (cc *credentialCache) invalidate() {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.gen++
	clear(cc.m)
}

package horde

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// AnonymousKey is the AI Horde's shared anonymous API key. It may request
// generations but never run a worker.
const AnonymousKey = "0000000000"

// AnonymousUserID is the id of the anonymous user, created by the first migration.
const AnonymousUserID int64 = 0

// User is a member of the horde: an API user, a Discord member, or both.
type User struct {
	ID        int64
	Name      string
	DiscordID string // empty for API-only users
	Trusted   bool   // trusted users' workers serve trusted-only requests and earn without escrow
	Flagged   bool   // flagged users can neither request nor give/receive kudos
	Moderator bool
	CreatedAt time.Time
}

// Anonymous reports whether u is the shared anonymous user.
func (u User) Anonymous() bool { return u.ID == AnonymousUserID }

// Username is the AI Horde's display form "name#id".
func (u User) Username() string { return fmt.Sprintf("%s#%d", u.Name, u.ID) }

// Credential is what an API key resolves to: a user, and for a worker key
// the one worker it may act as.
type Credential struct {
	User     User
	WorkerID string // empty for a user key, which may run any of its user's workers
}

// NewAPIKey returns a fresh random API key (22 URL-safe characters).
func NewAPIKey() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate api key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// HashKey is how API keys are stored: hex SHA-256. Keys are random and long,
// so a fast hash is enough; the raw key is never stored. Keys are looked up
// by their hash, never compared as keys: whatever the timing of that lookup
// reveals is about hashes, from which no key can be recovered.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// Package deferredix defines the record of a Discord interaction the bot
// deferred ("thinking…") before the request it asks for was queued: the
// bot writes it before the deferral, the write that queues the request
// links it, and a process that finds one still open after its runner died
// runs the command then. It is Discord's concept, not the scheduler's; the
// bot declares what it needs of the store with these types (bot.Store) and
// store implements them. It imports nothing beyond the standard library,
// so that store need not link discordgo.
package deferredix

import "time"

// Record is one deferred interaction.
type Record struct {
	ID      string // Discord's interaction id: the unique key
	GuildID string // "" in DMs: decides which shard's process may take it
	// CreatedAt is when Discord created the interaction; its token (and
	// so any answer) lasts 15 minutes from then.
	CreatedAt time.Time
	// Payload is the interaction as the bot keeps it (JSON it writes and
	// reads): id, token, application, command and options, member,
	// channel, locale, and how it was deferred.
	Payload []byte
	// Owner is the process running it and ClaimUntil how long no other
	// process takes it from that one.
	Owner      string
	ClaimUntil time.Time
	// State is how far it got; RequestID the request (or alchemy
	// interrogation) it queued (Queued, Watched).
	State     State
	RequestID string
}

// State is how far an interaction got.
type State string

// The states of a record.
const (
	// Open: deferred, no request queued yet.
	Open State = "open"
	// Queued: its request is queued (and linked to it), the delivery of
	// the result not yet saved.
	Queued State = "queued"
	// Watched: the delivery of its request's result is saved
	// (discord_deliveries), which every restart resumes.
	Watched State = "watched"
	// Answered: it ended without a request (refused, failed, or too old
	// to run when found), or was recorded by no process that can say.
	Answered State = "answered"
)

package horde

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WorkerMessage is a message to a worker's owner (the AI Horde's
// WorkerMessage): moderators write to any worker, owners to their own; the
// owner reads them over the API until they expire.
type WorkerMessage struct {
	ID       string
	WorkerID string // "" for a message to no worker in particular
	// UserID is who reads it: the worker's owner, or for a message to no
	// worker its author.
	UserID    int64
	AuthorID  int64
	Message   string
	Origin    string // who it is from, as shown ("AI Horde Moderators", or a user id)
	CreatedAt time.Time
	Expiry    time.Time
}

// MessageValidity filters messages by whether they expired.
type MessageValidity string

// The validities of a message query, as the AI Horde's ?validity= names them.
const (
	MessagesActive  MessageValidity = "active"
	MessagesExpired MessageValidity = "expired"
	MessagesAll     MessageValidity = "all"
)

// MessageQuery selects worker messages.
type MessageQuery struct {
	UserID   *int64 // messages this user reads (and those to no worker); nil: everyone's
	WorkerID string // "": any worker
	// ToNoWorkerToo adds to a WorkerID's messages those to no worker in
	// particular (what the worker's pop answer carries).
	ToNoWorkerToo bool
	Validity      MessageValidity
	Now           time.Time
	Offset        int
	Limit         int
}

// WorkerMessageStore keeps worker messages.
type WorkerMessageStore interface {
	// SaveWorkerMessage stores a new message.
	SaveWorkerMessage(ctx context.Context, m WorkerMessage) error
	// WorkerMessages returns the messages q selects, oldest first.
	WorkerMessages(ctx context.Context, q MessageQuery) ([]WorkerMessage, error)
	// WorkerMessage returns one message; ErrNotFound if none.
	WorkerMessage(ctx context.Context, id string) (WorkerMessage, error)
	// DeleteWorkerMessage removes a message; ErrNotFound if none.
	DeleteWorkerMessage(ctx context.Context, id string) error
}

// Limits of a worker message, as the AI Horde's input_model_message has them.
const (
	MaxWorkerMessageLength = 10 * 1024
	MaxMessageOriginLength = 255
	DefaultMessageExpiry   = 12 * time.Hour
	MaxMessageExpiry       = 30 * 24 * time.Hour
	MessagesPerPage        = 50
	// DefaultMessageOrigin is a moderator's message's origin when they name none.
	DefaultMessageOrigin = "Horde Moderators"
)

// NewWorkerMessage is what PostWorkerMessage stores.
type NewWorkerMessage struct {
	WorkerID string // "": to no worker in particular (moderators only)
	Message  string
	Origin   string        // moderators only; others' origin is their user id
	Expiry   time.Duration // 0: DefaultMessageExpiry; capped at MaxMessageExpiry
}

// PostWorkerMessage stores a message to a worker's owner. Moderators may
// write to any worker (or to none), with an origin of their choosing; other
// users only to their own workers (KindForbidden, MessagesOnlyOwnWorkers),
// as their own user id. An unknown worker is KindNotFound; the anonymous
// user is KindForbidden.
func (h *Horde) PostWorkerMessage(ctx context.Context, by User, m NewWorkerMessage) (WorkerMessage, error) {
	if by.Anonymous() {
		return WorkerMessage{}, Errorf(KindForbidden, "AnonForbidden", "the anonymous user cannot send worker messages")
	}
	text := strings.TrimSpace(m.Message)
	switch {
	case text == "":
		return WorkerMessage{}, Invalidf("message", "message must not be empty")
	case utf8.RuneCountInString(m.Message) > MaxWorkerMessageLength:
		return WorkerMessage{}, Invalidf("message", "message must be at most %d characters", MaxWorkerMessageLength)
	case utf8.RuneCountInString(m.Origin) > MaxMessageOriginLength:
		return WorkerMessage{}, Invalidf("origin", "origin must be at most %d characters", MaxMessageOriginLength)
	case m.Expiry < 0:
		return WorkerMessage{}, Invalidf("expiry", "expiry must be at least 1 hour")
	}
	expiry := m.Expiry
	if expiry == 0 {
		expiry = DefaultMessageExpiry
	}
	expiry = min(expiry, MaxMessageExpiry)
	now := h.clock.Now()
	msg := WorkerMessage{ID: newID(), Message: m.Message, AuthorID: by.ID, UserID: by.ID, CreatedAt: now, Expiry: now.Add(expiry)}
	if m.WorkerID != "" {
		w, err := h.Worker(ctx, m.WorkerID)
		if err != nil {
			return WorkerMessage{}, err
		}
		if !by.Moderator && w.OwnerID != by.ID {
			return WorkerMessage{}, Errorf(KindForbidden, "MessagesOnlyOwnWorkers", "you can only send messages to your own workers")
		}
		msg.WorkerID, msg.UserID = w.ID, w.OwnerID
	} else if !by.Moderator {
		return WorkerMessage{}, &Error{Kind: KindForbidden, Code: "MessagesOnlyOwnWorkers", Field: "worker_id",
			Message: "you can only send messages to your own workers: name one in worker_id"}
	}
	switch {
	case !by.Moderator:
		msg.Origin = strconv.FormatInt(by.ID, 10)
	case strings.TrimSpace(m.Origin) == "":
		msg.Origin = DefaultMessageOrigin
	default:
		msg.Origin = strings.TrimSpace(m.Origin)
	}
	defer h.popMsgs.changed() // after the save, which another pop may not read before
	if err := h.store.SaveWorkerMessage(ctx, msg); err != nil {
		if errors.Is(err, ErrNotFound) || IsKind(err, KindNotFound) {
			return WorkerMessage{}, NotFoundf("WorkerNotFound", "no worker has id %s", QuoteInput(m.WorkerID))
		}
		return WorkerMessage{}, fmt.Errorf("save worker message: %w", err)
	}
	h.log.Info("worker message sent", "message", msg.ID, "worker", msg.WorkerID, "to", msg.UserID, "by", by.ID)
	return msg, nil
}

// WorkerMessages lists messages, MessagesPerPage a page (from 1). A
// moderator sees everyone's, or one user's with userID; anyone else only
// those they read (KindForbidden, naming user_id, for another user's).
func (h *Horde) WorkerMessages(ctx context.Context, by User, userID *int64, workerID string, validity MessageValidity, page int) ([]WorkerMessage, error) {
	if by.Anonymous() {
		return nil, Errorf(KindForbidden, "AnonForbidden", "the anonymous user has no worker messages")
	}
	switch validity {
	case "":
		validity = MessagesActive
	case MessagesActive, MessagesExpired, MessagesAll:
	default:
		return nil, Invalidf("validity", "validity must be one of active, expired, all, not %s", QuoteInput(string(validity)))
	}
	if !by.Moderator {
		if userID != nil && *userID != by.ID {
			return nil, &Error{Kind: KindForbidden, Code: "Forbidden", Field: "user_id", Message: "you can only view your own messages"}
		}
		userID = &by.ID
	}
	page = max(page, 1)
	ms, err := h.store.WorkerMessages(ctx, MessageQuery{
		UserID: userID, WorkerID: workerID, Validity: validity, Now: h.clock.Now(),
		Offset: (page - 1) * MessagesPerPage, Limit: MessagesPerPage,
	})
	if err != nil {
		return nil, fmt.Errorf("list worker messages: %w", err)
	}
	return ms, nil
}

// WorkerMessage returns one message by id (its id is the secret, as on the
// AI Horde); KindNotFound if none.
func (h *Horde) WorkerMessage(ctx context.Context, id string) (WorkerMessage, error) {
	m, err := h.store.WorkerMessage(ctx, id)
	if notFound(err) {
		return WorkerMessage{}, NotFoundf("WorkermessageNotFound", "no worker message has id %s", QuoteInput(id))
	}
	if err != nil {
		return WorkerMessage{}, fmt.Errorf("read worker message %s: %w", id, err)
	}
	return m, nil
}

// DeleteWorkerMessage deletes a message; the user who reads it or a
// moderator may (KindForbidden otherwise); KindNotFound if none.
func (h *Horde) DeleteWorkerMessage(ctx context.Context, by User, id string) error {
	m, err := h.WorkerMessage(ctx, id)
	if err != nil {
		return err
	}
	if (m.UserID != by.ID || by.Anonymous()) && !by.Moderator {
		return Errorf(KindForbidden, "Forbidden", "you can only delete your own messages")
	}
	defer h.popMsgs.changed()
	err = h.store.DeleteWorkerMessage(ctx, id)
	if notFound(err) {
		return NotFoundf("WorkermessageNotFound", "no worker message has id %s", QuoteInput(id))
	}
	if err != nil {
		return fmt.Errorf("delete worker message %s: %w", id, err)
	}
	return nil
}

// ActiveWorkerMessages returns the messages a worker's pop answer and its
// owner's view of the worker carry, as the AI Horde's
// get_all_active_worker_messages: those to this worker and those to no
// worker in particular, not expired, oldest first, at most MessagesPerPage.
// Every pop reads them: they come from a cache (PopMessagesFor) that the
// messages posted and deleted here clear. The caller must not modify them.
func (h *Horde) ActiveWorkerMessages(ctx context.Context, workerID string) ([]WorkerMessage, error) {
	now := h.clock.Now()
	ms, ok, gen := h.popMsgs.get(workerID, now)
	if ok {
		return ms, nil
	}
	ms, err := h.store.WorkerMessages(ctx, MessageQuery{
		WorkerID: workerID, ToNoWorkerToo: true, Validity: MessagesActive, Now: now, Limit: MessagesPerPage,
	})
	if err != nil {
		return nil, fmt.Errorf("active messages of worker %s: %w", workerID, err)
	}
	h.popMsgs.put(workerID, ms, now, gen)
	return ms, nil
}

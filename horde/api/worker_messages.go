package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/hordebot/hordebot/horde"
	"github.com/hordebot/hordebot/horde/aihorde"
)

// rfc822 is how flask-restx writes the AI Horde's DateTime fields
// (email.utils.formatdate): always in UTC, with "-0000".
const rfc822 = "Mon, 02 Jan 2006 15:04:05 -0000"

func workerMessageOf(m horde.WorkerMessage) aihorde.WorkerMessage {
	return aihorde.WorkerMessage{
		ID: m.ID, Message: m.Message, Origin: m.Origin, WorkerID: m.WorkerID,
		UserID:  strconv.FormatInt(m.UserID, 10),
		Expiry:  m.Expiry.UTC().Format(rfc822),
		Created: m.CreatedAt.UTC().Format(rfc822),
	}
}

// workerMessages lists worker messages, 50 a page, as the AI Horde's GET
// /workers/messages: a user sees the messages to their workers (and those
// to no worker in particular); a moderator everyone's, or one user's with
// ?user_id=. ?worker_id= and ?validity=active|expired|all filter them.
func (s *server) workerMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var userID *int64
	if v := q.Get("user_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.writeError(w, r, horde.Invalidf("user_id", "user_id must be a user's number, not %s", horde.QuoteInput(v)))
			return
		}
		userID = &n
	}
	page := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.writeError(w, r, horde.Invalidf("page", "page must be a whole number from 1, not %s", horde.QuoteInput(v)))
			return
		}
		page = n
	}
	by, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ms, err := s.h.WorkerMessages(r.Context(), by, userID, q.Get("worker_id"), horde.MessageValidity(q.Get("validity")), page)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]aihorde.WorkerMessage, 0, len(ms))
	for _, m := range ms {
		out = append(out, workerMessageOf(m))
	}
	s.ok(w, out)
}

// postWorkerMessage sends a message to a worker's owner, as the AI Horde's
// POST /workers/messages: moderators to any worker, with an origin of their
// choosing; owners to their own workers.
func (s *server) postWorkerMessage(w http.ResponseWriter, r *http.Request) {
	var b aihorde.WorkerMessageInput
	if _, err := s.decodeBody(w, r, s.bodyLimit(limitSmall), &b); err != nil {
		s.writeError(w, r, err)
		return
	}
	var c check
	if b.Message == nil {
		c.fail("message", "message is required")
	} else {
		c.text("message", *b.Message, true, horde.MaxWorkerMessageLength)
	}
	if b.Origin != nil {
		c.text("origin", *b.Origin, true, horde.MaxMessageOriginLength)
	}
	hours := valueOr(b.Expiry, int(horde.DefaultMessageExpiry/time.Hour))
	c.intRange("expiry", hours, aihorde.MinMessageExpiryHours, aihorde.MaxMessageExpiryHours)
	if c.err != nil {
		s.writeError(w, r, c.err)
		return
	}
	by, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.h.PostWorkerMessage(r.Context(), by, horde.NewWorkerMessage{
		WorkerID: valueOr(b.WorkerID, ""), Message: *b.Message, Origin: valueOr(b.Origin, ""),
		Expiry: time.Duration(hours) * time.Hour,
	})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, workerMessageOf(m))
}

// workerMessage answers one message by id; as on the AI Horde it needs no
// key (the id is the secret).
func (s *server) workerMessage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "WorkermessageNotFound", "worker message")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	m, err := s.h.WorkerMessage(r.Context(), id)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, workerMessageOf(m))
}

// deleteWorkerMessage deletes a message: its reader or a moderator may.
func (s *server) deleteWorkerMessage(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id", "WorkermessageNotFound", "worker message")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	by, err := s.requestUser(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.h.DeleteWorkerMessage(r.Context(), by, id); err != nil {
		s.writeError(w, r, err)
		return
	}
	s.ok(w, aihorde.SimpleResponse{Message: "OK"})
}

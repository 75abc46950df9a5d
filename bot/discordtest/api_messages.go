package discordtest

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/bwmarrin/discordgo"
)

// channelFor finds the route's channel. Callers hold s.mu.
func (s *Server) channelFor(r *http.Request) (*channelState, *apiError) {
	cs, ok := s.channels[r.PathValue("channel")]
	if !ok {
		return nil, errUnknownChannel
	}
	return cs, nil
}

// messageFor finds the route's channel and message. Callers hold s.mu.
func (s *Server) messageFor(r *http.Request) (*channelState, *storedMessage, *apiError) {
	cs, aerr := s.channelFor(r)
	if aerr != nil {
		return nil, nil, aerr
	}
	m, ok := cs.byID[r.PathValue("message")]
	if !ok {
		return nil, nil, errUnknownMessage
	}
	return cs, m, nil
}

// dmBlockedLocked reports whether the channel is a DM with a user who closed DMs.
func (s *Server) dmBlockedLocked(cs *channelState) bool {
	if cs.ch.Type != discordgo.ChannelTypeDM {
		return false
	}
	for _, u := range cs.ch.Recipients {
		if us, ok := s.users[u.ID]; ok && us.dmsClosed {
			return true
		}
	}
	return false
}

func (s *Server) createChannelMessage(r *http.Request, in *reqBody) (any, *apiError) {
	d, aerr := s.decodeNewMessage(in)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, aerr := s.channelFor(r)
	if aerr != nil {
		return nil, aerr
	}
	if s.dmBlockedLocked(cs) {
		return nil, errCannotDM
	}
	// Only SUPPRESS_EMBEDS and SUPPRESS_NOTIFICATIONS can be set on a new channel message.
	if d.p.Flags != nil {
		f := *d.p.Flags & (discordgo.MessageFlagsSuppressEmbeds | discordgo.MessageFlagsSuppressNotifications)
		d.p.Flags = &f
	}
	m, aerr := s.newMessageLocked(cs, s.bot, d, discordgo.MessageTypeDefault)
	if aerr != nil {
		return nil, aerr
	}
	return s.answerMessageLocked("MESSAGE_CREATE", cs, m)
}

// answerMessageLocked dispatches a created or updated message and returns its JSON.
func (s *Server) answerMessageLocked(event string, cs *channelState, m *storedMessage) (any, *apiError) {
	s.bumpLocked()
	if err := s.dispatchMessageLocked(event, cs, m); err != nil && !errors.Is(err, ErrNoSession) {
		s.cfg.log.Warn("discordtest: dispatch", "type", event, "err", err)
	}
	return s.messageJSONLocked(m)
}

// messageJSONLocked answers with the message JSON as Discord sends it.
func (s *Server) messageJSONLocked(m *storedMessage) (any, *apiError) {
	raw, err := s.messageWireLocked(m)
	if err != nil {
		return nil, &apiError{Status: http.StatusInternalServerError, Message: err.Error()}
	}
	return raw, nil
}

// removeMessageLocked deletes a message from its channel, wakes the waiters
// and sends the bot MESSAGE_DELETE. It answers with no body.
func (s *Server) removeMessageLocked(cs *channelState, m *storedMessage) (any, *apiError) {
	s.deleteMessageLocked(cs, m.msg.ID)
	s.bumpLocked()
	if err := s.dispatchDeleteLocked(cs, m); err != nil && !errors.Is(err, ErrNoSession) {
		s.cfg.log.Warn("discordtest: dispatch delete", "err", err)
	}
	return nil, nil
}

// listMessages answers GET /channels/{channel}/messages, newest first, with
// limit (1-100, default 50) and before/after/around.
func (s *Server) listMessages(r *http.Request, _ *reqBody) (any, *apiError) {
	q := r.URL.Query()
	limit := 50
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return nil, errInvalidForm("limit", "int value should be between 1 and 100")
		}
		limit = n
	}
	before, _ := strconv.ParseUint(q.Get("before"), 10, 64)
	after, _ := strconv.ParseUint(q.Get("after"), 10, 64)
	around, _ := strconv.ParseUint(q.Get("around"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, aerr := s.channelFor(r)
	if aerr != nil {
		return nil, aerr
	}
	var picked []*storedMessage // oldest first
	switch {
	case around != 0:
		i := slices.IndexFunc(cs.messages, func(m *storedMessage) bool { return idNum(m.msg.ID) >= around })
		if i < 0 {
			i = len(cs.messages)
		}
		lo := max(0, i-limit/2)
		hi := min(len(cs.messages), lo+limit)
		picked = cs.messages[lo:hi]
	case after != 0:
		for _, m := range cs.messages {
			if idNum(m.msg.ID) > after && len(picked) < limit {
				picked = append(picked, m)
			}
		}
	default:
		for i := len(cs.messages) - 1; i >= 0 && len(picked) < limit; i-- {
			if before == 0 || idNum(cs.messages[i].msg.ID) < before {
				picked = append([]*storedMessage{cs.messages[i]}, picked...)
			}
		}
	}
	out := make([]any, 0, len(picked))
	for i := len(picked) - 1; i >= 0; i-- {
		raw, aerr := s.messageJSONLocked(picked[i])
		if aerr != nil {
			return nil, aerr
		}
		out = append(out, raw)
	}
	return out, nil
}

func idNum(id string) uint64 {
	n, _ := strconv.ParseUint(id, 10, 64)
	return n
}

func (s *Server) getChannelMessage(r *http.Request, _ *reqBody) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m, aerr := s.messageFor(r)
	if aerr != nil {
		return nil, aerr
	}
	return s.messageJSONLocked(m)
}

func (s *Server) editChannelMessage(r *http.Request, in *reqBody) (any, *apiError) {
	d, aerr := s.decodeMessagePayload(in.json, in.files)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, m, aerr := s.messageFor(r)
	if aerr != nil {
		return nil, aerr
	}
	if m.msg.Author == nil || m.msg.Author.ID != s.bot.ID {
		return nil, errNotAuthor
	}
	if aerr := s.editMessageLocked(m, d); aerr != nil {
		return nil, aerr
	}
	return s.answerMessageLocked("MESSAGE_UPDATE", cs, m)
}

func (s *Server) deleteChannelMessage(r *http.Request, _ *reqBody) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, m, aerr := s.messageFor(r)
	if aerr != nil {
		return nil, aerr
	}
	return s.removeMessageLocked(cs, m)
}

// putReaction answers PUT .../reactions/{emoji}/@me.
func (s *Server) putReaction(r *http.Request, _ *reqBody) (any, *apiError) {
	if r.PathValue("user") != "@me" {
		return nil, errNotFoundRoute
	}
	return s.changeReaction(r, s.botID(), true)
}

// deleteReaction answers DELETE .../reactions/{emoji}/{user} (@me or a user id).
func (s *Server) deleteReaction(r *http.Request, _ *reqBody) (any, *apiError) {
	user := r.PathValue("user")
	if user == "@me" {
		user = s.botID()
	}
	return s.changeReaction(r, user, false)
}

func (s *Server) botID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bot.ID
}

func (s *Server) changeReaction(r *http.Request, userID string, add bool) (any, *apiError) {
	if _, err := parseEmoji(r.PathValue("emoji")); err != nil {
		return nil, errUnknownEmoji
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, _, aerr := s.messageFor(r); aerr != nil {
		return nil, aerr
	}
	if _, ok := s.users[userID]; !ok {
		return nil, errUnknownUser
	}
	err := s.reactLocked(r.PathValue("channel"), r.PathValue("message"), userID, r.PathValue("emoji"), add)
	if err != nil && !errors.Is(err, ErrNoSession) {
		return nil, &apiError{Status: http.StatusBadRequest, Message: err.Error()}
	}
	return nil, nil
}

// listReactions answers GET .../reactions/{emoji}?limit=&after= with the users
// who reacted, in user id order.
func (s *Server) listReactions(r *http.Request, _ *reqBody) (any, *apiError) {
	e, err := parseEmoji(r.PathValue("emoji"))
	if err != nil {
		return nil, errUnknownEmoji
	}
	limit := 25
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return nil, errInvalidForm("limit", "int value should be between 1 and 100")
		}
		limit = n
	}
	after, _ := strconv.ParseUint(r.URL.Query().Get("after"), 10, 64)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, m, aerr := s.messageFor(r)
	if aerr != nil {
		return nil, aerr
	}
	var ids []uint64
	for _, rs := range m.reactions {
		if emojiKey(rs.emoji) == emojiKey(e) {
			for _, u := range rs.users {
				if n := idNum(u); n > after {
					ids = append(ids, n)
				}
			}
		}
	}
	slices.Sort(ids)
	out := []*discordgo.User{}
	for _, n := range ids {
		if len(out) == limit {
			break
		}
		if us, ok := s.users[strconv.FormatUint(n, 10)]; ok {
			u := us.user
			out = append(out, &u)
		}
	}
	return out, nil
}

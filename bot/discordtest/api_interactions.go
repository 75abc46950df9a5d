package discordtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/bwmarrin/discordgo"
)

// InteractionCallback is the bot's answer to POST /interactions/{id}/{token}/callback.
type InteractionCallback struct {
	Type discordgo.InteractionResponseType
	// Data is the raw "data" object.
	Data json.RawMessage
	// Files uploaded with the callback.
	Files []File
	// Choices of an autocomplete result.
	Choices []*discordgo.ApplicationCommandOptionChoice
	// CustomID and Title of a modal.
	CustomID string
	Title    string
	// Flags of a message response (64 = ephemeral).
	Flags discordgo.MessageFlags
}

// Callback returns the interaction's callback once the bot has sent one.
func (s *Server) Callback(token string) (InteractionCallback, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.callbackLocked(token)
}

func (s *Server) callbackLocked(token string) (InteractionCallback, bool) {
	st, ok := s.interactions[token]
	if !ok || !st.acked {
		return InteractionCallback{}, false
	}
	cb := InteractionCallback{Type: st.callbackType, Data: slices.Clone(st.callbackData)}
	var d struct {
		Choices  []*discordgo.ApplicationCommandOptionChoice `json:"choices"`
		CustomID string                                      `json:"custom_id"`
		Title    string                                      `json:"title"`
		Flags    discordgo.MessageFlags                      `json:"flags"`
	}
	if present(st.callbackData) && json.Unmarshal(st.callbackData, &d) == nil {
		cb.Choices, cb.CustomID, cb.Title, cb.Flags = d.Choices, d.CustomID, d.Title, d.Flags
	}
	for _, r := range s.records {
		if r.Params["token"] == token && r.Route == "POST /interactions/{id}/{token}/callback" && r.Status < 300 {
			cb.Files = slices.Clone(r.Files)
		}
	}
	return cb, true
}

// WaitForCallback waits until the bot has answered the interaction.
func (s *Server) WaitForCallback(ctx context.Context, token string) (InteractionCallback, error) {
	var cb InteractionCallback
	err := s.waitState(ctx, "callback of interaction", func() bool {
		var ok bool
		cb, ok = s.callbackLocked(token)
		return ok
	})
	return cb, err
}

// WaitForReply waits for the text the interaction's user finally sees, and
// whether only they see it: the callback's message, or, after a deferral,
// the first successful edit of the original response or follow-up.
func (s *Server) WaitForReply(ctx context.Context, token string) (content string, ephemeral bool, err error) {
	cb, err := s.WaitForCallback(ctx, token)
	if err != nil {
		return "", false, err
	}
	if cb.Type == discordgo.InteractionResponseChannelMessageWithSource {
		var d struct {
			Content string `json:"content"`
		}
		_ = json.Unmarshal(cb.Data, &d)
		return d.Content, cb.Flags&discordgo.MessageFlagsEphemeral != 0, nil
	}
	ephemeral = cb.Flags&discordgo.MessageFlagsEphemeral != 0
	rec, err := s.WaitFor(ctx, func(r Recorded) bool {
		return r.Params["token"] == token && r.Status < 300 &&
			(r.Route == "PATCH /webhooks/{app}/{token}/messages/{message}" || r.Route == "POST /webhooks/{app}/{token}")
	})
	if err != nil {
		return "", false, err
	}
	var d struct {
		Content string `json:"content"`
		Flags   int    `json:"flags"`
	}
	_ = json.Unmarshal(rec.JSON, &d)
	if rec.Route == "POST /webhooks/{app}/{token}" {
		ephemeral = d.Flags&int(discordgo.MessageFlagsEphemeral) != 0
	}
	return d.Content, ephemeral, nil
}

// Original returns the interaction's original response message (for a
// component interaction answered with an update, the component's message).
func (s *Server) Original(token string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.originalLocked(token)
}

func (s *Server) originalLocked(token string) (Message, bool) {
	st, ok := s.interactions[token]
	if !ok || st.originalID == "" {
		return Message{}, false
	}
	m, ok := s.channels[st.channelID].byID[st.originalID]
	if !ok {
		return Message{}, false
	}
	snap, err := s.snapshotLocked(m)
	return snap, err == nil
}

// WaitForOriginal waits until the interaction's original response exists and
// satisfies match (e.g. it has files, or it is no longer loading).
func (s *Server) WaitForOriginal(ctx context.Context, token string, match func(Message) bool) (Message, error) {
	var got Message
	err := s.waitState(ctx, "original response", func() bool {
		m, ok := s.originalLocked(token)
		if ok && match(m) {
			got = m
			return true
		}
		return false
	})
	return got, err
}

// Followups returns the interaction's follow-up messages still stored.
func (s *Server) Followups(token string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.interactions[token]
	if !ok {
		return nil
	}
	var out []Message
	for _, id := range st.followups {
		if m, ok := s.channels[st.channelID].byID[id]; ok {
			if snap, err := s.snapshotLocked(m); err == nil {
				out = append(out, snap)
			}
		}
	}
	return out
}

// ExpireInteraction ends an interaction's token as 15 minutes passing would:
// later callbacks answer 404 (10062) and webhook calls 401 (50027).
func (s *Server) ExpireInteraction(token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.interactions[token]
	if !ok {
		return fmt.Errorf("expire interaction: %w", ErrNotFound)
	}
	st.expired = true
	s.bumpLocked()
	return nil
}

// interactionCallback answers POST /interactions/{id}/{token}/callback.
func (s *Server) interactionCallback(r *http.Request, in *reqBody) (any, *apiError) {
	var p struct {
		Type discordgo.InteractionResponseType `json:"type"`
		Data json.RawMessage                   `json:"data"`
	}
	if err := json.Unmarshal(orEmpty(in.json), &p); err != nil {
		return nil, errInvalidForm("type", err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.interactions[r.PathValue("token")]
	if !ok || st.expired || st.id != r.PathValue("id") {
		return nil, errUnknownInteract
	}
	if st.acked {
		return nil, errAlreadyAcked
	}
	return nil, s.applyCallbackLocked(st, p.Type, p.Data, in.files)
}

// applyCallbackLocked makes an interaction's initial response happen: a
// message posted, a message updated, choices or a modal shown. It answers
// the callback route and, for interactions delivered by HTTP, the bot's
// HTTP answer. Callers hold s.mu and checked that st is not acknowledged.
func (s *Server) applyCallbackLocked(st *interactionState, typ discordgo.InteractionResponseType, data json.RawMessage, files []File) *apiError {
	p := struct {
		Type discordgo.InteractionResponseType
		Data json.RawMessage
	}{typ, data}
	cs := s.channels[st.channelID]
	isCommand := st.typ == discordgo.InteractionApplicationCommand
	isComponent := st.typ == discordgo.InteractionMessageComponent || (st.typ == discordgo.InteractionModalSubmit && st.messageID != "")
	bad := func(msg string) *apiError { return errInvalidForm("type", msg) }

	switch p.Type {
	case discordgo.InteractionResponseChannelMessageWithSource, discordgo.InteractionResponseDeferredChannelMessageWithSource:
		if st.typ == discordgo.InteractionApplicationCommandAutocomplete || st.typ == discordgo.InteractionPing {
			return bad("Interaction type does not allow a message response")
		}
		d, aerr := s.decodeMessagePayload(p.Data, files)
		if aerr != nil {
			return aerr
		}
		flags := discordgo.MessageFlags(0)
		if d.p.Flags != nil {
			flags = *d.p.Flags & (discordgo.MessageFlagsEphemeral | discordgo.MessageFlagsSuppressEmbeds | discordgo.MessageFlagsSuppressNotifications)
		}
		if p.Type == discordgo.InteractionResponseDeferredChannelMessageWithSource {
			// A deferred response shows "thinking..." until the bot edits @original.
			d = &decoded{p: messagePayload{}}
			flags |= discordgo.MessageFlagsLoading
		} else if d.empty() {
			return errEmptyMessage
		}
		d.p.Flags = &flags
		d.p.MessageReference = nil
		typ := discordgo.MessageTypeDefault
		if isCommand {
			typ = discordgo.MessageTypeChatInputCommand
		}
		m, aerr := s.newMessageLocked(cs, s.bot, d, typ)
		if aerr != nil {
			return aerr
		}
		s.markInteractionMessage(st, m)
		st.originalID = m.msg.ID
		if err := s.dispatchMessageLocked("MESSAGE_CREATE", cs, m); err != nil && !errors.Is(err, ErrNoSession) {
			s.cfg.log.Warn("discordtest: dispatch", "err", err)
		}
	case discordgo.InteractionResponseDeferredMessageUpdate:
		if !isComponent {
			return bad("Only component interactions can defer a message update")
		}
		st.originalID = st.messageID
	case discordgo.InteractionResponseUpdateMessage:
		if !isComponent {
			return bad("Only component interactions can update a message")
		}
		d, aerr := s.decodeMessagePayload(p.Data, files)
		if aerr != nil {
			return aerr
		}
		m, ok := cs.byID[st.messageID]
		if !ok {
			return errUnknownMessage
		}
		if aerr := s.editMessageLocked(m, d); aerr != nil {
			return aerr
		}
		st.originalID = st.messageID
		if err := s.dispatchMessageLocked("MESSAGE_UPDATE", cs, m); err != nil && !errors.Is(err, ErrNoSession) {
			s.cfg.log.Warn("discordtest: dispatch", "err", err)
		}
	case discordgo.InteractionApplicationCommandAutocompleteResult:
		if st.typ != discordgo.InteractionApplicationCommandAutocomplete {
			return bad("Only autocomplete interactions take choices")
		}
		var d struct {
			Choices []json.RawMessage `json:"choices"`
		}
		if err := json.Unmarshal(orEmpty(p.Data), &d); err != nil {
			return errInvalidForm("data.choices", err.Error())
		}
		if len(d.Choices) > 25 {
			return errInvalidForm("data.choices", "Must be 25 or fewer in length.")
		}
	case discordgo.InteractionResponseModal:
		if st.typ == discordgo.InteractionModalSubmit || st.typ == discordgo.InteractionApplicationCommandAutocomplete {
			return bad("A modal cannot answer this interaction")
		}
		var d struct {
			CustomID   string            `json:"custom_id"`
			Title      string            `json:"title"`
			Components []json.RawMessage `json:"components"`
		}
		if err := json.Unmarshal(orEmpty(p.Data), &d); err != nil || d.CustomID == "" || d.Title == "" || len(d.Components) == 0 || len(d.Components) > 5 {
			return errInvalidForm("data", "A modal needs custom_id, title and 1-5 components")
		}
	case discordgo.InteractionResponsePong:
		if st.typ != discordgo.InteractionPing {
			return bad("PONG only answers PING")
		}
	default:
		return bad(fmt.Sprintf("Value %d is not a valid interaction callback type", p.Type))
	}
	st.acked = true
	st.callbackType = p.Type
	st.callbackData = slices.Clone(p.Data)
	s.bumpLocked()
	return nil
}

// markInteractionMessage fills the fields Discord sets on interaction replies.
func (s *Server) markInteractionMessage(st *interactionState, m *storedMessage) {
	m.interactionToken = st.token
	m.msg.WebhookID = s.cfg.appID
	user := s.users[st.userID].user
	m.msg.Interaction = &discordgo.MessageInteraction{ID: st.id, Type: st.typ, Name: st.commandName, User: &user}
	m.msg.InteractionMetadata = &discordgo.MessageInteractionMetadata{
		ID:   st.id,
		Type: st.typ,
		User: &user,
	}
}

// webhookInteraction finds the interaction behind /webhooks/{app}/{token}.
// Callers hold s.mu.
func (s *Server) webhookInteraction(r *http.Request) (*interactionState, *apiError) {
	st, ok := s.interactions[r.PathValue("token")]
	if !ok || r.PathValue("app") != s.cfg.appID {
		return nil, errUnknownWebhook
	}
	if st.expired {
		return nil, errInvalidWebhook
	}
	if !st.acked {
		return nil, errUnknownWebhook
	}
	return st, nil
}

// webhookMessage finds the message named by {message} (@original, or a
// follow-up) of the route's interaction. Callers hold s.mu.
func (s *Server) webhookMessage(r *http.Request) (*interactionState, *channelState, *storedMessage, *apiError) {
	st, aerr := s.webhookInteraction(r)
	if aerr != nil {
		return nil, nil, nil, aerr
	}
	id := r.PathValue("message")
	if id == "@original" {
		id = st.originalID
	} else if !slices.Contains(st.followups, id) && id != st.originalID {
		return nil, nil, nil, errUnknownMessage
	}
	cs := s.channels[st.channelID]
	m, ok := cs.byID[id]
	if !ok {
		return nil, nil, nil, errUnknownMessage
	}
	return st, cs, m, nil
}

// executeWebhook answers POST /webhooks/{app}/{token}: an interaction follow-up.
func (s *Server) executeWebhook(r *http.Request, in *reqBody) (any, *apiError) {
	d, aerr := s.decodeNewMessage(in)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	st, aerr := s.webhookInteraction(r)
	if aerr != nil {
		return nil, aerr
	}
	cs := s.channels[st.channelID]
	flags := discordgo.MessageFlags(0)
	if d.p.Flags != nil {
		flags = *d.p.Flags & (discordgo.MessageFlagsEphemeral | discordgo.MessageFlagsSuppressEmbeds | discordgo.MessageFlagsSuppressNotifications)
	}
	d.p.Flags = &flags
	m, aerr := s.newMessageLocked(cs, s.bot, d, discordgo.MessageTypeDefault)
	if aerr != nil {
		return nil, aerr
	}
	s.markInteractionMessage(st, m)
	st.followups = append(st.followups, m.msg.ID)
	out, aerr := s.answerMessageLocked("MESSAGE_CREATE", cs, m)
	if aerr != nil || r.URL.Query().Get("wait") != "true" {
		return nil, aerr
	}
	return out, nil
}

func (s *Server) getWebhookMessage(r *http.Request, _ *reqBody) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _, m, aerr := s.webhookMessage(r)
	if aerr != nil {
		return nil, aerr
	}
	return s.messageJSONLocked(m)
}

func (s *Server) editWebhookMessage(r *http.Request, in *reqBody) (any, *apiError) {
	d, aerr := s.decodeMessagePayload(in.json, in.files)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, cs, m, aerr := s.webhookMessage(r)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := s.editMessageLocked(m, d); aerr != nil {
		return nil, aerr
	}
	return s.answerMessageLocked("MESSAGE_UPDATE", cs, m)
}

func (s *Server) deleteWebhookMessage(r *http.Request, _ *reqBody) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, cs, m, aerr := s.webhookMessage(r)
	if aerr != nil {
		return nil, aerr
	}
	return s.removeMessageLocked(cs, m)
}

// InteractionSent returns the interaction as it was dispatched to the bot.
func (s *Server) InteractionSent(token string) (*discordgo.Interaction, bool) {
	s.mu.Lock()
	st, ok := s.interactions[token]
	var raw json.RawMessage
	if ok {
		raw = slices.Clone(st.wire)
	}
	s.mu.Unlock()
	if !ok {
		return nil, false
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(raw, &i); err != nil {
		s.cfg.log.Error("discordtest: decode sent interaction", "err", err)
		return nil, false
	}
	return &i, true
}

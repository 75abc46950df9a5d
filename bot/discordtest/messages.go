package discordtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	_ "image/gif"  // attachment dimensions
	_ "image/jpeg" // attachment dimensions
	_ "image/png"  // attachment dimensions
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// Discord limits the fake enforces on messages.
const (
	maxContentRunes = 2000
	maxEmbeds       = 10
	maxFiles        = 10
	maxActionRows   = 5
)

// File is an uploaded file with its bytes: a part of a multipart request
// (Field is "files[n]") or the stored attachment of a message.
type File struct {
	Field       string
	Name        string
	ContentType string
	Data        []byte
}

// Message is a snapshot of a stored message: discordgo's view of it (with
// components and reactions decoded) plus the bytes of its attachments, in the
// same order as Attachments.
type Message struct {
	discordgo.Message
	Files []File
}

// Buttons returns the message's buttons in the order Discord shows them:
// row by row, left to right.
func (m Message) Buttons() []*discordgo.Button {
	var out []*discordgo.Button
	for _, row := range m.Components {
		if r, ok := row.(*discordgo.ActionsRow); ok {
			for _, c := range r.Components {
				if b, ok := c.(*discordgo.Button); ok {
					out = append(out, b)
				}
			}
		}
	}
	return out
}

// storedMessage is a message as the fake keeps it. Components stay raw JSON
// because discordgo.Message does not marshal them.
type storedMessage struct {
	msg              discordgo.Message // Components and Reactions unused
	components       json.RawMessage
	files            []File // aligned with msg.Attachments
	reactions        []*reactionState
	interactionToken string // set on interaction responses and follow-ups
}

type reactionState struct {
	emoji discordgo.Emoji
	users []string
}

// messagePayload is the body a bot sends to create or edit a message, on
// channel, webhook and interaction-callback routes. RawMessage fields tell
// "absent" (nil) from "null".
type messagePayload struct {
	Content          *string                     `json:"content"`
	Embeds           json.RawMessage             `json:"embeds"`
	Components       json.RawMessage             `json:"components"`
	Flags            *discordgo.MessageFlags     `json:"flags"`
	Attachments      json.RawMessage             `json:"attachments"`
	MessageReference *discordgo.MessageReference `json:"message_reference"`
	TTS              bool                        `json:"tts"`
}

type attachmentRef struct {
	ID          json.RawMessage `json:"id"`
	Filename    string          `json:"filename"`
	Description string          `json:"description"`
}

func present(r json.RawMessage) bool { return len(r) > 0 && string(r) != "null" }

// decoded is a validated message payload.
type decoded struct {
	p          messagePayload
	embeds     []*discordgo.MessageEmbed
	components json.RawMessage
	keep       map[string]bool // attachment ids to keep on edit; nil keeps all
	files      []File
}

// decodeMessagePayload parses and validates a message body and its files.
func (s *Server) decodeMessagePayload(raw json.RawMessage, files []File) (*decoded, *apiError) {
	d := &decoded{files: files}
	if present(raw) {
		if err := json.Unmarshal(raw, &d.p); err != nil {
			return nil, errInvalidForm("body", err.Error())
		}
	}
	if d.p.Content != nil && utf8.RuneCountInString(*d.p.Content) > maxContentRunes {
		return nil, errInvalidForm("content", fmt.Sprintf("Must be %d or fewer in length.", maxContentRunes))
	}
	if present(d.p.Embeds) {
		if err := json.Unmarshal(d.p.Embeds, &d.embeds); err != nil {
			return nil, errInvalidForm("embeds", err.Error())
		}
		if len(d.embeds) > maxEmbeds {
			return nil, errInvalidForm("embeds", fmt.Sprintf("Must be %d or fewer in length.", maxEmbeds))
		}
	} else if d.p.Embeds != nil {
		d.embeds = []*discordgo.MessageEmbed{}
	}
	if d.p.Components != nil {
		var rows []json.RawMessage
		if present(d.p.Components) {
			if err := json.Unmarshal(d.p.Components, &rows); err != nil {
				return nil, errInvalidForm("components", err.Error())
			}
			// Decoding through discordgo proves the components are ones it understands.
			var probe discordgo.Message
			if err := json.Unmarshal([]byte(`{"components":`+string(d.p.Components)+`}`), &probe); err != nil {
				return nil, errInvalidForm("components", err.Error())
			}
		}
		if len(rows) > maxActionRows {
			return nil, errInvalidForm("components", fmt.Sprintf("Must be %d or fewer in length.", maxActionRows))
		}
		d.components = json.RawMessage("[]")
		if len(rows) > 0 {
			d.components = slices.Clone(d.p.Components)
		}
	}
	if len(files) > maxFiles {
		return nil, errInvalidForm("files", fmt.Sprintf("Must be %d or fewer in length.", maxFiles))
	}
	for _, f := range files {
		if int64(len(f.Data)) > s.cfg.fileLimit {
			return nil, &apiError{Status: http.StatusRequestEntityTooLarge, Code: 40005, Message: "Request entity too large"}
		}
	}
	if present(d.p.Attachments) {
		var refs []attachmentRef
		if err := json.Unmarshal(d.p.Attachments, &refs); err != nil {
			return nil, errInvalidForm("attachments", err.Error())
		}
		d.keep = map[string]bool{}
		for _, r := range refs {
			d.keep[strings.Trim(string(r.ID), `"`)] = true
		}
	} else if d.p.Attachments != nil {
		d.keep = map[string]bool{}
	}
	return d, nil
}

// decodeNewMessage decodes the body of a request that creates a message,
// which must have something to show.
func (s *Server) decodeNewMessage(in *reqBody) (*decoded, *apiError) {
	d, aerr := s.decodeMessagePayload(in.json, in.files)
	if aerr != nil {
		return nil, aerr
	}
	if d.empty() {
		return nil, errEmptyMessage
	}
	return d, nil
}

// empty reports whether a new message would have nothing to show.
func (d *decoded) empty() bool {
	return (d.p.Content == nil || *d.p.Content == "") && len(d.embeds) == 0 && len(d.files) == 0 &&
		(len(d.components) == 0 || string(d.components) == "[]")
}

// newMessageLocked creates a message in a channel. It does not dispatch.
func (s *Server) newMessageLocked(cs *channelState, author discordgo.User, d *decoded, typ discordgo.MessageType) (*storedMessage, *apiError) {
	now := s.now()
	m := &storedMessage{msg: discordgo.Message{
		ID:           s.ids.next(now),
		ChannelID:    cs.ch.ID,
		GuildID:      cs.ch.GuildID,
		Timestamp:    now,
		Author:       &author,
		Type:         typ,
		TTS:          d.p.TTS,
		MentionRoles: []string{},
		Mentions:     []*discordgo.User{},
		Attachments:  []*discordgo.MessageAttachment{},
	}}
	m.msg.Embeds = d.embeds
	if m.msg.Embeds == nil {
		m.msg.Embeds = []*discordgo.MessageEmbed{}
	}
	if d.p.Content != nil {
		m.msg.Content = *d.p.Content
	}
	if d.p.Flags != nil {
		m.msg.Flags = *d.p.Flags
	}
	m.components = d.components
	if ref := d.p.MessageReference; ref != nil && ref.MessageID != "" {
		target, ok := cs.byID[ref.MessageID]
		if !ok {
			return nil, errInvalidForm("message_reference", "Unknown message")
		}
		m.msg.MessageReference = &discordgo.MessageReference{MessageID: ref.MessageID, ChannelID: cs.ch.ID, GuildID: cs.ch.GuildID}
		if m.msg.Type == discordgo.MessageTypeDefault {
			m.msg.Type = discordgo.MessageTypeReply
		}
		referenced := target.msg
		m.msg.ReferencedMessage = &referenced
	}
	s.attachFilesLocked(m, d.files)
	cs.messages = append(cs.messages, m)
	cs.byID[m.msg.ID] = m
	return m, nil
}

// attachFilesLocked stores files as new attachments of m.
func (s *Server) attachFilesLocked(m *storedMessage, files []File) {
	for _, f := range files {
		id := s.ids.next(s.now())
		name := f.Name
		if name == "" {
			name = "file"
		}
		stored := File{Name: name, ContentType: f.ContentType, Data: slices.Clone(f.Data)}
		a := &discordgo.MessageAttachment{
			ID:          id,
			Filename:    name,
			ContentType: f.ContentType,
			Size:        len(f.Data),
			URL:         s.url + "/attachments/" + m.msg.ChannelID + "/" + id + "/" + url.PathEscape(name),
			Ephemeral:   m.msg.Flags&discordgo.MessageFlagsEphemeral != 0,
		}
		a.ProxyURL = a.URL
		if cfg, _, err := image.DecodeConfig(bytes.NewReader(f.Data)); err == nil {
			a.Width, a.Height = cfg.Width, cfg.Height
		}
		m.msg.Attachments = append(m.msg.Attachments, a)
		m.files = append(m.files, stored)
		s.attachments[id] = stored
	}
}

// editMessageLocked applies an edit as Discord does: fields present replace,
// absent ones stay; attachments not listed in "attachments" are removed when
// that field is present; new files are appended.
func (s *Server) editMessageLocked(m *storedMessage, d *decoded) *apiError {
	if d.p.Content != nil {
		m.msg.Content = *d.p.Content
	}
	if d.p.Embeds != nil {
		m.msg.Embeds = d.embeds
	}
	if d.components != nil {
		m.components = d.components
	}
	if d.keep != nil {
		var atts []*discordgo.MessageAttachment
		var files []File
		for i, a := range m.msg.Attachments {
			if d.keep[a.ID] {
				atts = append(atts, a)
				files = append(files, m.files[i])
			}
		}
		m.msg.Attachments, m.files = atts, files
		if m.msg.Attachments == nil {
			m.msg.Attachments = []*discordgo.MessageAttachment{}
		}
	}
	s.attachFilesLocked(m, d.files)
	// The "thinking..." state of a deferred response ends with the first edit.
	m.msg.Flags &^= discordgo.MessageFlagsLoading
	now := s.now()
	m.msg.EditedTimestamp = &now
	if m.msg.Content == "" && len(m.msg.Embeds) == 0 && len(m.msg.Attachments) == 0 &&
		(len(m.components) == 0 || string(m.components) == "[]") {
		return &apiError{Status: http.StatusBadRequest, Code: 50006, Message: "Cannot send an empty message"}
	}
	return nil
}

// deleteMessageLocked removes a message from its channel.
func (s *Server) deleteMessageLocked(cs *channelState, id string) bool {
	if _, ok := cs.byID[id]; !ok {
		return false
	}
	delete(cs.byID, id)
	cs.messages = slices.DeleteFunc(cs.messages, func(m *storedMessage) bool { return m.msg.ID == id })
	return true
}

// messageWireLocked returns the message JSON as Discord sends it.
func (s *Server) messageWireLocked(m *storedMessage) (json.RawMessage, error) {
	msg := m.msg
	msg.Reactions = nil
	for _, r := range m.reactions {
		if len(r.users) == 0 {
			continue
		}
		e := r.emoji
		msg.Reactions = append(msg.Reactions, &discordgo.MessageReactions{
			Count: len(r.users),
			Me:    slices.Contains(r.users, s.bot.ID),
			Emoji: &e,
		})
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return nil, fmt.Errorf("discordtest: marshal message %s: %w", msg.ID, err)
	}
	components := m.components
	if len(components) == 0 {
		components = json.RawMessage("[]")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(b, &obj); err != nil {
		return nil, fmt.Errorf("discordtest: re-read message %s: %w", msg.ID, err)
	}
	obj["components"] = components
	out, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("discordtest: marshal message %s: %w", msg.ID, err)
	}
	return out, nil
}

// snapshotLocked returns a deep copy of a stored message.
func (s *Server) snapshotLocked(m *storedMessage) (Message, error) {
	raw, err := s.messageWireLocked(m)
	if err != nil {
		return Message{}, err
	}
	var out Message
	if err := json.Unmarshal(raw, &out.Message); err != nil {
		return Message{}, fmt.Errorf("discordtest: decode message %s: %w", m.msg.ID, err)
	}
	for _, f := range m.files {
		f.Data = slices.Clone(f.Data)
		out.Files = append(out.Files, f)
	}
	return out, nil
}

// Messages returns snapshots of the messages in a channel, oldest first.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.channels[channelID]
	if !ok {
		return nil
	}
	out := make([]Message, 0, len(cs.messages))
	for _, m := range cs.messages {
		snap, err := s.snapshotLocked(m)
		if err != nil {
			s.cfg.log.Error("discordtest: snapshot", "err", err)
			continue
		}
		out = append(out, snap)
	}
	return out
}

// Message returns a snapshot of one message.
func (s *Server) Message(channelID, messageID string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.channels[channelID]
	if !ok {
		return Message{}, false
	}
	m, ok := cs.byID[messageID]
	if !ok {
		return Message{}, false
	}
	snap, err := s.snapshotLocked(m)
	if err != nil {
		return Message{}, false
	}
	return snap, true
}

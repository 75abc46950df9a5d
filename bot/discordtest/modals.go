package discordtest

import (
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// Modal is a modal the bot showed in answer to an interaction (callback
// type 9): what the user's client draws.
type Modal struct {
	CustomID string
	Title    string
	Inputs   []discordgo.TextInput // in order, one per action row
}

// Input returns the text input with the custom id, if the modal has it.
func (m Modal) Input(customID string) (discordgo.TextInput, bool) {
	for _, in := range m.Inputs {
		if in.CustomID == customID {
			return in, true
		}
	}
	return discordgo.TextInput{}, false
}

// modalLocked is the modal the interaction was answered with.
func (s *Server) modalLocked(token string) (Modal, bool) {
	st, ok := s.interactions[token]
	if !ok || !st.acked || st.callbackType != discordgo.InteractionResponseModal {
		return Modal{}, false
	}
	var d struct {
		CustomID   string `json:"custom_id"`
		Title      string `json:"title"`
		Components []struct {
			Components []discordgo.TextInput `json:"components"`
		} `json:"components"`
	}
	if err := json.Unmarshal(st.callbackData, &d); err != nil {
		return Modal{}, false
	}
	m := Modal{CustomID: d.CustomID, Title: d.Title}
	for _, row := range d.Components {
		m.Inputs = append(m.Inputs, row.Components...)
	}
	return m, true
}

// WaitForModal waits until the bot answered the interaction with a modal;
// it fails when the bot answered it otherwise.
func (s *Server) WaitForModal(ctx context.Context, token string) (Modal, error) {
	cb, err := s.WaitForCallback(ctx, token)
	if err != nil {
		return Modal{}, err
	}
	if cb.Type != discordgo.InteractionResponseModal {
		return Modal{}, fmt.Errorf("discordtest: interaction answered with callback type %d, not a modal", cb.Type)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.modalLocked(token)
	if !ok {
		return Modal{}, fmt.Errorf("discordtest: the modal of the interaction does not decode")
	}
	return m, nil
}

// SubmitModal submits the modal the interaction was answered with, as its
// user filling in values (text input custom id -> text) and pressing
// Submit: a MODAL_SUBMIT interaction in the same channel (carrying the
// message when the modal answered a component). As Discord's client, it
// refuses what the modal does not allow: an unknown input, a required one
// left empty, a text outside its length bounds. Inputs not in values are
// sent with their prefilled value. It returns the new interaction's token.
func (s *Server) SubmitModal(token string, values map[string]string) (string, error) {
	s.mu.Lock()
	st, ok := s.interactions[token]
	if !ok {
		s.mu.Unlock()
		return "", fmt.Errorf("submit modal: interaction: %w", ErrNotFound)
	}
	m, ok := s.modalLocked(token)
	if !ok {
		s.mu.Unlock()
		return "", fmt.Errorf("submit modal: the interaction was not answered with a modal")
	}
	in := Interaction{Type: discordgo.InteractionModalSubmit, GuildID: st.guildID, ChannelID: st.channelID,
		UserID: st.userID, CustomID: m.CustomID, MessageID: st.messageID}
	s.mu.Unlock()
	for id := range values {
		if _, ok := m.Input(id); !ok {
			return "", fmt.Errorf("submit modal: the modal has no input %q", id)
		}
	}
	for _, ti := range m.Inputs {
		v, given := values[ti.CustomID]
		if !given {
			v = ti.Value
		}
		n := utf8.RuneCountInString(v)
		switch {
		case ti.Required && n == 0:
			return "", fmt.Errorf("submit modal: input %q is required", ti.CustomID)
		case n > 0 && ti.MinLength > 0 && n < ti.MinLength:
			return "", fmt.Errorf("submit modal: input %q needs at least %d characters", ti.CustomID, ti.MinLength)
		case ti.MaxLength > 0 && n > ti.MaxLength:
			return "", fmt.Errorf("submit modal: input %q takes at most %d characters", ti.CustomID, ti.MaxLength)
		}
		in.Fields = append(in.Fields, ModalField{CustomID: ti.CustomID, Value: v})
	}
	return s.SendInteraction(in)
}

package discordtest

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"
)

// interactionState is what the fake knows about one interaction.
type interactionState struct {
	id, token   string
	typ         discordgo.InteractionType
	channelID   string
	guildID     string
	userID      string
	commandName string
	messageID   string // the component's message
	wire        json.RawMessage

	acked        bool
	callbackType discordgo.InteractionResponseType
	callbackData json.RawMessage
	originalID   string
	followups    []string
	expired      bool
	// httpPending is open while the interaction's HTTP POST awaits its answer.
	httpPending chan struct{}
}

// SendInteraction dispatches INTERACTION_CREATE as if the user ran a command,
// clicked a component, typed in an autocompleted option or submitted a modal.
// It returns the interaction token, the key for InteractionResponses,
// Original and Callback.
//
// When an interactions endpoint is set (SetInteractionsEndpoint), the
// interaction is POSTed there, signed, in the background, as Discord does
// for an application with an Interactions Endpoint URL; the bot's HTTP
// answer is its initial response (see HTTPDeliveries).
func (s *Server) SendInteraction(in Interaction) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, err := s.newInteractionLocked(in)
	if err != nil {
		return "", err
	}
	if s.endpoint.url != "" {
		s.postInBackgroundLocked(st)
		return st.token, nil
	}
	if err := s.dispatchLocked(dispatch{typ: "INTERACTION_CREATE", data: st.wire, guild: st.guildID}); err != nil {
		return "", fmt.Errorf("send interaction: %w", err)
	}
	s.interactions[st.token] = st
	s.bumpLocked()
	return st.token, nil
}

// newInteractionLocked builds an interaction's state and wire JSON; it does
// not register or deliver it.
func (s *Server) newInteractionLocked(in Interaction) (*interactionState, error) {
	typ, err := in.inferType()
	if err != nil {
		return nil, err
	}
	u, ok := s.users[in.UserID]
	if !ok {
		return nil, fmt.Errorf("send interaction: user %q: %w", in.UserID, ErrNotFound)
	}
	now := s.now()
	st := &interactionState{id: s.ids.next(now), token: newToken(), typ: typ, guildID: in.GuildID, userID: in.UserID}
	wire := map[string]any{
		"id":                    st.id,
		"application_id":        s.cfg.appID,
		"type":                  typ,
		"token":                 st.token,
		"version":               1,
		"locale":                cmpOr(in.Locale, discordgo.EnglishUS),
		"app_permissions":       strconv.FormatInt(discordgo.PermissionAll, 10),
		"entitlements":          []any{},
		"attachment_size_limit": s.cfg.fileLimit,
	}
	var cs *channelState
	var gs *guildState
	if in.GuildID != "" {
		if gs, ok = s.guilds[in.GuildID]; !ok {
			return nil, fmt.Errorf("send interaction: guild %s: %w", in.GuildID, ErrNotFound)
		}
		m := s.memberJSONLocked(gs, in.UserID)
		if m == nil {
			return nil, fmt.Errorf("send interaction: user %s is not a member of guild %s: %w", in.UserID, in.GuildID, ErrNotFound)
		}
		if cs, ok = s.channels[in.ChannelID]; !ok || cs.ch.GuildID != in.GuildID {
			return nil, fmt.Errorf("send interaction: channel %q in guild %s: %w", in.ChannelID, in.GuildID, ErrNotFound)
		}
		wire["guild_id"] = in.GuildID
		wire["member"] = m
		wire["guild_locale"] = gs.guild.PreferredLocale
		wire["context"] = discordgo.InteractionContextGuild
		wire["authorizing_integration_owners"] = map[string]string{"0": in.GuildID}
	} else {
		if in.ChannelID == "" {
			if cs, err = s.dmChannelLocked(in.UserID); err != nil {
				return nil, err
			}
		} else if cs, ok = s.channels[in.ChannelID]; !ok || cs.ch.Type != discordgo.ChannelTypeDM {
			return nil, fmt.Errorf("send interaction: DM channel %q: %w", in.ChannelID, ErrNotFound)
		}
		user := u.user
		wire["user"] = &user
		wire["context"] = discordgo.InteractionContextBotDM
		wire["authorizing_integration_owners"] = map[string]string{"0": "0"}
	}
	st.channelID = cs.ch.ID
	wire["channel_id"] = cs.ch.ID
	wire["channel"] = s.channelJSONLocked(cs)

	switch typ {
	case discordgo.InteractionApplicationCommand, discordgo.InteractionApplicationCommandAutocomplete:
		data, err := s.commandDataLocked(in, gs, cs)
		if err != nil {
			return nil, err
		}
		st.commandName = in.Command
		wire["data"] = data
	case discordgo.InteractionMessageComponent:
		m, err := s.componentMessageLocked(cs, in.MessageID)
		if err != nil {
			return nil, err
		}
		st.messageID = in.MessageID
		wire["message"] = m
		wire["data"] = map[string]any{
			"custom_id":      in.CustomID,
			"component_type": cmpOr(in.ComponentType, discordgo.ButtonComponent),
			"values":         in.Values,
		}
	case discordgo.InteractionModalSubmit:
		if in.MessageID != "" {
			m, err := s.componentMessageLocked(cs, in.MessageID)
			if err != nil {
				return nil, err
			}
			st.messageID = in.MessageID
			wire["message"] = m
		}
		rows := make([]discordgo.MessageComponent, 0, len(in.Fields))
		for _, f := range in.Fields {
			rows = append(rows, discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.TextInput{CustomID: f.CustomID, Value: f.Value},
			}})
		}
		wire["data"] = map[string]any{"custom_id": in.CustomID, "components": rows}
	default:
		return nil, fmt.Errorf("discordtest: send interaction: unsupported type %d", typ)
	}
	raw, err := json.Marshal(wire)
	if err != nil {
		return nil, fmt.Errorf("discordtest: marshal interaction: %w", err)
	}
	st.wire = raw
	return st, nil
}

// commandDataLocked builds data for an application command, with the command
// id from the registered commands and resolved users, members, channels and roles.
func (s *Server) commandDataLocked(in Interaction, gs *guildState, cs *channelState) (map[string]any, error) {
	ctype := cmpOr(in.CommandType, discordgo.ChatApplicationCommand)
	// Guild commands shadow global ones; an unregistered command gets a fresh id.
	cmdID := ""
	for _, scope := range []string{in.GuildID, ""} {
		for _, c := range s.commands[scope] {
			if cmdID == "" && c.Name == in.Command && cmpOr(c.Type, discordgo.ChatApplicationCommand) == ctype {
				cmdID = c.ID
			}
		}
	}
	if cmdID == "" {
		cmdID = s.ids.next(s.now())
	}
	users := map[string]*discordgo.User{}
	members := map[string]*discordgo.Member{}
	channels := map[string]*discordgo.Channel{}
	roles := map[string]*discordgo.Role{}
	messages := map[string]json.RawMessage{}
	attachments := map[string]*discordgo.MessageAttachment{}
	addUser := func(id string) error {
		us, ok := s.users[id]
		if !ok {
			return fmt.Errorf("send interaction: resolved user %s: %w", id, ErrNotFound)
		}
		u := us.user
		users[id] = &u
		if gs != nil {
			if m := s.memberJSONLocked(gs, id); m != nil {
				m.User = nil
				members[id] = m
			}
		}
		return nil
	}
	var walk func([]*discordgo.ApplicationCommandInteractionDataOption) error
	walk = func(opts []*discordgo.ApplicationCommandInteractionDataOption) error {
		for _, o := range opts {
			id, _ := o.Value.(string)
			switch o.Type {
			case discordgo.ApplicationCommandOptionUser:
				if err := addUser(id); err != nil {
					return err
				}
			case discordgo.ApplicationCommandOptionChannel:
				c, ok := s.channels[id]
				if !ok {
					return fmt.Errorf("send interaction: resolved channel %s: %w", id, ErrNotFound)
				}
				channels[id] = s.channelJSONLocked(c)
			case discordgo.ApplicationCommandOptionRole:
				if gs == nil || findRole(gs, id) == nil {
					return fmt.Errorf("send interaction: resolved role %s: %w", id, ErrNotFound)
				}
				r := *findRole(gs, id)
				roles[id] = &r
			case discordgo.ApplicationCommandOptionAttachment:
				a, err := s.resolvedAttachmentLocked(id)
				if err != nil {
					return err
				}
				attachments[id] = a
			case discordgo.ApplicationCommandOptionMentionable:
				if gs != nil && findRole(gs, id) != nil {
					r := *findRole(gs, id)
					roles[id] = &r
				} else if err := addUser(id); err != nil {
					return err
				}
			}
			if err := walk(o.Options); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(in.Options); err != nil {
		return nil, err
	}
	switch ctype {
	case discordgo.UserApplicationCommand:
		if err := addUser(in.TargetID); err != nil {
			return nil, err
		}
	case discordgo.MessageApplicationCommand:
		m, err := s.componentMessageLocked(cs, in.TargetID)
		if err != nil {
			return nil, err
		}
		messages[in.TargetID] = m
	}
	data := map[string]any{
		"id":      cmdID,
		"name":    in.Command,
		"type":    ctype,
		"options": in.Options,
		"resolved": map[string]any{
			"users": users, "members": members, "channels": channels, "roles": roles, "messages": messages,
			"attachments": attachments,
		},
	}
	if in.TargetID != "" {
		data["target_id"] = in.TargetID
	}
	if in.GuildID != "" {
		data["guild_id"] = in.GuildID
	}
	return data, nil
}

func (s *Server) componentMessageLocked(cs *channelState, messageID string) (json.RawMessage, error) {
	m, ok := cs.byID[messageID]
	if !ok {
		return nil, fmt.Errorf("send interaction: message %q in channel %s: %w", messageID, cs.ch.ID, ErrNotFound)
	}
	return s.messageWireLocked(m)
}

// UserMessage is a message a user posts, for SendMessage.
type UserMessage struct {
	ChannelID string
	AuthorID  string
	Content   string
	// ReplyTo is the id of a message in the same channel this one replies to.
	ReplyTo string
	Files   []File
}

// SendMessage stores a message from a user and dispatches MESSAGE_CREATE to
// the connected sessions (if none is, the message is only stored).
// Sessions without the MESSAGE_CONTENT intent get it without content, embeds
// and attachments unless it is a DM or mentions the bot, as on Discord.
func (s *Server) SendMessage(um UserMessage) (*discordgo.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs, ok := s.channels[um.ChannelID]
	if !ok {
		return nil, fmt.Errorf("send message: channel %s: %w", um.ChannelID, ErrNotFound)
	}
	us, ok := s.users[um.AuthorID]
	if !ok {
		return nil, fmt.Errorf("send message: author %s: %w", um.AuthorID, ErrNotFound)
	}
	if gs := s.guilds[cs.ch.GuildID]; gs != nil && gs.members[um.AuthorID] == nil {
		return nil, fmt.Errorf("send message: author %s is not a member of guild %s: %w", um.AuthorID, cs.ch.GuildID, ErrNotFound)
	}
	content := um.Content
	d := &decoded{p: messagePayload{Content: &content}, files: um.Files}
	if um.ReplyTo != "" {
		d.p.MessageReference = &discordgo.MessageReference{MessageID: um.ReplyTo}
	}
	m, aerr := s.newMessageLocked(cs, us.user, d, discordgo.MessageTypeDefault)
	if aerr != nil {
		return nil, fmt.Errorf("send message: %w", aerr)
	}
	for _, id := range mentionedIDs(content) {
		if mu, ok := s.users[id]; ok {
			u := mu.user
			m.msg.Mentions = append(m.msg.Mentions, &u)
		}
	}
	// With no bot connected the message is still stored: seeding history
	// before the bot starts is a valid setup, as on Discord.
	if err := s.dispatchMessageLocked("MESSAGE_CREATE", cs, m); err != nil && !errors.Is(err, ErrNoSession) {
		return nil, fmt.Errorf("send message: %w", err)
	}
	s.bumpLocked()
	snap, err := s.snapshotLocked(m)
	if err != nil {
		return nil, err
	}
	return &snap.Message, nil
}

// mentionedIDs returns the user ids mentioned as <@id> or <@!id>.
func mentionedIDs(content string) []string {
	var ids []string
	for {
		i := strings.Index(content, "<@")
		if i < 0 {
			return ids
		}
		content = content[i+2:]
		content = strings.TrimPrefix(content, "!")
		j := strings.IndexByte(content, '>')
		if j < 0 {
			return ids
		}
		if _, err := strconv.ParseUint(content[:j], 10, 64); err == nil {
			ids = append(ids, content[:j])
		}
		content = content[j+1:]
	}
}

// dispatchMessageLocked sends MESSAGE_CREATE or MESSAGE_UPDATE for a stored
// message. Ephemeral messages are not dispatched.
func (s *Server) dispatchMessageLocked(typ string, cs *channelState, m *storedMessage) error {
	if m.msg.Flags&discordgo.MessageFlagsEphemeral != 0 {
		return nil
	}
	raw, err := s.messageWireLocked(m)
	if err != nil {
		return err
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return fmt.Errorf("discordtest: re-read message: %w", err)
	}
	intents := discordgo.IntentDirectMessages
	if gs := s.guilds[cs.ch.GuildID]; gs != nil {
		intents = discordgo.IntentGuildMessages
		if mem := s.memberJSONLocked(gs, m.msg.Author.ID); mem != nil {
			mem.User = nil
			obj["member"], _ = json.Marshal(mem)
		}
	}
	full, err := json.Marshal(obj)
	if err != nil {
		return fmt.Errorf("discordtest: marshal message: %w", err)
	}
	d := dispatch{typ: typ, data: json.RawMessage(full), intents: intents, guild: cs.ch.GuildID}
	mentionsBot := slices.ContainsFunc(m.msg.Mentions, func(u *discordgo.User) bool { return u.ID == s.bot.ID })
	if cs.ch.GuildID != "" && m.msg.Author.ID != s.bot.ID && !mentionsBot {
		obj["content"] = json.RawMessage(`""`)
		obj["embeds"] = json.RawMessage(`[]`)
		obj["attachments"] = json.RawMessage(`[]`)
		obj["components"] = json.RawMessage(`[]`)
		red, err := json.Marshal(obj)
		if err != nil {
			return fmt.Errorf("discordtest: marshal message: %w", err)
		}
		d.redacted = json.RawMessage(red)
	}
	return s.dispatchLocked(d)
}

// dispatchDeleteLocked sends MESSAGE_DELETE.
func (s *Server) dispatchDeleteLocked(cs *channelState, m *storedMessage) error {
	if m.msg.Flags&discordgo.MessageFlagsEphemeral != 0 {
		return nil
	}
	intents := discordgo.IntentDirectMessages
	data := map[string]string{"id": m.msg.ID, "channel_id": cs.ch.ID}
	if cs.ch.GuildID != "" {
		intents = discordgo.IntentGuildMessages
		data["guild_id"] = cs.ch.GuildID
	}
	return s.dispatchLocked(dispatch{typ: "MESSAGE_DELETE", data: data, intents: intents, guild: cs.ch.GuildID})
}

// parseEmoji reads "👍" or a custom "name:id" (an optional leading "<:" / "<a:"
// and trailing ">" are accepted).
func parseEmoji(s string) (discordgo.Emoji, error) {
	s = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(s, "<a:"), "<:"), ">")
	if s == "" {
		return discordgo.Emoji{}, errors.New("discordtest: empty emoji")
	}
	if name, id, ok := strings.Cut(s, ":"); ok {
		if _, err := strconv.ParseUint(id, 10, 64); err != nil || name == "" {
			return discordgo.Emoji{}, fmt.Errorf("discordtest: bad custom emoji %q", s)
		}
		return discordgo.Emoji{Name: name, ID: id}, nil
	}
	return discordgo.Emoji{Name: s}, nil
}

func emojiKey(e discordgo.Emoji) string {
	if e.ID != "" {
		return e.ID
	}
	return e.Name
}

// AddReaction adds a user's reaction to a message and dispatches
// MESSAGE_REACTION_ADD to the connected sessions, if any. emoji is a unicode
// emoji or "name:id".
func (s *Server) AddReaction(channelID, messageID, userID, emoji string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reactLocked(channelID, messageID, userID, emoji, true); err != nil && !errors.Is(err, ErrNoSession) {
		return fmt.Errorf("add reaction: %w", err)
	}
	return nil
}

// RemoveReaction removes a user's reaction and dispatches MESSAGE_REACTION_REMOVE.
func (s *Server) RemoveReaction(channelID, messageID, userID, emoji string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.reactLocked(channelID, messageID, userID, emoji, false); err != nil && !errors.Is(err, ErrNoSession) {
		return fmt.Errorf("remove reaction: %w", err)
	}
	return nil
}

// reactLocked adds or removes a reaction and dispatches the event; adding a
// reaction twice or removing a missing one changes nothing and sends nothing.
func (s *Server) reactLocked(channelID, messageID, userID, emoji string, add bool) error {
	cs, ok := s.channels[channelID]
	if !ok {
		return fmt.Errorf("channel %s: %w", channelID, ErrNotFound)
	}
	m, ok := cs.byID[messageID]
	if !ok {
		return fmt.Errorf("message %s: %w", messageID, ErrNotFound)
	}
	if _, ok := s.users[userID]; !ok {
		return fmt.Errorf("user %s: %w", userID, ErrNotFound)
	}
	e, err := parseEmoji(emoji)
	if err != nil {
		return err
	}
	key := emojiKey(e)
	i := slices.IndexFunc(m.reactions, func(r *reactionState) bool { return emojiKey(r.emoji) == key })
	if add {
		if i < 0 {
			m.reactions = append(m.reactions, &reactionState{emoji: e})
			i = len(m.reactions) - 1
		}
		r := m.reactions[i]
		if slices.Contains(r.users, userID) {
			return nil
		}
		r.users = append(r.users, userID)
	} else {
		if i < 0 || !slices.Contains(m.reactions[i].users, userID) {
			return nil
		}
		r := m.reactions[i]
		r.users = slices.DeleteFunc(r.users, func(u string) bool { return u == userID })
		if len(r.users) == 0 {
			m.reactions = slices.Delete(m.reactions, i, i+1)
		}
	}
	s.bumpLocked()
	data := map[string]any{
		"user_id":    userID,
		"channel_id": channelID,
		"message_id": messageID,
		"emoji":      e,
		"burst":      false,
		"type":       0,
	}
	intents := discordgo.IntentDirectMessageReactions
	if gs := s.guilds[cs.ch.GuildID]; gs != nil {
		intents = discordgo.IntentGuildMessageReactions
		data["guild_id"] = cs.ch.GuildID
		if add {
			data["member"] = s.memberJSONLocked(gs, userID)
		}
	}
	typ := "MESSAGE_REACTION_REMOVE"
	if add {
		typ = "MESSAGE_REACTION_ADD"
		data["message_author_id"] = m.msg.Author.ID
	}
	return s.dispatchLocked(dispatch{typ: typ, data: data, intents: intents, guild: cs.ch.GuildID})
}

// SendGuildCreate dispatches GUILD_CREATE for a guild, as when the bot joins it
// or it becomes available.
func (s *Server) SendGuildCreate(guildID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	gs, ok := s.guilds[guildID]
	if !ok {
		return fmt.Errorf("send guild create: guild %s: %w", guildID, ErrNotFound)
	}
	return s.dispatchLocked(dispatch{typ: "GUILD_CREATE", data: s.guildJSONLocked(gs, true), intents: discordgo.IntentGuilds, guild: guildID})
}

// SendMemberAdd adds a member (see AddMember) and dispatches
// GUILD_MEMBER_ADD; it returns ErrNoSession (with the member added) when no
// session exists.
func (s *Server) SendMemberAdd(guildID string, m discordgo.Member) (*discordgo.Member, error) {
	mem, err := s.AddMember(guildID, m)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return mem, s.dispatchLocked(dispatch{typ: "GUILD_MEMBER_ADD", data: mem, intents: discordgo.IntentGuildMembers, guild: guildID})
}

func newToken() string {
	var b [48]byte
	_, _ = rand.Read(b[:])
	return "aW50ZXJhY3Rpb246" + base64.RawURLEncoding.EncodeToString(b[:])
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

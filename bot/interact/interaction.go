package interact

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/hordebot/hordebot/bot/interact/locale"
	"github.com/hordebot/hordebot/horde"
)

// DeferMode is how the router acknowledges an interaction before its handler
// runs: Discord wants an answer within 3 s, so anything that may be slow is
// deferred first.
type DeferMode int

// The ways to acknowledge.
const (
	DeferNone      DeferMode = iota // the handler answers itself, quickly
	DeferPublic                     // "thinking...", visible to the channel
	DeferEphemeral                  // "thinking...", visible to the caller only
)

// Reply is a message to send as an interaction response, an edit of it, or
// a follow-up.
type Reply struct {
	Content    string
	Embeds     []*discordgo.MessageEmbed
	Components []discordgo.MessageComponent
	Files      []*discordgo.File
	Ephemeral  bool // only for a first response or a follow-up
	// ReplaceFiles, for an edit, removes the message's earlier attachments:
	// Files (if any) replace them. Without it an edit keeps them and adds Files.
	ReplaceFiles bool
}

// Interaction is one interaction being handled: the event, the session it
// came on, the caller (as a Discord user and as a horde user) and the state
// of its response. It is safe for concurrent use.
type Interaction struct {
	S      *discordgo.Session
	I      *discordgo.Interaction
	Caller *discordgo.User   // who clicked or typed
	Member *discordgo.Member // nil in DMs
	User   horde.User        // the caller's horde user; set by the router before the handler runs

	retry   Retrier
	respond Responder
	printer *locale.Printer // the caller's language (Locale, else GuildLocale, else English)

	mu        sync.Mutex
	acked     bool // an initial response was sent
	deferred  bool // that response was a deferral
	ephemeral bool // that response was ephemeral
}

// Responder sends an interaction's initial response (a message, a
// deferral, choices): over REST for an interaction that came by the gateway,
// in the HTTP answer for one POSTed to the interactions endpoint. Edits and
// follow-ups always go over REST. It is called at most once.
type Responder func(ctx context.Context, resp *discordgo.InteractionResponse) error

// New wraps an interaction event; retry tunes the retries of its edits and
// follow-ups. Its initial response goes over REST (see NewWithResponder).
func New(s *discordgo.Session, i *discordgo.Interaction, retry Retrier) *Interaction {
	return NewWithResponder(s, i, retry, nil)
}

// NewWithResponder is New with the initial response sent by respond (nil:
// over REST with s).
func NewWithResponder(s *discordgo.Session, i *discordgo.Interaction, retry Retrier, respond Responder) *Interaction {
	if respond == nil {
		respond = func(ctx context.Context, resp *discordgo.InteractionResponse) error {
			return s.InteractionRespond(i, resp, discordgo.WithContext(ctx))
		}
	}
	ix := &Interaction{S: s, I: i, Member: i.Member, retry: retry, respond: respond,
		printer: locale.Default().For(i.Locale, guildLocale(i))}
	switch {
	case i.Member != nil && i.Member.User != nil:
		ix.Caller = i.Member.User
	case i.User != nil:
		ix.Caller = i.User
	default:
		ix.Caller = &discordgo.User{}
	}
	return ix
}

// NewDeferred wraps an interaction that an earlier run (or another
// process) already acknowledged with a deferral, ephemeral or not: its
// replies are edits of that "thinking…" response, over REST with s.
func NewDeferred(s *discordgo.Session, i *discordgo.Interaction, retry Retrier, ephemeral bool) *Interaction {
	ix := New(s, i, retry)
	ix.acked, ix.deferred, ix.ephemeral = true, true, ephemeral
	return ix
}

// guildLocale is the guild's preferred locale an interaction carries ("" in DMs).
func guildLocale(i *discordgo.Interaction) discordgo.Locale {
	if i.GuildLocale == nil {
		return ""
	}
	return *i.GuildLocale
}

// Printer is the caller's language: their Discord locale when the bot
// speaks it, else the guild's, else English.
func (ix *Interaction) Printer() *locale.Printer {
	if ix.printer == nil { // an Interaction not made by New
		return locale.Default().English()
	}
	return ix.printer
}

// T is the message of key in the caller's language, with data in its
// placeholders (locale.Printer.T).
func (ix *Interaction) T(key string, data locale.Args) string { return ix.Printer().T(key, data) }

// InGuild reports whether the interaction happened in a guild (not a DM).
func (ix *Interaction) InGuild() bool { return ix.I.GuildID != "" }

// CreatedAt is when Discord created the interaction (from its snowflake);
// its token is valid for 15 minutes from then.
func (ix *Interaction) CreatedAt() time.Time {
	t, err := discordgo.SnowflakeTimestamp(ix.I.ID)
	if err != nil {
		return time.Now()
	}
	return t
}

// Acked reports whether an initial response was sent.
func (ix *Interaction) Acked() bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.acked
}

// Ephemeral reports whether the interaction's response, once sent, is
// visible to the caller only.
func (ix *Interaction) Ephemeral() bool {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.ephemeral
}

// Defer acknowledges the interaction with a "thinking..." state; the answer
// comes later with Reply. It does nothing if already acknowledged.
func (ix *Interaction) Defer(ctx context.Context, ephemeral bool) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.acked {
		return nil
	}
	resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource}
	if ephemeral {
		resp.Data = &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral}
	}
	// One try only for the callback: a retry of a callback that did arrive is
	// refused by Discord anyway, and the 3 s window leaves no room for backoff.
	if err := ix.respond(ctx, resp); err != nil {
		return fmt.Errorf("defer interaction: %w", err)
	}
	ix.acked, ix.deferred, ix.ephemeral = true, true, ephemeral
	return nil
}

// Reply answers the interaction: the first response if none was sent yet,
// otherwise an edit of the original response (whose visibility was fixed
// when it was deferred).
func (ix *Interaction) Reply(ctx context.Context, r Reply) error {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if !ix.acked {
		data := &discordgo.InteractionResponseData{
			Content:         r.Content,
			Embeds:          r.Embeds,
			Components:      r.Components,
			Files:           r.Files,
			AllowedMentions: MentionUsersOnly(),
		}
		if r.Ephemeral {
			data.Flags = discordgo.MessageFlagsEphemeral
		}
		resp := &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: data}
		if err := ix.respond(ctx, resp); err != nil {
			return fmt.Errorf("respond to interaction: %w", err)
		}
		ix.acked, ix.ephemeral = true, r.Ephemeral
		return nil
	}
	return ix.retry.Do(ctx, "edit interaction response", func(opts ...discordgo.RequestOption) error {
		RewindFiles(r.Files)
		_, err := ix.S.InteractionResponseEdit(ix.I, r.WebhookEdit(), opts...)
		return err
	})
}

// Followup sends another message on the interaction's token.
func (ix *Interaction) Followup(ctx context.Context, r Reply) (*discordgo.Message, error) {
	params := &discordgo.WebhookParams{
		Content:         r.Content,
		Embeds:          r.Embeds,
		Components:      r.Components,
		Files:           r.Files,
		AllowedMentions: MentionUsersOnly(),
	}
	if r.Ephemeral {
		params.Flags = discordgo.MessageFlagsEphemeral
	}
	var m *discordgo.Message
	err := ix.retry.Do(ctx, "send follow-up", func(opts ...discordgo.RequestOption) error {
		var err error
		RewindFiles(r.Files)
		m, err = ix.S.FollowupMessageCreate(ix.I, true, params, opts...)
		return err
	})
	return m, err
}

// Fail tells the caller, privately, that something went wrong: an
// ephemeral response, or an edit of an ephemeral deferral, or (after a
// public deferral) the public "thinking..." is removed and an ephemeral
// follow-up carries the text.
func (ix *Interaction) Fail(ctx context.Context, text string) error {
	ix.mu.Lock()
	acked, deferred, ephemeral := ix.acked, ix.deferred, ix.ephemeral
	ix.mu.Unlock()
	switch {
	case !acked:
		return ix.Reply(ctx, Reply{Content: text, Ephemeral: true})
	case ephemeral:
		return ix.Reply(ctx, Reply{Content: text, Components: []discordgo.MessageComponent{}})
	case deferred:
		if err := ix.retry.Do(ctx, "delete deferred response", func(opts ...discordgo.RequestOption) error {
			return ix.S.InteractionResponseDelete(ix.I, opts...)
		}); err != nil && !IsNotFound(err) {
			// The public placeholder stays; say it there rather than nowhere.
			return ix.Reply(ctx, Reply{Content: text, Components: []discordgo.MessageComponent{}})
		}
		_, err := ix.Followup(ctx, Reply{Content: text, Ephemeral: true})
		return err
	default:
		_, err := ix.Followup(ctx, Reply{Content: text, Ephemeral: true})
		return err
	}
}

// Autocomplete answers an autocomplete interaction with choices (at most 25).
func (ix *Interaction) Autocomplete(ctx context.Context, choices []*discordgo.ApplicationCommandOptionChoice) error {
	if len(choices) > 25 {
		choices = choices[:25]
	}
	if choices == nil {
		choices = []*discordgo.ApplicationCommandOptionChoice{}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	err := ix.respond(ctx, &discordgo.InteractionResponse{
		Type: discordgo.InteractionApplicationCommandAutocompleteResult,
		Data: &discordgo.InteractionResponseData{Choices: choices},
	})
	if err != nil {
		return fmt.Errorf("answer autocomplete: %w", err)
	}
	ix.acked = true
	return nil
}

// WebhookEdit is the reply as an edit of an interaction's original response
// (or of a message sent on its token): nil embeds and components are left
// as they are.
func (r Reply) WebhookEdit() *discordgo.WebhookEdit {
	content := r.Content
	e := &discordgo.WebhookEdit{Content: &content, Files: r.Files, AllowedMentions: MentionUsersOnly()}
	if r.Embeds != nil {
		e.Embeds = &r.Embeds
	}
	if r.Components != nil {
		e.Components = &r.Components
	}
	if r.ReplaceFiles {
		// Discord keeps the attachments an edit's "attachments" lists, and
		// adds the edit's new files: an empty list drops every earlier one.
		none := []*discordgo.MessageAttachment{}
		e.Attachments = &none
	}
	return e
}

// MentionUsersOnly keeps the bot's messages from pinging anyone but the users it
// names on purpose (results mention their requester): roles and @everyone
// in a member's prompt stay inert.
func MentionUsersOnly() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{discordgo.AllowedMentionTypeUsers}}
}

// RewindFiles puts the readers of files back at their start, so that a
// retried request sends the whole files again.
func RewindFiles(files []*discordgo.File) {
	for _, f := range files {
		if sk, ok := f.Reader.(io.Seeker); ok {
			_, _ = sk.Seek(0, io.SeekStart)
		}
	}
}
